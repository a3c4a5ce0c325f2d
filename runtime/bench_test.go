package runtime

import (
	"syscall"
	"testing"
	"time"

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
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if err := c.call(b, port, "udp"); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report()
}

// BenchmarkDirectCall is BenchmarkProxyCall's baseline: the same caller
// calls the same kind of box directly, without the proxy. The difference
// between the two (allocs/op, B/op, cpu-ns/op) is the proxy's share of a
// call, plus the 100 Trying the proxy sends the caller.
func BenchmarkDirectCall(b *testing.B) {
	box := startBox(b, "ast1", boxAnswer)
	c := startCaller(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if err := c.call(b, box.port, "udp"); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report()
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

// cpuClock reports the process CPU time (user+system) per call as
// cpu-ns/op: unlike ns/op it hardly moves when other processes compete for
// the machine. It counts caller and boxes too, which do the same work in
// every version of the proxy.
type cpuClock struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) cpuClock { return cpuClock{b, processCPU()} }

func (c cpuClock) report() {
	c.b.ReportMetric(float64(processCPU()-c.start)/float64(c.b.N), "cpu-ns/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
