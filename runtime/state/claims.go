package state

import (
	"slices"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// claimTTL bounds how long a pick for an INVITE counts against its member
// before the call is started. The proxy starts the call microseconds after
// the pick; the bound only matters for a pick whose call never starts (the
// caller cancelled in between), which must not hold capacity for ever.
const claimTTL = 2 * time.Second

// claim is a member picked for an INVITE whose call has not started yet.
type claim struct {
	callID string
	ms     *memberState
	at     int64
}

// countsLoad reports whether p's strategy balances on the calls members
// carry, so that a pick must count at once: without that, a burst of
// INVITEs handled in parallel all see the same counts and pick the same
// member before any of their calls starts.
func countsLoad(p *graph.Pool) bool {
	return p.Balance == graph.BalanceLeastCalls || p.Balance == graph.BalanceResource
}

// load is what least-calls and resource balancing count: the member's
// active calls plus the picks not yet started.
func (ms *memberState) load() int {
	return ms.calls() + int(ms.claimed.Load())
}

// pickClaimed runs pick under the pool's balance mutex and records a claim
// for the chosen member, so that concurrent picks see it. Expired claims are
// swept first.
func (s *Store) pickClaimed(v *poolView, req *graph.Request, pick func() int) int {
	now := s.now().UnixNano()
	v.bal.mu.Lock()
	defer v.bal.mu.Unlock()
	s.sweepClaimsLocked(v.bal, now)
	i := pick()
	if i >= 0 {
		ms := v.members[i]
		ms.claimed.Add(1)
		v.bal.claims = append(v.bal.claims, claim{callID: req.CallID, ms: ms, at: now})
	}
	return i
}

// sweepClaimsLocked drops expired claims. Claims are kept in pick order,
// so the expired ones are at the front and a sweep costs only what it drops.
func (s *Store) sweepClaimsLocked(b *balanceState, now int64) {
	n := 0
	for n < len(b.claims) && now-b.claims[n].at > int64(claimTTL) {
		b.claims[n].ms.claimed.Add(-1)
		n++
	}
	if n > 0 {
		b.claims = slices.Delete(b.claims, 0, n)
	}
}

// consumeClaim turns the claim a pick made for callID on m into the call
// that StartCall or Moved now counts.
func (s *Store) consumeClaim(m *graph.Member, callID string) {
	if m.Pool == nil || !countsLoad(m.Pool) {
		return
	}
	v := s.idx.Load().view(m.Pool)
	ms := s.idx.Load().byID[m.ID]
	v.bal.mu.Lock()
	defer v.bal.mu.Unlock()
	for i, c := range v.bal.claims {
		if c.callID == callID && c.ms == ms {
			c.ms.claimed.Add(-1)
			// Order-preserving, so that sweeping stays front-only; the
			// list holds only the picks of the last few microseconds.
			v.bal.claims = slices.Delete(v.bal.claims, i, i+1)
			return
		}
	}
}
