package state

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

func TestDialogLifecycle(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("a", "b")...)
	clk := newClock(s)
	a, b := p.Members[0], p.Members[1]

	s.StartCall(a, "c1", "f1", "bob", "alice")
	clk.Advance(time.Second)
	s.StartCall(a, "c2", "f2", "carol", "dave")
	if s.ActiveCalls(a.ID) != 2 {
		t.Fatalf("active %d, want 2: a call counts at once", s.ActiveCalls(a.ID))
	}
	s.StartCall(a, "c2", "f2", "carol", "dave") // a retransmission must not count twice
	if s.ActiveCalls(a.ID) != 2 {
		t.Fatalf("active %d after a repeated start, want 2", s.ActiveCalls(a.ID))
	}

	s.Moved("c2", "f2", b) // failover
	if s.ActiveCalls(a.ID) != 1 || s.ActiveCalls(b.ID) != 1 {
		t.Fatalf("after Moved: a=%d b=%d, want 1 1", s.ActiveCalls(a.ID), s.ActiveCalls(b.ID))
	}
	s.Established("c2", "f2", "t2")
	d, ok := s.LookupDialog("c2")
	want := Dialog{CallID: "c2", FromTag: "f2", ToTag: "t2", Member: b.ID, Pool: p.ID,
		Caller: "carol", Callee: "dave", Started: clk.Now(), Established: true}
	if !ok || d != want {
		t.Fatalf("LookupDialog = %+v, want %+v", d, want)
	}

	all := s.Dialogs("")
	if len(all) != 2 || all[0].CallID != "c1" || all[1].CallID != "c2" {
		t.Fatalf("Dialogs(\"\") = %+v, want c1 then c2", all)
	}
	if onB := s.Dialogs(b.ID); len(onB) != 1 || onB[0].CallID != "c2" {
		t.Fatalf("Dialogs(b) = %+v", onB)
	}

	if d, ok := s.EndCall("c2", "f2"); !ok || d.Member != b.ID {
		t.Fatalf("EndCall = %+v %v", d, ok)
	}
	if _, ok := s.EndCall("c2", "f2"); ok {
		t.Fatal("second EndCall reported a dialog")
	}
	if _, ok := s.EndCall("nope", "x"); ok {
		t.Fatal("EndCall of an unknown dialog reported one")
	}
	if s.ActiveCalls(b.ID) != 0 {
		t.Fatalf("b active %d after its call ended twice", s.ActiveCalls(b.ID))
	}
	if _, ok := s.LookupDialog("c2"); ok {
		t.Fatal("ended dialog still found")
	}
	s.Established("nope", "x", "y") // unknown: ignored
	s.Moved("nope", "x", a)
	if s.ActiveCalls(a.ID) != 1 {
		t.Fatal("operations on unknown dialogs changed counters")
	}
}

func TestDialogsSharingACallID(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("a", "b")...)
	clk := newClock(s)
	s.StartCall(p.Members[0], "same", "f1", "u", "v")
	clk.Advance(time.Second)
	s.StartCall(p.Members[1], "same", "f2", "w", "x")
	if d, _ := s.LookupDialog("same"); d.FromTag != "f1" {
		t.Fatalf("lookup by Call-ID returns %q, want the oldest (f1)", d.FromTag)
	}
	s.EndCall("same", "f1")
	if d, ok := s.LookupDialog("same"); !ok || d.FromTag != "f2" {
		t.Fatalf("after ending f1: %+v %v", d, ok)
	}
	if s.ActiveCalls(p.Members[0].ID) != 0 || s.ActiveCalls(p.Members[1].ID) != 1 {
		t.Fatal("counters wrong after ending one of two dialogs with one Call-ID")
	}
}

func TestReconcileFixesDrift(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("a", "b", "c")...)
	s.StartCall(p.Members[0], "c1", "f", "u", "v")
	s.StartCall(p.Members[0], "c2", "f", "u", "v")
	s.StartCall(p.Members[1], "c3", "f", "u", "v")
	if fixed := s.Reconcile(); fixed != 0 {
		t.Fatalf("consistent counters: fixed %d", fixed)
	}
	ix := s.idx.Load()
	ix.byID[p.Members[0].ID].active.Store(7)  // lost decrements
	ix.byID[p.Members[1].ID].active.Store(0)  // lost increments
	ix.byID[p.Members[2].ID].active.Store(-3) // must never happen, but heal it
	if fixed := s.Reconcile(); fixed != 3 {
		t.Fatalf("fixed %d, want 3", fixed)
	}
	for i, want := range []int{2, 1, 0} {
		if got := s.ActiveCalls(p.Members[i].ID); got != want {
			t.Errorf("%s: %d calls, want %d", p.Members[i].Name, got, want)
		}
	}
}

// TestCountersNeverNegativeUnderConcurrency runs call starts, ends (twice
// each), moves, picks, reloads and reconciles at once, then checks that
// every counter is back to zero and agrees with the (empty) dialog table.
func TestCountersNeverNegativeUnderConcurrency(t *testing.T) {
	const workers, ops = 8, 10000
	p := mkPool("asterisk", graph.BalanceLeastCalls, names("a", "b", "c")...)
	p.Affinity = AffinityParty
	s := New()
	s.Attach(mkGraph(t, p))
	ids := []graph.ID{p.Members[0].ID, p.Members[1].ID, p.Members[2].ID}

	var negative sync.Map
	done := make(chan struct{})
	watch := func() {
		for k := 0; ; k++ {
			select {
			case <-done:
				return
			default:
			}
			for _, ms := range s.idx.Load().order {
				if v := ms.active.Load(); v < 0 {
					negative.Store(ms.id, v)
				}
			}
			switch k % 50 {
			case 0:
				s.Reconcile()
			case 25:
				// A reload with the same IDs in the middle of traffic.
				s.Attach(mkGraph(t, mkPool("asterisk", graph.BalanceLeastCalls, names("a", "b", "c")...)))
			}
		}
	}
	var watchers sync.WaitGroup
	watchers.Add(1)
	go func() { defer watchers.Done(); watch() }()

	var work sync.WaitGroup
	for w := 0; w < workers; w++ {
		work.Add(1)
		go func(w int) {
			defer work.Done()
			for i := 0; i < ops; i++ {
				callID := fmt.Sprintf("w%d-%d", w, i%64)
				user := fmt.Sprint("user", i%16)
				m := s.Pick(p, invite(callID, user, "x"), nil)
				if m == nil {
					m = p.Members[i%3]
				}
				switch i % 4 {
				case 0, 1:
					s.StartCall(m, callID, "f", user, "x")
				case 2:
					s.Moved(callID, "f", p.Members[(i/4)%3])
					s.EndCall(callID, "f")
				case 3:
					s.EndCall(callID, "f")
					s.EndCall(callID, "f")
				}
			}
		}(w)
	}
	work.Wait()
	close(done)
	watchers.Wait()

	negative.Range(func(k, v any) bool {
		t.Errorf("%v went negative: %v", k, v)
		return true
	})
	for _, d := range s.Dialogs("") {
		s.EndCall(d.CallID, d.FromTag)
	}
	for _, id := range ids {
		if got := s.ActiveCalls(id); got != 0 {
			t.Errorf("%s: %d calls left with an empty dialog table", id, got)
		}
	}
	if fixed := s.Reconcile(); fixed != 0 {
		t.Errorf("counters drifted from the dialog table: Reconcile fixed %d", fixed)
	}
	s.parties.mu.RLock()
	left := len(s.parties.m)
	s.parties.mu.RUnlock()
	if left != 0 {
		t.Errorf("party index holds %d users with no dialog", left)
	}
}
