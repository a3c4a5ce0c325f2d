package runtime

import (
	"testing"

	"github.com/sipfront/sipfront/compiler/graph"
)

// BenchmarkProxyCall measures whole calls (INVITE, 180, 200, ACK, BYE, 200)
// through the proxy over UDP on loopback, with sipgo UAs in the same
// process as caller and box: allocations and time include all three.
func BenchmarkProxyCall(b *testing.B) {
	box1, box2 := startBox(b, "ast1", boxAnswer), startBox(b, "ast2", boxAnswer)
	port := freePort(b)
	startProxy(b, testGraph(b, port, []*graph.Member{box1.member("ast1", "udp"), box2.member("ast2", "udp")}, nil), nil)
	c := startCaller(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.call(b, port, "udp"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProxyCallParallel runs calls from 16 goroutines at once, for a
// throughput figure (calls/s = 1e9 / ns/op).
func BenchmarkProxyCallParallel(b *testing.B) {
	box1, box2 := startBox(b, "ast1", boxAnswer), startBox(b, "ast2", boxAnswer)
	port := freePort(b)
	startProxy(b, testGraph(b, port, []*graph.Member{box1.member("ast1", "udp"), box2.member("ast2", "udp")}, nil), nil)
	c := startCaller(b)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.call(b, port, "udp"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
