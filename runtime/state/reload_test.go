package state

import (
	"testing"

	"github.com/sipfront/sipfront/compiler/graph"
)

func TestStateSurvivesAttachOfSameIDs(t *testing.T) {
	p1 := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b", "c")...)
	s := New()
	s.Attach(mkGraph(t, p1))
	s.StartCall(p1.Members[0], "c1", "f1", "bob", "alice")
	s.StartCall(p1.Members[0], "c2", "f2", "bob", "carol")
	s.SetUp(p1.Members[1].ID, false, "probe")
	if err := s.SetOverride(p1.Members[2].ID, Override{Mode: ModeDraining}); err != nil {
		t.Fatal(err)
	}

	// The same policy compiled again: new pointers, same IDs.
	p2 := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b", "c")...)
	s.Attach(mkGraph(t, p2))
	if got := s.ActiveCalls(p2.Members[0].ID); got != 2 {
		t.Errorf("active calls after reload %d, want 2", got)
	}
	if s.MemberAvailable(p2.Members[1]) || s.Up(p2.Members[1].ID) {
		t.Error("health lost on reload")
	}
	if s.MemberAvailable(p2.Members[2]) || s.Overrides()[p2.Members[2].ID].Mode != ModeDraining {
		t.Error("override lost on reload")
	}
	for i := 0; i < 5; i++ {
		if m := s.Pick(p2, nil, nil); m != p2.Members[0] {
			t.Fatalf("pick %d on the new graph: %v, want its member a", i, m)
		}
		// A request that started on the old graph still picks from it.
		if m := s.Pick(p1, nil, nil); m != p1.Members[0] {
			t.Fatalf("pick %d on the old graph: %v, want its member a", i, m)
		}
	}
	if _, ok := s.EndCall("c1", "f1"); !ok || s.ActiveCalls(p2.Members[0].ID) != 1 {
		t.Error("ending a call started before the reload")
	}
}

func TestRoundRobinContinuesAcrossReload(t *testing.T) {
	p1 := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b", "c")...)
	s := New()
	s.Attach(mkGraph(t, p1))
	got := pickN(t, s, p1, 1000, false)
	p2 := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b", "c")...)
	s.Attach(mkGraph(t, p2))
	for k, v := range pickN(t, s, p2, 2000, false) {
		got[k] += v
	}
	for _, n := range []string{"a", "b", "c"} {
		if got[n] != 1000 {
			t.Errorf("%s: %d picks over 3000 across a reload, want 1000 (%v)", n, got[n], got)
		}
	}
}

func TestRemovedMemberKeepsCallsUntilTheyEnd(t *testing.T) {
	p1 := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b", "c")...)
	s := New()
	g1 := mkGraph(t, p1)
	s.Attach(g1)
	c := p1.Members[2]
	s.StartCall(c, "c1", "f1", "u1", "v1")
	s.StartCall(c, "c2", "f2", "u2", "v2")
	if err := s.SetOverride(c.ID, Override{Mode: ModeDisabled}); err != nil {
		t.Fatal(err)
	}

	p2 := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b")...)
	s.Attach(mkGraph(t, p2))
	if s.MemberAvailable(c) {
		t.Fatal("removed member available")
	}
	if got := pickN(t, s, p1, 30, false); got["c"] != 0 {
		t.Fatalf("a request on the old graph picked the removed member: %v", got)
	}
	if s.ActiveCalls(c.ID) != 2 {
		t.Fatalf("removed member's calls: %d, want 2", s.ActiveCalls(c.ID))
	}
	st := s.Members()
	if len(st) != 3 || st[2].ID != c.ID || !st[2].Removed || st[2].ActiveCalls != 2 {
		t.Fatalf("Members() = %+v, want a, b and removed c with 2 calls", st)
	}
	if err := s.SetOverride(c.ID, Override{}); err == nil {
		t.Error("override of a removed member accepted")
	}
	if _, ok := s.Overrides()[c.ID]; !ok {
		t.Error("override of the removed member dropped; only ClearOverride removes it")
	}
	if d, ok := s.LookupDialog("c2"); !ok || d.Member != c.ID {
		t.Fatalf("in-dialog lookup of the removed member's call: %+v %v", d, ok)
	}
	s.EndCall("c1", "f1")
	s.EndCall("c2", "f2")
	if len(s.Members()) != 2 || s.ActiveCalls(c.ID) != 0 {
		t.Fatalf("after its calls ended the removed member is still listed: %+v", s.Members())
	}

	// Another reload drops it; a late call from a request decided on the
	// first graph is still counted and listed.
	p3 := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b")...)
	s.Attach(mkGraph(t, p3))
	s.StartCall(c, "late", "f", "u", "v")
	if s.ActiveCalls(c.ID) != 1 || len(s.Members()) != 3 {
		t.Fatalf("late call on a dropped member: %d calls, members %+v", s.ActiveCalls(c.ID), s.Members())
	}
	s.EndCall("late", "f")

	// The member comes back in a later policy: its override applies again.
	p4 := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b", "c")...)
	s.Attach(mkGraph(t, p4))
	if s.MemberAvailable(p4.Members[2]) {
		t.Fatal("member back with its disabled override, yet available")
	}
	s.ClearOverride(c.ID)
	if !s.MemberAvailable(p4.Members[2]) {
		t.Fatal("member back without override, yet unavailable")
	}
}

func TestDecideUsesStore(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("a", "b")...)
	g := s.idx.Load().g
	seen := map[graph.ID]int{}
	for i := 0; i < 10; i++ {
		d := g.Decide(invite("x", "u", "v"), stateOf(s), nil)
		if d.Action != graph.ActionRelay {
			t.Fatalf("decision %v", d.Action)
		}
		seen[d.Target()]++
	}
	if seen[p.Members[0].ID] != 5 || seen[p.Members[1].ID] != 5 {
		t.Fatalf("targets %v", seen)
	}
	s.SetUp(p.Members[0].ID, false, "x")
	s.SetUp(p.Members[1].ID, false, "x")
	if d := g.Decide(invite("x", "u", "v"), stateOf(s), nil); d.Status != 503 {
		t.Fatalf("all down: %+v, want 503", d)
	}
}
