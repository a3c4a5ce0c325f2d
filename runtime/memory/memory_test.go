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

// sink keeps the allocations of the test from being optimised away.
var sink [][]byte

// TestTrimmerReturnsIdleHeap: a burst of allocation is dropped but not
// collected (as after a load, when nothing allocates any more); an idle
// interval makes the Trimmer run a collection and give the heap back, so
// the resident heap falls to about the live one.
func TestTrimmerReturnsIdleHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection but the Trimmer's
	runtime.GC()
	samples := make([]metrics.Sample, len(trimmerMetrics))
	for i, name := range trimmerMetrics {
		samples[i].Name = name
	}
	for range 64 * 16 {
		sink = append(sink, make([]byte, 64<<10)) // 64 MiB in 64 KiB objects
	}
	sink = nil
	before := readHeap(samples)
	if before.resident < before.live+48<<20 {
		t.Fatalf("the burst left %d resident bytes over %d live: want 64 MiB of garbage", before.resident, before.live)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Trimmer{Interval: 100 * time.Millisecond}.Run(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for {
		h := readHeap(samples)
		if h.cycles > before.cycles && h.resident < h.live+16<<20 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s idle: %d cycles (before %d), %d resident bytes, %d live", h.cycles, before.cycles, h.resident, h.live)
		}
		time.Sleep(20 * time.Millisecond)
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

// TestIdleSince: an interval without a collection is idle only when little
// was allocated in it (a big live heap under light traffic is not idle).
func TestIdleSince(t *testing.T) {
	last := heapState{cycles: 7, allocated: 1 << 30}
	for _, c := range []struct {
		name string
		now  heapState
		want bool
	}{
		{"nothing happened", heapState{cycles: 7, allocated: 1 << 30}, true},
		{"a little allocated", heapState{cycles: 7, allocated: 1<<30 + 1<<20}, true},
		{"working, no collection yet", heapState{cycles: 7, allocated: 1<<30 + 32<<20}, false},
		{"a collection ran", heapState{cycles: 8, allocated: 1 << 30}, false},
	} {
		if got := c.now.idleSince(last, 16<<20); got != c.want {
			t.Errorf("%s: idle %v, want %v", c.name, got, c.want)
		}
	}
}
