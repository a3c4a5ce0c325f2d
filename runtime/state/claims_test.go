package state

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// TestBurstOfPicksStaysLevel picks members for a burst of INVITEs in
// parallel, all before any call starts, as the proxy does when a caller
// floods it: least-calls and resource must still spread them, because each
// pick counts at once.
func TestBurstOfPicksStaysLevel(t *testing.T) {
	for _, bal := range []graph.Balance{graph.BalanceLeastCalls, graph.BalanceResource} {
		t.Run(string(bal), func(t *testing.T) {
			specs := names("a", "b", "c")
			for i := range specs {
				specs[i].cap = map[string]int{"pstn": 100}
			}
			s, p := attached(t, bal, specs...)
			// b and c already carry 5 calls each; a burst of 15 must
			// first fill a up to 5, then spread: 25 calls, level within 1.
			for i := range 10 {
				s.StartCall(p.Members[1+i%2], fmt.Sprintf("old-%d", i), "ft", "u", "v")
			}
			const n = 15
			picked := make([]*graph.Member, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					picked[i] = s.Pick(p, invite(fmt.Sprintf("burst-%d", i), "u", "v"), nil)
				}()
			}
			wg.Wait()
			for i, m := range picked {
				if m == nil {
					t.Fatalf("pick %d: no member", i)
				}
				s.StartCall(m, fmt.Sprintf("burst-%d", i), "ft", "u", "v")
			}
			lo, hi := n, 0
			var counts []int
			for _, m := range p.Members {
				c := s.ActiveCalls(m.ID)
				counts = append(counts, c)
				lo, hi = min(lo, c), max(hi, c)
			}
			if hi-lo > 1 {
				t.Errorf("active calls after the burst %v: spread %d, want at most 1", counts, hi-lo)
			}
			if left := claimsLeft(s, p); left != 0 {
				t.Errorf("%d claims left after every call started", left)
			}
		})
	}
}

// TestClaimWithoutCallExpires checks that a pick whose call never starts
// (the caller cancelled in between) stops counting after claimTTL.
func TestClaimWithoutCallExpires(t *testing.T) {
	s, p := attached(t, graph.BalanceLeastCalls, names("a", "b")...)
	clk := newClock(s)
	first := s.Pick(p, invite("lost", "u", "v"), nil)
	second := s.Pick(p, invite("next", "u", "v"), nil)
	if first == second {
		t.Fatalf("a pending pick did not count: both picks chose %s", first.ID)
	}
	s.StartCall(second, "next", "ft", "u", "v")
	clk.Advance(claimTTL + time.Second)
	// The lost claim is swept by this pick, so a (0 calls) is chosen again.
	if m := s.Pick(p, invite("later", "u", "v"), nil); m != first {
		t.Errorf("after the claim expired the pick chose %s, want %s", m.ID, first.ID)
	}
	if left := claimsLeft(s, p); left != 1 {
		t.Errorf("claims left %d, want 1 (the latest pick)", left)
	}
}

// TestNonInvitePicksDoNotClaim checks that OPTIONS or MESSAGE routed to a
// pool never count as calls.
func TestNonInvitePicksDoNotClaim(t *testing.T) {
	s, p := attached(t, graph.BalanceLeastCalls, names("a", "b")...)
	req := invite("opt", "u", "v")
	req.Method = "OPTIONS"
	for range 5 {
		s.Pick(p, req, nil)
	}
	if left := claimsLeft(s, p); left != 0 {
		t.Errorf("non-INVITE picks left %d claims", left)
	}
}

func claimsLeft(s *Store, p *graph.Pool) int {
	v := s.idx.Load().view(p)
	v.bal.mu.Lock()
	defer v.bal.mu.Unlock()
	n := 0
	for _, ms := range v.members {
		n += int(ms.claimed.Load())
	}
	if n != len(v.bal.claims) {
		panic(fmt.Sprintf("claimed counters %d disagree with %d claims", n, len(v.bal.claims)))
	}
	return n
}
