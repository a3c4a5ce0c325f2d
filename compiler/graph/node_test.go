package graph

import (
	"slices"
	"testing"
)

// TestWalkOrder pins the one order the tools share and checks that every
// node Seal indexes is walked, with its kind and stage.
func TestWalkOrder(t *testing.T) {
	g := &Graph{
		Routes:      []*Route{{ID: "route.r", Name: "r", Target: TargetPool}},
		Carriers:    []*Carrier{{ID: "carrier.c", Name: "c"}},
		Prefixes:    []*PrefixTable{{ID: "prefixes.p", Name: "p"}},
		Pools:       []*Pool{{ID: "pool.a", Name: "a", Members: []*Member{{ID: "pool.a.member.m", Name: "m"}}}},
		Registrar:   &Registrar{ID: "registrar"},
		Aliases:     []*AliasTable{{ID: "aliases.d", Name: "d"}},
		Auth:        []*Auth{{ID: "auth.e", Name: "e"}},
		Credentials: []*Credentials{{ID: "credentials.s", Name: "s"}},
		Trusted:     []*Trusted{{ID: "trusted.t", Name: "t"}},
		Filters:     []*Filter{{ID: "filter.f1", Name: "f1"}, {ID: "filter.f2", Name: "f2"}},
	}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	want := []ID{"filter.f1", "filter.f2", "trusted.t", "credentials.s", "auth.e", "aliases.d", "registrar",
		"pool.a", "pool.a.member.m", "prefixes.p", "carrier.c", "route.r"}
	if got := g.IDs(); !slices.Equal(got, want) {
		t.Fatalf("IDs = %v, want %v", got, want)
	}
	g.Walk(func(n Node) bool {
		if g.Node(n.NodeID()) != n {
			t.Errorf("%s: Node(id) is not the walked node", n.NodeID())
		}
		return true
	})
	var stages []Stage
	for _, st := range Stages {
		for _, n := range g.StageNodes(st) {
			stages = append(stages, n.Kind().Stage())
		}
	}
	if want := []Stage{StageFilters, StageFilters, StageAuth, StageAliases, StageRoutes}; !slices.Equal(stages, want) {
		t.Errorf("stage nodes = %v, want %v", stages, want)
	}
	if g.Count(KindMember) != 1 || g.Count(KindFilter) != 2 {
		t.Errorf("Count: %d members, %d filters", g.Count(KindMember), g.Count(KindFilter))
	}
	n := 0
	g.Walk(func(Node) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("Walk went on after false: %d calls", n)
	}
}
