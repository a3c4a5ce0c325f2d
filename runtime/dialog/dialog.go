// Package dialog is the proxy's dialog table: every call it relays, from
// the initial INVITE to its end, keyed by Call-ID and From tag, whatever
// its target is (a pool member, a registered contact, a carrier: any
// graph ID). It keeps a count of active dialogs per target, which carrier
// limits and the admin API read, and tells an Accounting of each target
// kind when a call starts, moves or ends (pool members: runtime/state,
// whose balancing reads its own lock-free counters).
//
// In-dialog requests are routed and validated against this table.
package dialog

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/target"
)

// numShards is the number of table shards: enough that concurrent call
// starts and ends rarely meet on one mutex.
const numShards = 64

// Dialog is a call the proxy tracks.
type Dialog struct {
	CallID  string `json:"call_id"`
	FromTag string `json:"from_tag"`
	ToTag   string `json:"to_tag,omitempty"`
	// Target is the graph ID the call is sent to; Group what it belongs
	// to (pool, address of record); Addr and Transport where it is.
	Target    graph.ID `json:"target"`
	Group     graph.ID `json:"group,omitempty"`
	Addr      string   `json:"addr"`
	Transport string   `json:"transport"`
	// Caller and Callee are the user parts of From and of the R-URI.
	Caller      string    `json:"caller"`
	Callee      string    `json:"callee"`
	Started     time.Time `json:"started"`
	Established bool      `json:"established"`
	// Answered is when the 2xx came; Acked whether the caller's ACK for
	// it went through the proxy since (ExpireUnacked).
	Answered time.Time `json:"-"`
	Acked    bool      `json:"-"`
	// Legs holds what the proxy learnt of each party from the INVITE and
	// its 2xx (Record and Answer); nil until Record is called.
	Legs *Legs `json:"-"`
	// CallerCSeq and CalleeCSeq are the highest CSeq numbers seen in
	// requests from each party (0: none yet from the callee).
	CallerCSeq uint32 `json:"-"`
	CalleeCSeq uint32 `json:"-"`
}

// Accounting is told of the calls of one kind of target, so that the
// target's own state (member call counts, affinity) follows the table.
type Accounting interface {
	// Start counts a new call on t.
	Start(t target.Target, callID, fromTag, caller, callee string)
	// Moved counts the pending call on to instead.
	Moved(callID, fromTag string, to target.Target)
	// Established records the dialog's To tag.
	Established(callID, fromTag, toTag string)
	// End stops counting the call.
	End(callID, fromTag string)
}

// Table is the dialog table. It is safe for concurrent use.
type Table struct {
	shards [numShards]shard
	// counts maps a target ID to its *atomic.Int64 of active dialogs. A
	// sync.Map: the keys are stable, so reads take no lock.
	counts sync.Map
	// members is told of calls whose target is a pool member, carriers of
	// calls whose target is a carrier; nil: none.
	members  Accounting
	carriers Accounting
	now      func() time.Time
}

type shard struct {
	mu sync.Mutex
	m  map[string]*entry
	_  [48]byte // keeps neighbouring shards' mutexes off one cache line
}

type entry struct {
	d     Dialog
	count *atomic.Int64
	next  *entry
}

// New returns an empty table; members (may be nil) accounts for the calls
// to pool members.
func New(members Accounting) *Table {
	t := &Table{members: members, now: time.Now}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*entry)
	}
	return t
}

func (t *Table) shardFor(callID string) *shard {
	return &t.shards[graph.HashString(callID)%numShards]
}

func (t *Table) counter(id graph.ID) *atomic.Int64 {
	if c, ok := t.counts.Load(id); ok {
		return c.(*atomic.Int64)
	}
	c, _ := t.counts.LoadOrStore(id, new(atomic.Int64))
	return c.(*atomic.Int64)
}

// Active returns the dialogs to target id in progress now.
func (t *Table) Active(id graph.ID) int {
	if c, ok := t.counts.Load(id); ok {
		return int(max(c.(*atomic.Int64).Load(), 0))
	}
	return 0
}

func (sh *shard) find(callID, fromTag string) *entry {
	for e := sh.m[callID]; e != nil; e = e.next {
		if e.d.FromTag == fromTag {
			return e
		}
	}
	return nil
}

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

// Start records an initial request sent to tg. Starting a dialog that is
// already tracked moves it to tg instead of counting it twice.
func (t *Table) Start(tg target.Target, callID, fromTag, caller, callee string) {
	sh := t.shardFor(callID)
	sh.mu.Lock()
	if e := sh.find(callID, fromTag); e != nil {
		t.moveLocked(e, tg)
		sh.mu.Unlock()
		t.account(tg, func(a Accounting) { a.Moved(callID, fromTag, tg) })
		return
	}
	e := &entry{d: Dialog{CallID: callID, FromTag: fromTag, Caller: caller, Callee: callee, Started: t.now()}}
	e.setTarget(tg)
	e.count = t.counter(tg.ID)
	e.count.Add(1)
	if head := sh.m[callID]; head == nil {
		sh.m[callID] = e
	} else {
		for head.next != nil {
			head = head.next
		}
		head.next = e
	}
	sh.mu.Unlock()
	t.account(tg, func(a Accounting) { a.Start(tg, callID, fromTag, caller, callee) })
}

func (e *entry) setTarget(tg target.Target) {
	e.d.Target, e.d.Group, e.d.Addr, e.d.Transport = tg.ID, tg.Group, tg.Addr, tg.Transport
}

// CountCarriers makes carriers the Accounting told of calls to carriers
// (Start and Moved); call it before the table is used.
func (t *Table) CountCarriers(carriers Accounting) { t.carriers = carriers }

// account calls fn with the Accounting of tg's kind, if any.
func (t *Table) account(tg target.Target, fn func(Accounting)) {
	switch {
	case tg.Member != nil && t.members != nil:
		fn(t.members)
	case tg.Carrier != nil && t.carriers != nil:
		fn(t.carriers)
	}
}

// Moved records that failover sent the pending call to another target.
func (t *Table) Moved(callID, fromTag string, to target.Target) {
	sh := t.shardFor(callID)
	sh.mu.Lock()
	e := sh.find(callID, fromTag)
	if e != nil {
		t.moveLocked(e, to)
	}
	sh.mu.Unlock()
	if e != nil {
		t.account(to, func(a Accounting) { a.Moved(callID, fromTag, to) })
	}
}

func (t *Table) moveLocked(e *entry, to target.Target) {
	if c := t.counter(to.ID); c != e.count {
		e.count.Add(-1)
		c.Add(1)
		e.count = c
	}
	e.setTarget(to)
}

// Established records the 2xx of a tracked dialog and its To tag.
func (t *Table) Established(callID, fromTag, toTag string) {
	sh := t.shardFor(callID)
	sh.mu.Lock()
	e := sh.find(callID, fromTag)
	if e != nil {
		e.d.ToTag, e.d.Established, e.d.Answered = toTag, true, t.now()
	}
	sh.mu.Unlock()
	if e != nil && t.members != nil {
		t.members.Established(callID, fromTag, toTag)
	}
}

// End ends a dialog and returns it; false when it is not tracked (any
// more), so it is safe to call more than once.
func (t *Table) End(callID, fromTag string) (Dialog, bool) {
	sh := t.shardFor(callID)
	sh.mu.Lock()
	e := sh.remove(callID, fromTag)
	if e != nil {
		e.count.Add(-1)
	}
	sh.mu.Unlock()
	if e == nil {
		return Dialog{}, false
	}
	if t.members != nil {
		t.members.End(callID, fromTag)
	}
	if t.carriers != nil {
		t.carriers.End(callID, fromTag)
	}
	return e.d, true
}

// Lookup returns the dialog with this Call-ID (the oldest when several
// From tags share it).
func (t *Table) Lookup(callID string) (Dialog, bool) {
	sh := t.shardFor(callID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.m[callID]; e != nil {
		return e.d, true
	}
	return Dialog{}, false
}

// Dialogs returns the dialogs in progress, sorted by start time.
func (t *Table) Dialogs() []Dialog {
	var out []Dialog
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, head := range sh.m {
			for e := head; e != nil; e = e.next {
				out = append(out, e.d)
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

// Expire ends and returns the dialogs started more than maxAge before now
// (the policy's max call duration), sorted by start time.
func (t *Table) Expire(maxAge time.Duration, now time.Time) []Dialog {
	return t.ExpireWith(maxAge, now, nil)
}

// ExpireWith is Expire that calls before (when not nil) with each expired
// dialog, in start order, before the accountings are told it ended: the
// proxy builds its BYEs then, while the carrier leg's state (its CSeq
// shift) is still known.
func (t *Table) ExpireWith(maxAge time.Duration, now time.Time, before func(Dialog)) []Dialog {
	cutoff := now.Add(-maxAge)
	return t.expire(func(d *Dialog) bool { return d.Started.Before(cutoff) }, before)
}

// NoAckTimeout is how long a dialog whose 2xx was never acknowledged is
// kept: 64·T1, when the UAS gives up retransmitting its 2xx and ends the
// session itself (RFC 3261 §13.3.1.4). Kamailio's dialog module has the
// same rule (noack_timeout).
const NoAckTimeout = 32 * time.Second

// ExpireUnacked ends and returns the dialogs answered more than limit
// before now whose caller never sent the ACK through the proxy: calls the
// caller gave up on while the 2xx was on its way (an overload, a caller
// that died). Without this they would count against their target until
// max_call_duration, or forever. No BYE is due: the UAS ends its side when
// its 2xx retransmissions run out, and the caller never had the call.
func (t *Table) ExpireUnacked(limit time.Duration, now time.Time) []Dialog {
	cutoff := now.Add(-limit)
	return t.expire(func(d *Dialog) bool {
		return d.Established && !d.Acked && d.Answered.Before(cutoff)
	}, nil)
}

// expire ends and returns the dialogs that gone selects, sorted by start
// time, calling before (when not nil) with each first.
func (t *Table) expire(gone func(*Dialog) bool, before func(Dialog)) []Dialog {
	var out []Dialog
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for callID, head := range sh.m {
			for e := head; e != nil; {
				next := e.next
				if gone(&e.d) {
					sh.remove(callID, e.d.FromTag)
					e.count.Add(-1)
					out = append(out, e.d)
				}
				e = next
			}
		}
		sh.mu.Unlock()
	}
	sortDialogs(out)
	for _, d := range out {
		if before != nil {
			before(d)
		}
		if t.members != nil {
			t.members.End(d.CallID, d.FromTag)
		}
		if t.carriers != nil {
			t.carriers.End(d.CallID, d.FromTag)
		}
	}
	return out
}
