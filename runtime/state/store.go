// Package state is the proxy's runtime state: member health, admin
// overrides, balancing counters, active calls and dialogs, transfer affinity.
//
// The state lives outside the immutable decision graph and is keyed by the
// graph's stable IDs, so it survives a policy reload. The per-request path
// (Pick, MemberAvailable) reads an immutable index published through an
// atomic pointer and per-member atomics: it takes no global lock and builds
// no maps. Attach rebuilds the index copy-on-write when a new graph is
// installed, carrying existing entries over by ID.
package state

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// defaultDownAfter is the consecutive-failure threshold of a pool without a
// probe block.
const defaultDownAfter = 3

// defaultRetryAfter is how long a member marked down by traffic in a pool
// without a probe block rests before new calls may test it again.
const defaultRetryAfter = 30 * time.Second

// Store is the runtime state of one proxy. It is safe for concurrent use.
// The zero value is not usable: call New, then Attach before the first
// request.
type Store struct {
	// idx is the immutable index the per-request path reads.
	idx atomic.Pointer[index]
	// mu serialises writers of the index and of overrides: Attach,
	// SetOverride, ClearOverride and the rare republish of a dialog's
	// member. Lock order: dialog shards first, then mu.
	mu        sync.Mutex
	overrides map[graph.ID]Override

	shards  [numShards]shard
	parties parties

	onChange   atomic.Pointer[ChangeFunc]
	retryAfter atomic.Int64
	// now is the clock; tests replace it before use.
	now func() time.Time
}

// ChangeFunc is told of a member's observed health change.
type ChangeFunc func(id graph.ID, up bool, reason string)

var _ graph.Members = (*Store)(nil)

// New returns an empty store. Attach a graph before serving requests.
func New() *Store {
	s := &Store{overrides: make(map[graph.ID]Override), now: time.Now}
	s.retryAfter.Store(int64(defaultRetryAfter))
	s.idx.Store(emptyIndex())
	for i := range s.shards {
		s.shards[i].m = make(map[string]*entry)
	}
	s.parties.m = make(map[string][]*entry)
	return s
}

// SetRetryAfter sets how long a member that traffic marked down in a pool
// without a probe block is kept out before new calls test it again (30s by
// default). Without this, nothing would ever bring such a member back.
func (s *Store) SetRetryAfter(d time.Duration) { s.retryAfter.Store(int64(d)) }

// OnChange registers fn to be told of every observed health change (up or
// down). Register it once at start; fn is called outside any lock of the
// store, on the goroutine that caused the change, so it must be quick.
func (s *Store) OnChange(fn ChangeFunc) { s.onChange.Store(&fn) }

// memberState is the runtime state of one member, shared by every graph
// version that declares its ID.
type memberState struct {
	id graph.ID
	// seed is the member's constant for rendezvous hashing.
	seed uint64

	// active counts calls sent to the member and not yet ended; only
	// changed under the lock of the shard that holds the dialog.
	active atomic.Int64
	// claimed counts picks for INVITEs whose calls have not started yet
	// (least-calls and resource pools only); see claims.go.
	claimed atomic.Int64
	// up is the observed health; failures counts consecutive relay
	// failures.
	up       atomic.Bool
	failures atomic.Int32
	// downByTraffic is true when relay failures (not probing) marked the
	// member down; downAt is when (unix nanoseconds), refreshed by each
	// further failure.
	downByTraffic atomic.Bool
	downAt        atomic.Int64
	// degraded is true while the member has failed often enough to be
	// marked down but is the last of its pool in service, so it stays up.
	degraded atomic.Bool
	// removed is true when the current graph no longer declares the member.
	removed atomic.Bool
	// ov is the admin override; nil when there is none. The Override it
	// points to is never written after being stored.
	ov atomic.Pointer[Override]
	// decl is the member as the newest graph declares it (or declared it).
	decl atomic.Pointer[graph.Member]

	// cur is the smooth-weighted-round-robin current weight, guarded by the
	// pool's balance mutex.
	cur int64

	// mu guards reason and changed.
	mu      sync.Mutex
	reason  string
	changed time.Time
}

func newMemberState(m *graph.Member, now time.Time) *memberState {
	ms := &memberState{id: m.ID, seed: graph.RendezvousSeed(m.ID), changed: now}
	ms.up.Store(true)
	ms.decl.Store(m)
	return ms
}

// inc counts a new call. Callers hold the dialog's shard lock.
func (ms *memberState) inc() { ms.active.Add(1) }

// dec ends a call, never going below zero.
func (ms *memberState) dec() {
	for {
		v := ms.active.Load()
		if v <= 0 {
			return
		}
		if ms.active.CompareAndSwap(v, v-1) {
			return
		}
	}
}

// calls returns the active calls, never negative.
func (ms *memberState) calls() int {
	if v := ms.active.Load(); v > 0 {
		return int(v)
	}
	return 0
}

// balanceState is a pool's balancing state, shared by every graph version
// that declares the pool's ID.
type balanceState struct {
	// rr is the round-robin counter (also rotates least-calls ties).
	rr atomic.Uint64
	// mu guards the smooth weighted round robin of the pool's members and
	// the claims of least-calls and resource pools.
	mu sync.Mutex
	// claims are picks whose calls have not started yet.
	claims []claim
}

// poolView is a pool of one graph version with its members' states, aligned
// with pool.Members.
type poolView struct {
	pool    *graph.Pool
	members []*memberState
	bal     *balanceState
}

// index is the immutable snapshot the per-request path reads. Everything in
// it is written before it is published and never after.
type index struct {
	g *graph.Graph
	// views holds the pools of the current and of the previous graph, so
	// that a request that started before a reload still balances without
	// building anything.
	views map[*graph.Pool]*poolView
	// byPtr holds the members of the current and of the previous graph.
	byPtr map[*graph.Member]*memberState
	// byID holds every known member: declared ones and removed ones that
	// still hold calls.
	byID map[graph.ID]*memberState
	// balances holds the balancing state of the current pools by ID.
	balances map[graph.ID]*balanceState
	// order lists the declared members in declaration order, then the
	// removed ones still known.
	order []*memberState
}

func emptyIndex() *index {
	return &index{
		views:    map[*graph.Pool]*poolView{},
		byPtr:    map[*graph.Member]*memberState{},
		byID:     map[graph.ID]*memberState{},
		balances: map[graph.ID]*balanceState{},
	}
}

// member returns the state of m: by pointer for the current and previous
// graph, by ID for older ones; nil when unknown.
func (ix *index) member(m *graph.Member) *memberState {
	if ms, ok := ix.byPtr[m]; ok {
		return ms
	}
	return ix.byID[m.ID]
}

// view returns the view of p. Pools of graphs older than the previous one
// get a temporary view (one allocation): only requests that straddle two
// reloads take that path.
func (ix *index) view(p *graph.Pool) *poolView {
	if v, ok := ix.views[p]; ok {
		return v
	}
	v := &poolView{pool: p, members: make([]*memberState, len(p.Members)), bal: ix.balances[p.ID]}
	if v.bal == nil {
		v.bal = &balanceState{}
	}
	for i, m := range p.Members {
		v.members[i] = ix.byID[m.ID]
	}
	return v
}

// Attach installs g: called once per installed graph (at start and at each
// reload), before requests decide on it. Member states, pool counters and
// overrides are carried over by ID; members that g no longer declares stop
// taking new calls and are kept while they hold calls.
func (s *Store) Attach(g *graph.Graph) {
	// All shards are locked so that no call starts or ends while removed
	// members are pruned: a member with zero calls stays at zero until the
	// new index is published.
	s.lockShards()
	defer s.unlockShards()
	s.mu.Lock()
	defer s.mu.Unlock()

	old := s.idx.Load()
	nx := emptyIndex()
	nx.g = g
	now := s.now()
	for _, p := range g.Pools {
		nx.views[p] = s.attachPool(old, nx, p, now)
	}
	s.keepRemoved(old, nx)
	s.keepPrevious(old, nx)
	s.idx.Store(nx)
}

// attachPool builds the view of p, carrying states over from old.
func (s *Store) attachPool(old, nx *index, p *graph.Pool, now time.Time) *poolView {
	bal := old.balances[p.ID]
	if bal == nil {
		bal = &balanceState{}
	}
	nx.balances[p.ID] = bal
	v := &poolView{pool: p, members: make([]*memberState, len(p.Members)), bal: bal}
	for i, m := range p.Members {
		ms := old.byID[m.ID]
		if ms == nil {
			ms = newMemberState(m, now)
		}
		ms.decl.Store(m)
		ms.removed.Store(false)
		if o, ok := s.overrides[m.ID]; ok {
			ms.ov.Store(&o)
		} else {
			ms.ov.Store(nil)
		}
		v.members[i] = ms
		nx.byPtr[m] = ms
		nx.byID[m.ID] = ms
		nx.order = append(nx.order, ms)
	}
	return v
}

// keepRemoved carries over the members nx no longer declares while they
// hold calls; the others are dropped. Callers hold every shard lock.
func (s *Store) keepRemoved(old, nx *index) {
	for _, ms := range old.order {
		if _, declared := nx.byID[ms.id]; declared {
			continue
		}
		ms.removed.Store(true)
		if ms.calls() > 0 {
			nx.byID[ms.id] = ms
			nx.order = append(nx.order, ms)
		}
	}
}

// keepPrevious keeps the views of the graph being replaced, so requests
// that started on it still find their pools and members without a slow
// path. Their member states are the carried-over ones (or removed ones,
// which are unavailable).
func (s *Store) keepPrevious(old, nx *index) {
	if old.g == nil || old.g == nx.g {
		return
	}
	for _, p := range old.g.Pools {
		if v, ok := old.views[p]; ok {
			nx.views[p] = v
		}
		for _, m := range p.Members {
			if ms, ok := old.byPtr[m]; ok {
				nx.byPtr[m] = ms
			}
		}
	}
}

// MemberAvailable implements graph.Members: the member is observed up (or its
// rest after traffic failures is over), declared by the current graph, not
// disabled or draining, and for a resource pool has free capacity.
func (s *Store) MemberAvailable(m *graph.Member) bool {
	ms := s.idx.Load().member(m)
	return s.available(ms, m, m.Pool)
}

// available is MemberAvailable over a resolved state; decl is the member as
// the deciding graph declares it.
func (s *Store) available(ms *memberState, decl *graph.Member, p *graph.Pool) bool {
	if ms == nil || ms.removed.Load() {
		return false
	}
	if o := ms.ov.Load(); o != nil && o.Mode != ModeEnabled && o.Mode != "" {
		return false
	}
	if !ms.up.Load() && !s.retryDue(ms, p) {
		return false
	}
	if p != nil && p.Balance == graph.BalanceResource && free(ms, decl, p.Resource) <= 0 {
		return false
	}
	return true
}

// weight is the member's effective weight: the override or the declared.
func weight(ms *memberState, decl *graph.Member) int {
	if o := ms.ov.Load(); o != nil && o.Weight != nil {
		return *o.Weight
	}
	return decl.Weight
}

// capacity is the member's effective capacity of resource.
func capacity(ms *memberState, decl *graph.Member, resource string) int {
	if o := ms.ov.Load(); o != nil {
		if c, ok := o.Capacity[resource]; ok {
			return c
		}
	}
	return decl.Capacity[resource]
}

// free is the capacity of resource left after the active calls.
func free(ms *memberState, decl *graph.Member, resource string) int {
	return capacity(ms, decl, resource) - ms.load()
}

func (s *Store) lockShards() {
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
}

func (s *Store) unlockShards() {
	for i := range s.shards {
		s.shards[i].mu.Unlock()
	}
}
