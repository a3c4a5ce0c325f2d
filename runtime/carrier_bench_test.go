package runtime

import (
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// carrierGraph routes every call by least-cost routing to two carriers of
// equal priority, the two boxes (the baseline is the pool path of
// BenchmarkProxyCall, with the same boxes and caller).
func carrierGraph(b *testing.B, port int, boxes ...*box) *graph.Graph {
	return testGraph(b, port, []*graph.Member{boxes[0].member("ast1", "udp")}, func(g *graph.Graph) {
		for i, bx := range boxes {
			m := bx.member("gw", "udp")
			name := []string{"acme", "bravo"}[i]
			g.Carriers = append(g.Carriers, &graph.Carrier{ID: graph.ID("carrier." + name), Name: name,
				Host: m.Host, Port: m.Port, Transport: "udp", Priority: 1, Weight: 1,
				Prefixes: []graph.CarrierPrefix{{Prefix: "", Priority: 1}},
				Limits:   graph.Limits{Calls: 1000, CPS: 100000},
				Failover: graph.Failover{On: []int{503}, MaxTries: 2, Timeout: 400 * time.Millisecond}})
		}
		g.Routes = []*graph.Route{{ID: "route.pstn", Name: "pstn", Target: graph.TargetCarriers}}
	})
}

// BenchmarkProxyCallLCR is BenchmarkProxyCall through least-cost routing:
// limits claimed, the carrier leg built (number, exit, inside hidden).
func BenchmarkProxyCallLCR(b *testing.B) {
	box1, box2 := startBox(b, "ast1", boxAnswer), startBox(b, "ast2", boxAnswer)
	port := freePort(b)
	startProxy(b, carrierGraph(b, port, box1, box2), nil)
	c := startCaller(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if err := c.call(b, port, "udp"); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report()
}

// BenchmarkProxyCallLCRParallel is BenchmarkProxyCallParallel through
// least-cost routing (calls/s = 1e9 / ns/op).
func BenchmarkProxyCallLCRParallel(b *testing.B) {
	box1, box2 := startBox(b, "ast1", boxAnswer), startBox(b, "ast2", boxAnswer)
	port := freePort(b)
	startProxy(b, carrierGraph(b, port, box1, box2), nil)
	c := startCaller(b)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	cpu := startCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.call(b, port, "udp"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.report()
}
