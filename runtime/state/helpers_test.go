package state

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/stubs"
)

// spec declares a member for a hand-built graph.
type spec struct {
	name   string
	weight int
	cap    map[string]int
}

// mkPool builds a pool whose members are named by specs.
func mkPool(name string, bal graph.Balance, specs ...spec) *graph.Pool {
	p := &graph.Pool{ID: graph.ID("pool." + name), Name: name, Balance: bal, Resource: "pstn"}
	for i, sp := range specs {
		w := sp.weight
		if w == 0 {
			w = 1
		}
		p.Members = append(p.Members, &graph.Member{
			ID: graph.ID(fmt.Sprintf("pool.%s.member.%s", name, sp.name)), Name: sp.name,
			URI: fmt.Sprintf("sip:10.0.0.%d:5060", i+1), Host: fmt.Sprintf("10.0.0.%d", i+1), Port: 5060,
			Transport: "udp", Weight: w, Capacity: sp.cap,
		})
	}
	return p
}

// names returns specs with the given names and weight 1.
func names(ns ...string) []spec {
	out := make([]spec, len(ns))
	for i, n := range ns {
		out[i] = spec{name: n}
	}
	return out
}

// mkGraph seals a graph of pools with one unconditional route to the first.
func mkGraph(t testing.TB, pools ...*graph.Pool) *graph.Graph {
	t.Helper()
	g := &graph.Graph{Hash: "test", Pools: pools}
	if len(pools) > 0 {
		g.Routes = []*graph.Route{{ID: "route.all", Name: "all", Target: graph.TargetPool, Pool: pools[0]}}
	}
	if err := g.Seal(); err != nil {
		t.Fatalf("seal: %v", err)
	}
	return g
}

// attached returns a store with a graph of one pool attached.
func attached(t testing.TB, bal graph.Balance, specs ...spec) (*Store, *graph.Pool) {
	t.Helper()
	p := mkPool("asterisk", bal, specs...)
	s := New()
	s.Attach(mkGraph(t, p))
	return s, p
}

// invite returns an INVITE from caller to callee with a Call-ID.
func invite(callID, caller, callee string, headers ...graph.Param) *graph.Request {
	return &graph.Request{
		Method: "INVITE", CallID: callID,
		From:    graph.URI{Scheme: "sip", User: caller, Host: "example.com"},
		To:      graph.URI{Scheme: "sip", User: callee, Host: "example.com"},
		RURI:    graph.URI{Scheme: "sip", User: callee, Host: "example.com"},
		Headers: graph.HeaderList(headers),
	}
}

// clock is a settable clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock(s *Store) *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	s.now = c.Now
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// pickN picks n times with distinct Call-IDs and counts members by name;
// start, when set, records each pick as a long call.
func pickN(t testing.TB, s *Store, p *graph.Pool, n int, start bool) map[string]int {
	t.Helper()
	got := map[string]int{}
	for i := 0; i < n; i++ {
		callID := fmt.Sprintf("call-%d@test", i)
		m := s.Pick(p, invite(callID, "u", "v"), nil)
		if m == nil {
			t.Fatalf("pick %d: no member", i)
		}
		got[m.Name]++
		if start {
			s.StartCall(m, callID, "ft", "u", "v")
		}
	}
	return got
}

// stateOf composes the graph.State a decision reads around s.
func stateOf(s *Store) graph.State {
	return graph.StateOf(stubs.NoRegistrations{}, stubs.NoAuth{}, s, stubs.AllCarriers{})
}
