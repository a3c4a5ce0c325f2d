package target

import (
	"testing"

	"github.com/sipfront/sipfront/compiler/graph"
)

// fixedPicks is a Members that picks the first untried member in order and
// writes down the health reports.
type fixedPicks struct{ failed, ok []graph.ID }

func (f *fixedPicks) Pick(p *graph.Pool, _ *graph.Request, tried []*graph.Member) *graph.Member {
next:
	for _, m := range p.Members {
		for _, t := range tried {
			if t == m {
				continue next
			}
		}
		return m
	}
	return nil
}
func (f *fixedPicks) ReportFailure(m *graph.Member, why string) { f.failed = append(f.failed, m.ID) }
func (f *fixedPicks) ReportSuccess(m *graph.Member)             { f.ok = append(f.ok, m.ID) }

func TestPoolIterator(t *testing.T) {
	for _, c := range []struct {
		name     string
		maxTries int
		want     []graph.ID
	}{
		{"every member by default", 0, []graph.ID{"b", "a", "c"}},
		{"max_tries", 2, []graph.ID{"b", "a"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &graph.Pool{ID: "pool.p", Failover: graph.Failover{On: []int{503}, MaxTries: c.maxTries}}
			for _, id := range []graph.ID{"a", "b", "c"} {
				p.Members = append(p.Members, &graph.Member{ID: id, Host: "127.0.0.1", Port: 5080, Transport: "udp", Pool: p})
			}
			st := &fixedPicks{}
			it := NewPool(st, &graph.Request{}, p.Members[1])
			var got []graph.ID
			for tg, ok := it.Next(); ok; tg, ok = it.Next() {
				if tg.Group != "pool.p" || tg.Addr != "127.0.0.1:5080" || tg.Member == nil {
					t.Fatalf("target %+v", tg)
				}
				got = append(got, tg.ID)
				it.Failed(tg, 503, "503 busy", tg.ID != "a")
			}
			if len(got) != len(c.want) {
				t.Fatalf("tried %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("tried %v, want %v", got, c.want)
				}
			}
			if len(st.failed) != len(got)-1 {
				t.Errorf("health failures %v: the one that did not count was counted", st.failed)
			}
			if !it.Retries(0) || !it.Retries(503) || it.Retries(486) {
				t.Error("Retries does not follow failover.on plus timeouts")
			}
		})
	}
}
