package state

import (
	"fmt"
	"testing"

	"github.com/sipfront/sipfront/compiler/graph"
)

func TestRoundRobinSpread(t *testing.T) {
	tests := []struct {
		name    string
		members []string
		picks   int
	}{
		{"three", []string{"a", "b", "c"}, 3000},
		{"three uneven", []string{"a", "b", "c"}, 3001},
		{"five", []string{"a", "b", "c", "d", "e"}, 2999},
		{"one", []string{"a"}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p := attached(t, graph.BalanceRoundRobin, names(tt.members...)...)
			got := pickN(t, s, p, tt.picks, false)
			even := tt.picks / len(tt.members)
			for _, n := range tt.members {
				if c := got[n]; c < even-1 || c > even+1 {
					t.Errorf("%s got %d picks, want %d±1 (all: %v)", n, c, even, got)
				}
			}
		})
	}
}

func TestRoundRobinSkipsUnavailableAndTried(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("a", "b", "c")...)
	s.SetUp(p.Members[1].ID, false, "probe")
	got := pickN(t, s, p, 300, false)
	if got["b"] != 0 || got["a"]+got["c"] != 300 {
		t.Fatalf("down member picked or picks lost: %v", got)
	}
	tried := []*graph.Member{p.Members[0], p.Members[2]}
	if m := s.Pick(p, invite("x", "u", "v"), tried); m != nil {
		t.Fatalf("all tried or down: got %s, want nil", m.Name)
	}
	s.SetUp(p.Members[1].ID, true, "probe")
	if m := s.Pick(p, invite("x", "u", "v"), tried); m == nil || m.Name != "b" {
		t.Fatalf("only b left: got %v", m)
	}
}

func TestWeightedFollowsWeightsOverEachCycle(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
	}{
		{"1:1:2", []int{1, 1, 2}},
		{"5:1:1", []int{5, 1, 1}},
		{"3:2", []int{3, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var specs []spec
			cycle := 0
			for i, w := range tt.weights {
				specs = append(specs, spec{name: fmt.Sprint("m", i), weight: w})
				cycle += w
			}
			s, p := attached(t, graph.BalanceWeighted, specs...)
			for round := 0; round < 50; round++ {
				got := pickN(t, s, p, cycle, false)
				for i, w := range tt.weights {
					if n := got[fmt.Sprint("m", i)]; n != w {
						t.Fatalf("cycle %d: m%d got %d, want exactly %d (%v)", round, i, n, w, got)
					}
				}
			}
		})
	}
}

func TestWeightedInterleavesAndHonoursOverride(t *testing.T) {
	s, p := attached(t, graph.BalanceWeighted, spec{name: "a", weight: 1}, spec{name: "b", weight: 1}, spec{name: "c", weight: 2})
	var seq string
	for i := 0; i < 4; i++ {
		seq += s.Pick(p, nil, nil).Name
	}
	// nginx's smooth WRR never sends the heavy member two in a row here.
	if seq != "cabc" {
		t.Errorf("sequence %q, want cabc", seq)
	}
	w := 0
	if err := s.SetOverride(p.Members[2].ID, Override{Weight: &w}); err != nil {
		t.Fatal(err)
	}
	got := pickN(t, s, p, 100, false)
	if got["c"] != 0 || got["a"] != 50 || got["b"] != 50 {
		t.Errorf("weight 0 override: got %v, want a=50 b=50 c=0", got)
	}
	w = 3 // the store holds its own copy: this must not leak in
	if o, _ := s.Override(p.Members[2].ID); *o.Weight != 0 {
		t.Errorf("override shares the caller's pointer: weight %d", *o.Weight)
	}
}

func TestLeastCallsKeepsCountsLevel(t *testing.T) {
	s, p := attached(t, graph.BalanceLeastCalls, names("a", "b", "c")...)
	// Long calls: none ends, so every pick must go to the emptiest member.
	got := pickN(t, s, p, 300, true)
	for _, m := range p.Members {
		if got[m.Name] != 100 || s.ActiveCalls(m.ID) != 100 {
			t.Fatalf("%s: %d picks, %d active; want 100 (%v)", m.Name, got[m.Name], s.ActiveCalls(m.ID), got)
		}
	}
	// b's calls end: the next new calls all go to b until it is level again.
	for i := 0; i < 300; i++ {
		d, ok := s.LookupDialog(fmt.Sprintf("call-%d@test", i))
		if ok && d.Member == p.Members[1].ID && s.ActiveCalls(d.Member) > 60 {
			s.EndCall(d.CallID, d.FromTag)
		}
	}
	for i := 0; i < 40; i++ {
		m := s.Pick(p, nil, nil)
		if m.Name != "b" {
			t.Fatalf("pick %d after b's calls ended: %s (b has %d calls)", i, m.Name, s.ActiveCalls(p.Members[1].ID))
		}
		s.StartCall(m, fmt.Sprintf("refill-%d", i), "ft", "u", "v")
	}
}

func TestLeastCallsRotatesTies(t *testing.T) {
	s, p := attached(t, graph.BalanceLeastCalls, names("a", "b", "c")...)
	got := pickN(t, s, p, 3, false) // nothing starts: all stay tied at 0
	if len(got) != 3 {
		t.Fatalf("ties must rotate over the members: %v", got)
	}
}

func TestHashIsStablePerCallID(t *testing.T) {
	s, p := attached(t, graph.BalanceHash, names("a", "b", "c")...)
	for i := 0; i < 500; i++ {
		req := invite(fmt.Sprintf("%d-hash@host", i), "u", "v")
		first := s.Pick(p, req, nil)
		for k := 0; k < 3; k++ {
			if again := s.Pick(p, req, nil); again != first {
				t.Fatalf("call %d: %s then %s", i, first.Name, again.Name)
			}
		}
		// Failover from the hashed member goes to another, deterministically.
		next := s.Pick(p, req, []*graph.Member{first})
		if next == nil || next == first || s.Pick(p, req, []*graph.Member{first}) != next {
			t.Fatalf("call %d: failover pick %v not stable or same as first", i, next)
		}
	}
}

func TestHashRemovingMemberMovesOnlyItsShare(t *testing.T) {
	tests := []struct {
		name    string
		members []string
		lose    int
	}{
		{"3 lose middle", []string{"a", "b", "c"}, 1},
		{"4 lose first", []string{"a", "b", "c", "d"}, 0},
		{"5 lose last", []string{"a", "b", "c", "d", "e"}, 4},
	}
	const calls = 6000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p := attached(t, graph.BalanceHash, names(tt.members...)...)
			before := make([]*graph.Member, calls)
			for i := range before {
				before[i] = s.Pick(p, invite(fmt.Sprintf("c%d@x", i), "u", "v"), nil)
			}
			lost := p.Members[tt.lose]
			s.SetUp(lost.ID, false, "test")
			moved, share := 0, 0
			for i := range before {
				after := s.Pick(p, invite(fmt.Sprintf("c%d@x", i), "u", "v"), nil)
				if before[i] == lost {
					share++
				}
				if after != before[i] {
					moved++
					if before[i] != lost {
						t.Fatalf("call %d moved from %s to %s though %s was lost", i, before[i].Name, after.Name, lost.Name)
					}
				}
				if after == lost {
					t.Fatalf("call %d still on the lost member", i)
				}
			}
			if moved != share {
				t.Fatalf("moved %d calls, the lost member had %d", moved, share)
			}
			want := calls / len(tt.members)
			if share < want*3/4 || share > want*5/4 {
				t.Errorf("lost member held %d of %d calls, want about %d", share, calls, want)
			}
			t.Logf("lost member held %d/%d calls; exactly those moved", share, calls)
		})
	}
}

func TestResourceMostFreeWins(t *testing.T) {
	s, p := attached(t, graph.BalanceResource,
		spec{name: "a", cap: map[string]int{"pstn": 2}},
		spec{name: "b", cap: map[string]int{"pstn": 5}},
		spec{name: "c", cap: map[string]int{"pstn": 3, "conf": 9}},
		spec{name: "d", cap: map[string]int{"conf": 50}}, // no pstn: never picked
	)
	freeOf := func(m *graph.Member) int { return m.Capacity["pstn"] - s.ActiveCalls(m.ID) }
	for i := 0; i < 10; i++ {
		m := s.Pick(p, nil, nil)
		if m == nil {
			t.Fatalf("pick %d: nil with capacity left", i)
		}
		for _, o := range p.Members {
			if freeOf(o) > freeOf(m) {
				t.Fatalf("pick %d: %s (free %d) while %s has %d", i, m.Name, freeOf(m), o.Name, freeOf(o))
			}
		}
		s.StartCall(m, fmt.Sprint("r", i), "ft", "u", "v")
	}
	if m := s.Pick(p, nil, nil); m != nil {
		t.Fatalf("every member full: got %s, want nil", m.Name)
	}
	for _, m := range p.Members {
		if s.MemberAvailable(m) {
			t.Errorf("%s available while full", m.Name)
		}
	}
	if err := s.SetOverride(p.Members[0].ID, Override{Capacity: map[string]int{"pstn": 10}}); err != nil {
		t.Fatal(err)
	}
	if m := s.Pick(p, nil, nil); m == nil || m.Name != "a" {
		t.Fatalf("capacity override 10 on a (2 calls): got %v, want a", m)
	}
	for _, st := range s.Members() {
		if st.ID == p.Members[0].ID && st.Free["pstn"] != 8 {
			t.Errorf("a free pstn %d, want 8", st.Free["pstn"])
		}
	}
	d, ok := s.EndCall("r1", "ft")
	if !ok {
		t.Fatal("r1 not tracked")
	}
	for _, m := range p.Members {
		if m.ID == d.Member && !s.MemberAvailable(m) {
			t.Errorf("%s has a free slot again but is unavailable", m.Name)
		}
	}
}

func TestHashRemovingMemberByReloadMovesOnlyItsShare(t *testing.T) {
	const calls = 3000
	s, p := attached(t, graph.BalanceHash, names("a", "b", "c", "d")...)
	before := make([]string, calls)
	for i := range before {
		before[i] = s.Pick(p, invite(fmt.Sprintf("r%d@x", i), "u", "v"), nil).Name
	}
	p2 := mkPool("asterisk", graph.BalanceHash, names("a", "c", "d")...) // b removed
	s.Attach(mkGraph(t, p2))
	moved, share := 0, 0
	for i := range before {
		after := s.Pick(p2, invite(fmt.Sprintf("r%d@x", i), "u", "v"), nil).Name
		if before[i] == "b" {
			share++
		}
		if after != before[i] {
			moved++
			if before[i] != "b" {
				t.Fatalf("call %d moved from %s to %s", i, before[i], after)
			}
		}
	}
	if moved != share || share < calls/4*3/4 || share > calls/4*5/4 {
		t.Fatalf("moved %d, b held %d of %d", moved, share, calls)
	}
}

// TestRoundRobinEvenWithMemberOut checks that a member out of rotation
// (disabled here) does not hand its share to its neighbour: the two others
// split the calls evenly.
func TestRoundRobinEvenWithMemberOut(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("a", "b", "c")...)
	if err := s.SetOverride(p.Members[0].ID, Override{Mode: ModeDisabled}); err != nil {
		t.Fatal(err)
	}
	got := pickN(t, s, p, 600, false)
	if got["a"] != 0 || got["b"] != 300 || got["c"] != 300 {
		t.Errorf("round robin with a disabled: %v, want b=300 c=300", got)
	}
}
