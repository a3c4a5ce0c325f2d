package state

import (
	"fmt"
	"testing"

	"github.com/sipfront/sipfront/compiler/graph"
)

// call picks a member for an INVITE and starts the call on it, as the proxy
// does.
func call(t *testing.T, s *Store, p *graph.Pool, req *graph.Request) *graph.Member {
	t.Helper()
	m := s.Pick(p, req, nil)
	if m == nil {
		t.Fatalf("%s -> %s: no member", req.From.User, req.RURI.User)
	}
	s.StartCall(m, req.CallID, "ft-"+req.CallID, req.From.User, req.RURI.User)
	s.Established(req.CallID, "ft-"+req.CallID, "tt-"+req.CallID)
	return m
}

// TestAttendedTransferLandsOnOneMember is the talk's sequence: Bob calls
// Alice, Bob calls Carol, Bob transfers, Alice calls Carol with Replaces.
// Every leg must use the same Asterisk while unrelated calls spread.
func TestAttendedTransferLandsOnOneMember(t *testing.T) {
	for _, bal := range []graph.Balance{graph.BalanceRoundRobin, graph.BalanceLeastCalls, graph.BalanceHash} {
		t.Run(string(bal), func(t *testing.T) {
			p := mkPool("asterisk", bal, names("ast1", "ast2", "ast3")...)
			p.Affinity = AffinityParty
			s := New()
			s.Attach(mkGraph(t, p))
			others := map[string]int{}
			unrelated := func(n int) {
				for i := 0; i < n; i++ {
					id := fmt.Sprintf("other-%d-%d", len(others), i)
					m := call(t, s, p, invite(id, fmt.Sprint("u", id), fmt.Sprint("v", id)))
					others[m.Name]++
				}
			}

			unrelated(2)
			first := call(t, s, p, invite("bob-alice", "bob", "alice")) // 1) Bob calls Alice
			unrelated(7)
			second := call(t, s, p, invite("bob-carol", "bob", "carol")) // 3) Bob calls Carol
			unrelated(7)
			// 6) Alice calls Carol, replacing Bob's call with Carol.
			rep := graph.Param{Name: "Replaces", Value: "bob-carol;to-tag=tt-bob-carol;from-tag=ft-bob-carol"}
			third := call(t, s, p, invite("alice-carol", "alice", "carol", rep))
			unrelated(7)

			if second != first || third != first {
				t.Fatalf("transfer legs on %s, %s, %s: want one member", first.Name, second.Name, third.Name)
			}
			if len(others) != 3 {
				t.Errorf("unrelated calls did not spread over the pool: %v", others)
			}
			// 7) Carol closes Bob, 8) Bob closes Alice: then Bob is free again.
			s.EndCall("bob-carol", "ft-bob-carol")
			s.EndCall("bob-alice", "ft-bob-alice")
			s.EndCall("alice-carol", "ft-alice-carol")
		})
	}
}

func TestReplacesAloneFindsTheDialog(t *testing.T) {
	p := mkPool("asterisk", graph.BalanceRoundRobin, names("ast1", "ast2", "ast3")...)
	p.Affinity = AffinityParty
	s := New()
	s.Attach(mkGraph(t, p))
	target := p.Members[2]
	s.StartCall(target, "consult@pbx", "ftag", "x1", "y1")
	tests := []struct {
		name, replaces string
		want           *graph.Member
	}{
		{"tags as sent", "consult@pbx;to-tag=ttag;from-tag=ftag", target},
		{"tags reversed", "consult@pbx;to-tag=ftag;from-tag=ttag", target},
		{"spaces and case", " consult@pbx ; From-Tag=ftag ; early-only", target},
		{"unknown dialog", "nope@pbx;to-tag=a;from-tag=b", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := invite("new", "stranger", "nobody", graph.Param{Name: "Replaces", Value: tt.replaces})
			seen := map[*graph.Member]bool{}
			for i := 0; i < 6; i++ { // several picks: round robin alone would move
				m := s.Pick(p, req, nil)
				seen[m] = true
				if tt.want != nil && m != tt.want {
					t.Fatalf("pick %d: %s, want %s", i, m.Name, tt.want.Name)
				}
			}
			if tt.want == nil && len(seen) != 3 {
				t.Fatalf("no dialog named, yet picks did not balance: %v", seen)
			}
		})
	}
}

func TestAffinityRespectsAvailabilityAndTried(t *testing.T) {
	p := mkPool("asterisk", graph.BalanceRoundRobin, names("ast1", "ast2")...)
	p.Affinity = AffinityParty
	s := New()
	s.Attach(mkGraph(t, p))
	ast1 := p.Members[0]
	s.StartCall(ast1, "c1", "f", "bob", "alice")
	req := invite("c2", "bob", "carol")
	if m := s.Pick(p, req, nil); m != ast1 {
		t.Fatalf("affinity: %v, want ast1", m)
	}
	if m := s.Pick(p, req, []*graph.Member{ast1}); m == nil || m == ast1 {
		t.Fatalf("affinity member already tried: got %v, want ast2", m)
	}
	s.SetUp(ast1.ID, false, "probe")
	if m := s.Pick(p, req, nil); m == nil || m == ast1 {
		t.Fatalf("affinity member down: got %v, want ast2", m)
	}
	s.SetUp(ast1.ID, true, "probe")
	// The callee is matched too, by R-URI user.
	if m := s.Pick(p, invite("c3", "dave", "alice"), nil); m != ast1 {
		t.Fatalf("callee affinity: %v, want ast1", m)
	}
	s.EndCall("c1", "f")
	got := map[*graph.Member]int{}
	for i := 0; i < 4; i++ {
		got[s.Pick(p, req, nil)]++
	}
	if len(got) != 2 {
		t.Fatalf("after the call ended Bob should balance again: %v", got)
	}
}

func TestNoAffinityWithoutPartyMode(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("ast1", "ast2")...)
	s.StartCall(p.Members[0], "c1", "f", "bob", "alice")
	got := map[string]int{}
	for i := 0; i < 10; i++ {
		got[s.Pick(p, invite("c2", "bob", "carol"), nil).Name]++
	}
	if got["ast1"] != 5 || got["ast2"] != 5 {
		t.Fatalf("pool without affinity must just balance: %v", got)
	}
}
