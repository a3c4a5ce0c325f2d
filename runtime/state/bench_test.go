package state

import (
	"fmt"
	"testing"

	"github.com/sipfront/sipfront/compiler/graph"
)

// benchPick measures Pick on a pool of three members with no affinity, the
// per-request path; it must not allocate.
func benchPick(b *testing.B, bal graph.Balance) {
	s, p := attached(b, bal,
		spec{name: "a", weight: 1, cap: map[string]int{"pstn": 1 << 30}},
		spec{name: "b", weight: 1, cap: map[string]int{"pstn": 1 << 30}},
		spec{name: "c", weight: 2, cap: map[string]int{"pstn": 1 << 30}},
	)
	// Some load, so least-calls and resource compare real counters.
	for i := 0; i < 30; i++ {
		s.StartCall(p.Members[i%3], fmt.Sprint("bg", i), "f", "u", "v")
	}
	reqs := make([]*graph.Request, 1024)
	for i := range reqs {
		reqs[i] = invite(fmt.Sprintf("%08x-bench@10.1.2.3", i*2654435761), "alice", "bob")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := reqs[i&1023]
		m := s.Pick(p, req, nil)
		if m == nil {
			b.Fatal("nil pick")
		}
		// The proxy starts the call right after the pick, which consumes
		// the claim least-calls and resource make; do the same here so the
		// claim list stays as short as in service.
		s.consumeClaim(m, req.CallID)
	}
}

func BenchmarkPickRoundRobin(b *testing.B) { benchPick(b, graph.BalanceRoundRobin) }
func BenchmarkPickWeighted(b *testing.B)   { benchPick(b, graph.BalanceWeighted) }
func BenchmarkPickHash(b *testing.B)       { benchPick(b, graph.BalanceHash) }
func BenchmarkPickLeastCalls(b *testing.B) { benchPick(b, graph.BalanceLeastCalls) }
func BenchmarkPickResource(b *testing.B)   { benchPick(b, graph.BalanceResource) }

// BenchmarkPickParallel measures contention: every P picks from one pool.
func BenchmarkPickParallel(b *testing.B) {
	for _, bal := range []graph.Balance{graph.BalanceRoundRobin, graph.BalanceWeighted, graph.BalanceLeastCalls, graph.BalanceHash} {
		b.Run(string(bal), func(b *testing.B) {
			s, p := attached(b, bal, names("a", "b", "c")...)
			req := invite("par@host", "alice", "bob")
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m := s.Pick(p, req, nil)
					if m == nil {
						b.Error("nil pick")
						return
					}
					s.consumeClaim(m, req.CallID) // as StartCall does in service
				}
			})
		})
	}
}

// BenchmarkPickAffinity measures the affinity path with 10k active calls
// and a caller that has none (the common case: a full index lookup, then
// balancing).
func BenchmarkPickAffinity(b *testing.B) {
	p := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b", "c")...)
	p.Affinity = AffinityParty
	s := New()
	s.Attach(mkGraph(b, p))
	for i := 0; i < 10000; i++ {
		s.StartCall(p.Members[i%3], fmt.Sprint("bg", i), "f", fmt.Sprint("u", i), fmt.Sprint("v", i))
	}
	req := invite("x@host", "nobody", "noone")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Pick(p, req, nil)
	}
}

// BenchmarkCallLifecycle measures StartCall, Established and EndCall, once
// per call each, in parallel.
func BenchmarkCallLifecycle(b *testing.B) {
	s, p := attached(b, graph.BalanceRoundRobin, names("a", "b", "c")...)
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = fmt.Sprintf("%d-life@host", i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			id := ids[i&4095] + "x"
			m := p.Members[i%3]
			s.StartCall(m, id, "f", "alice", "bob")
			s.Established(id, "f", "t")
			s.EndCall(id, "f")
			i++
		}
	})
}

func BenchmarkMemberAvailable(b *testing.B) {
	s, p := attached(b, graph.BalanceRoundRobin, names("a", "b", "c")...)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.MemberAvailable(p.Members[i%3])
	}
}
