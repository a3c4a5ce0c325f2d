package memory

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func read(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sink keeps the allocations of the test from being optimised away.
var sink [][]byte

// TestTrimmerReturnsIdleHeap: after a burst of allocation that is then
// dropped and collected, an idle interval makes the Trimmer force a
// collection and give the free heap back, so it is no longer resident.
func TestTrimmerReturnsIdleHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for range 64 * 16 {
		sink = append(sink, make([]byte, 64<<10)) // 64 MiB in 64 KiB objects
	}
	sink = nil
	runtime.GC()
	if free := read(metricFree); free < 32<<20 {
		t.Skipf("only %d bytes of free heap after the burst: the runtime returned it already", free)
	}
	cycles := read(metricCycles)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Trimmer{Interval: 100 * time.Millisecond}.Run(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for read(metricFree) > 16<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("free heap still %d bytes after 5 s idle", read(metricFree))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if read(metricCycles) == cycles {
		t.Error("the heap was returned without the Trimmer's collection: the test proves nothing")
	}
}

// TestTuneDefault: without GOGC in the environment the collector's target
// becomes DefaultGOGC.
func TestTuneDefault(t *testing.T) {
	if _, ok := os.LookupEnv("GOGC"); ok {
		t.Skip("GOGC is set in this environment")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	if got := Tune(); got != DefaultGOGC {
		t.Fatalf("Tune() = %d, want %d", got, DefaultGOGC)
	}
	if got := debug.SetGCPercent(100); got != DefaultGOGC {
		t.Errorf("GC percent in force %d, want %d", got, DefaultGOGC)
	}
}
