package state

import (
	"fmt"
	"testing"

	"github.com/sipfront/sipfront/compiler/graph"
)

// TestStaticStateAgreesWithStore checks that what `sipfront test`, `explain`
// and `plan` predict (graph.StaticState) is the member a fresh proxy picks,
// for every strategy whose first pick is deterministic.
func TestStaticStateAgreesWithStore(t *testing.T) {
	specs := []spec{
		{name: "a", weight: 1, cap: map[string]int{"pstn": 10}},
		{name: "b", weight: 3, cap: map[string]int{"pstn": 30}},
		{name: "c", weight: 2, cap: map[string]int{"pstn": 20}},
	}
	for _, bal := range graph.Balances {
		t.Run(string(bal), func(t *testing.T) {
			for i := range 200 {
				s, p := attached(t, bal, specs...)
				req := invite(fmt.Sprintf("call-%d@example.com", i), "u", "v")
				want := graph.StaticState{}.Pick(p, req, nil)
				if got := s.Pick(p, req, nil); got != want {
					t.Fatalf("%s: proxy picked %s, static state predicted %s", req.CallID, got.ID, want.ID)
				}
				if bal != graph.BalanceHash {
					return // one fresh pick is enough for the others
				}
			}
		})
	}
}
