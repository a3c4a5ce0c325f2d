package state

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// numShards is the number of dialog-table shards: enough that concurrent
// call starts and ends rarely meet on one mutex.
const numShards = 64

// Dialog is a call the proxy tracks from its INVITE to its end.
type Dialog struct {
	CallID  string   `json:"call_id"`
	FromTag string   `json:"from_tag"`
	ToTag   string   `json:"to_tag,omitempty"`
	Member  graph.ID `json:"member"`
	Pool    graph.ID `json:"pool"`
	// Caller and Callee are the user parts of From and of the R-URI.
	Caller      string    `json:"caller"`
	Callee      string    `json:"callee"`
	Started     time.Time `json:"started"`
	Established bool      `json:"established"`
}

// shard is one part of the dialog table, keyed by Call-ID. Dialogs sharing
// a Call-ID (different From-tags) are chained, oldest first, so a lookup by
// Call-ID alone needs one shard.
type shard struct {
	mu sync.Mutex
	m  map[string]*entry
	// pad keeps neighbouring shards' mutexes off one cache line.
	_ [48]byte
}

// entry is one dialog in the table.
type entry struct {
	// d is guarded by the shard lock, except CallID, FromTag, Caller,
	// Callee and Started, which never change after the entry is published.
	d Dialog
	// ms is the member state that counts this call; affinity reads it
	// without the shard lock.
	ms atomic.Pointer[memberState]
	// ended is set when the entry leaves the table, so that a late insert
	// into the party index is skipped.
	ended atomic.Bool
	next  *entry
}

func (s *Store) shardFor(callID string) *shard {
	return &s.shards[graph.HashString(callID)%numShards]
}

// find returns the dialog callID/fromTag, or nil. Callers hold sh.mu.
func (sh *shard) find(callID, fromTag string) *entry {
	for e := sh.m[callID]; e != nil; e = e.next {
		if e.d.FromTag == fromTag {
			return e
		}
	}
	return nil
}

// insert appends e to its Call-ID's chain. Callers hold sh.mu.
func (sh *shard) insert(e *entry) {
	head := sh.m[e.d.CallID]
	if head == nil {
		sh.m[e.d.CallID] = e
		return
	}
	last := head
	for last.next != nil {
		last = last.next
	}
	last.next = e
}

// remove unlinks and returns the dialog callID/fromTag, or nil. Callers hold
// sh.mu.
func (sh *shard) remove(callID, fromTag string) *entry {
	var prev *entry
	for e := sh.m[callID]; e != nil; prev, e = e, e.next {
		if e.d.FromTag != fromTag {
			continue
		}
		switch {
		case prev != nil:
			prev.next = e.next
		case e.next != nil:
			sh.m[callID] = e.next
		default:
			delete(sh.m, callID)
		}
		e.next = nil
		return e
	}
	return nil
}

// StartCall records an INVITE sent to m: the call counts as active on m at
// once. Starting a dialog that is already tracked moves it to m instead of
// counting it twice.
func (s *Store) StartCall(m *graph.Member, callID, fromTag, caller, callee string) {
	sh := s.shardFor(callID)
	sh.mu.Lock()
	defer s.consumeClaim(m, callID)
	if e := sh.find(callID, fromTag); e != nil {
		s.moveLocked(e, m)
		sh.mu.Unlock()
		return
	}
	e := &entry{d: Dialog{
		CallID: callID, FromTag: fromTag, Member: m.ID, Pool: poolID(m),
		Caller: caller, Callee: callee, Started: s.now(),
	}}
	ms := s.callState(m)
	e.ms.Store(ms)
	sh.insert(e)
	ms.inc()
	sh.mu.Unlock()
	s.parties.add(e)
}

// Established records the 2xx of a tracked dialog and its To-tag.
func (s *Store) Established(callID, fromTag, toTag string) {
	sh := s.shardFor(callID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.find(callID, fromTag); e != nil {
		e.d.ToTag, e.d.Established = toTag, true
	}
}

// EndCall ends a dialog (BYE answered, INVITE failed or cancelled) and
// returns it. Ending a dialog that is not tracked (any more) returns false
// and changes nothing, so it is safe to call more than once.
func (s *Store) EndCall(callID, fromTag string) (Dialog, bool) {
	sh := s.shardFor(callID)
	sh.mu.Lock()
	e := sh.remove(callID, fromTag)
	if e == nil {
		sh.mu.Unlock()
		return Dialog{}, false
	}
	e.ended.Store(true)
	e.ms.Load().dec()
	d := e.d
	sh.mu.Unlock()
	s.parties.remove(e)
	return d, true
}

// Moved records that failover sent the pending call to another member: the
// call counts on to from now on.
func (s *Store) Moved(callID, fromTag string, to *graph.Member) {
	defer s.consumeClaim(to, callID)
	sh := s.shardFor(callID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.find(callID, fromTag); e != nil {
		s.moveLocked(e, to)
	}
}

// moveLocked counts e on to instead of its member. Callers hold e's shard
// lock.
func (s *Store) moveLocked(e *entry, to *graph.Member) {
	ms := s.callState(to)
	if old := e.ms.Load(); old != ms {
		old.dec()
		ms.inc()
		e.ms.Store(ms)
	}
	e.d.Member, e.d.Pool = to.ID, poolID(to)
}

func poolID(m *graph.Member) graph.ID {
	if m.Pool == nil {
		return ""
	}
	return m.Pool.ID
}

// callState returns the state that counts calls of m. A member the attached
// graph does not know (a request decided on an older graph picked a member
// since removed and dropped) is registered again as removed, so that its
// calls are counted and listed until they end. Callers hold a shard lock,
// which keeps Attach from running meanwhile.
func (s *Store) callState(m *graph.Member) *memberState {
	if ms := s.idx.Load().byID[m.ID]; ms != nil {
		return ms
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.idx.Load()
	if ms := ix.byID[m.ID]; ms != nil {
		return ms
	}
	ms := ix.byPtr[m]
	if ms == nil {
		ms = newMemberState(m, s.now())
	}
	ms.removed.Store(true)
	s.republish(func(nx *index) {
		nx.byID[ms.id] = ms
		nx.order = append(nx.order, ms)
	})
	return ms
}

// republish stores a copy of the index changed by fn. byID and order are
// copied; the other maps are shared and must not be changed. Callers hold
// s.mu.
func (s *Store) republish(fn func(nx *index)) {
	nx := *s.idx.Load()
	nx.byID = maps.Clone(nx.byID)
	nx.order = slices.Clone(nx.order)
	fn(&nx)
	s.idx.Store(&nx)
}

// LookupDialog returns the dialog with this Call-ID (the oldest when
// several From-tags share it), for routing in-dialog requests.
func (s *Store) LookupDialog(callID string) (Dialog, bool) {
	sh := s.shardFor(callID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.m[callID]; e != nil {
		return e.d, true
	}
	return Dialog{}, false
}

// ActiveCalls returns the calls a member holds now; never negative, 0 for
// unknown IDs.
func (s *Store) ActiveCalls(id graph.ID) int {
	if ms := s.idx.Load().byID[id]; ms != nil {
		return ms.calls()
	}
	return 0
}

// Dialogs returns the active dialogs of member ("" for all), sorted by
// start time.
func (s *Store) Dialogs(member graph.ID) []Dialog {
	var out []Dialog
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, head := range sh.m {
			for e := head; e != nil; e = e.next {
				if member == "" || e.d.Member == member {
					out = append(out, e.d)
				}
			}
		}
		sh.mu.Unlock()
	}
	sortDialogs(out)
	return out
}

func sortDialogs(ds []Dialog) {
	slices.SortFunc(ds, func(a, b Dialog) int {
		return cmp.Or(a.Started.Compare(b.Started), cmp.Compare(a.CallID, b.CallID), cmp.Compare(a.FromTag, b.FromTag))
	})
}

// Reconcile recounts every member's active calls from the dialog table,
// corrects the counters that drifted and returns how many it corrected. It
// also drops removed members that no longer hold calls. It stops call
// starts and ends for the time of one pass over the table: run it now and
// then (every minute, say), not per request.
func (s *Store) Reconcile() (fixed int) {
	s.lockShards()
	defer s.unlockShards()
	s.mu.Lock()
	defer s.mu.Unlock()

	ix := s.idx.Load()
	counts := make(map[*memberState]int, len(ix.order))
	for i := range s.shards {
		for _, head := range s.shards[i].m {
			for e := head; e != nil; e = e.next {
				counts[s.adopt(e)]++
			}
		}
	}
	ix = s.idx.Load()
	for _, ms := range ix.order {
		if want := int64(counts[ms]); ms.active.Load() != want {
			ms.active.Store(want)
			fixed++
		}
	}
	s.pruneRemoved()
	return fixed
}

// adopt makes sure the member state counting e is the one the index knows
// for its ID, so that its calls show in ActiveCalls and Members. Callers
// hold every shard lock and s.mu.
func (s *Store) adopt(e *entry) *memberState {
	ms := e.ms.Load()
	known := s.idx.Load().byID[ms.id]
	switch {
	case known == ms:
	case known != nil:
		e.ms.Store(known)
		ms = known
	default:
		ms.removed.Store(true)
		s.republish(func(nx *index) {
			nx.byID[ms.id] = ms
			nx.order = append(nx.order, ms)
		})
	}
	return ms
}

// pruneRemoved drops removed members without calls from the index. Callers
// hold every shard lock and s.mu.
func (s *Store) pruneRemoved() {
	ix := s.idx.Load()
	drop := false
	for _, ms := range ix.order {
		if ms.removed.Load() && ms.calls() == 0 {
			drop = true
			break
		}
	}
	if !drop {
		return
	}
	s.republish(func(nx *index) {
		nx.order = slices.DeleteFunc(nx.order, func(ms *memberState) bool {
			if ms.removed.Load() && ms.calls() == 0 {
				delete(nx.byID, ms.id)
				return true
			}
			return false
		})
	})
}
