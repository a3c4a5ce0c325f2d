package registrar

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"time"
)

// Registrar is the location service: it answers REGISTER requests and tells
// the router which contacts a user has. It is safe for concurrent use. Its
// limits and local domains come from the current graph and may change on
// every reload (SetPolicy); its bindings survive reloads and, through the
// Store, restarts.
type Registrar struct {
	store  Store
	ix     *index
	policy atomic.Pointer[Policy]
	now    func() time.Time
}

// Policy is what the current policy says about registrations.
type Policy struct {
	Limits
	// IsLocal reports whether a To host is one of the proxy's domains; a
	// REGISTER for any other domain is refused with 404, never relayed.
	IsLocal func(host string) bool
}

// New loads the bindings of store, dropping the expired ones, and returns a
// registrar that writes through to it.
func New(store Store, p Policy) (*Registrar, error) {
	r := &Registrar{store: store, ix: newIndex(), now: timeNow}
	r.policy.Store(&p)
	all, err := store.Load()
	if err != nil {
		return nil, err
	}
	now := r.now().UnixNano()
	byUser := make(map[string][]Binding)
	var stale []string
	for _, b := range all {
		if b.Live(now) {
			byUser[b.User] = append(byUser[b.User], b)
		} else {
			stale = append(stale, b.User)
		}
	}
	for u, bs := range byUser {
		r.ix.set(r.ix.shardOf(u), u, bs)
	}
	for _, u := range stale {
		if err := store.Put(u, byUser[u]); err != nil {
			return nil, fmt.Errorf("drop expired bindings: %w", err)
		}
	}
	return r, nil
}

// SetPolicy installs the limits of a new graph (on reload).
func (r *Registrar) SetPolicy(p Policy) { r.policy.Store(&p) }

// Register applies a REGISTER (RFC 3261 §10.3) and returns the answer. A
// REGISTER without Contact only queries the bindings.
func (r *Registrar) Register(req *Request) Result {
	p := r.policy.Load()
	if req.User == "" || p.IsLocal == nil || !p.IsLocal(req.Domain) {
		return fail(404, "Not Found")
	}
	s := r.ix.shardOf(req.User)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	now := r.now()
	cur := r.ix.get(req.User)
	if !req.Star && len(req.Contacts) == 0 {
		return Result{Status: 200, Reason: "OK", Bindings: live(cur, now.UnixNano())}
	}
	next, res := apply(p.Limits, cur, req, now)
	if res.Status != 0 {
		return res
	}
	if err := r.store.Put(req.User, next); err != nil {
		return fail(500, "Registrations Store Unavailable")
	}
	r.ix.set(s, req.User, next)
	return Result{Status: 200, Reason: "OK", Bindings: next}
}

// Registered reports whether user has a live binding. It does not allocate.
func (r *Registrar) Registered(user string) bool {
	now := r.now().UnixNano()
	bs := r.ix.get(user)
	for i := range bs {
		if bs[i].Live(now) {
			return true
		}
	}
	return false
}

// Contacts appends the live bindings of user to dst, ordered for forking:
// highest q first, then most recently registered first.
func (r *Registrar) Contacts(user string, dst []Binding) []Binding {
	now := r.now().UnixNano()
	start := len(dst)
	for _, b := range r.ix.get(user) {
		if b.Live(now) {
			dst = append(dst, b)
		}
	}
	SortByQ(dst[start:])
	return dst
}

// SortByQ orders bindings highest q first, the most recent first among
// equal q.
func SortByQ(bs []Binding) {
	slices.SortStableFunc(bs, byQ)
}

func byQ(a, b Binding) int {
	if qa, qb := a.Rank(), b.Rank(); qa != qb {
		return qb - qa
	}
	return cmp.Compare(b.Updated, a.Updated)
}

// All returns every live binding, by user then q (admin listing).
func (r *Registrar) All() []Binding {
	now := r.now().UnixNano()
	var out []Binding
	for i := range r.ix.shard {
		for _, bs := range r.ix.shard[i].snapshot() {
			out = append(out, live(bs, now)...)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].User < out[j].User })
	return out
}

// Count is the number of bindings held, expired ones not yet swept included
// (the bindings gauge).
func (r *Registrar) Count() int { return int(r.ix.count.Load()) }

// Run expires bindings every interval until ctx ends, removing them from
// memory and from the store. Lookups already ignore expired bindings, so
// the sweep only reclaims space.
func (r *Registrar) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.Sweep()
		}
	}
}

// Sweep removes the bindings expired by now; it returns how many went and
// the first store error.
func (r *Registrar) Sweep() (int, error) {
	removed := 0
	var firstErr error
	for i := range r.ix.shard {
		n, err := r.sweepShard(&r.ix.shard[i])
		removed += n
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return removed, firstErr
}

func (r *Registrar) sweepShard(s *shard) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	now := r.now().UnixNano()
	removed := 0
	for u, bs := range s.expired(now) {
		keep := live(bs, now)
		if len(keep) == len(bs) {
			continue
		}
		if err := r.store.Put(u, keep); err != nil {
			return removed, err
		}
		r.ix.set(s, u, keep)
		removed += len(bs) - len(keep)
	}
	return removed, nil
}

// live returns the bindings of bs not expired at now, sharing bs when all
// are.
func live(bs []Binding, now int64) []Binding {
	for i := range bs {
		if !bs[i].Live(now) {
			out := make([]Binding, 0, len(bs)-1)
			for j := range bs {
				if bs[j].Live(now) {
					out = append(out, bs[j])
				}
			}
			return out
		}
	}
	return bs
}

// Close closes the store.
func (r *Registrar) Close() error { return r.store.Close() }

// timeNow is the clock of new registrars (tests replace it).
var timeNow = time.Now
