// Package memory tunes the Go garbage collector for a proxy and gives the
// heap a load left behind back to the operating system.
//
// A proxy's heap is mostly transactions in flight: their parsed messages
// and timers, alive for the transaction linger and then garbage. Two
// defaults of the Go runtime fit that badly:
//
//   - GOGC=100 collects each time the heap doubles its live part; the mark
//     work per collection is the live heap, so the collector's CPU is in
//     proportion to the allocation rate divided by GOGC. The proxy's live
//     heap is small and short-lived (BENCHMARKS.md), so a higher GOGC buys
//     CPU per call for little memory.
//   - After a load drop nothing allocates, so no collection runs, the heap
//     goal stays where the load left it and the freed spans stay resident
//     (the runtime forces a collection only every two minutes and then
//     returns memory slowly): the proxy does not return to its idle size.
//
// Tune sets the first; Trimmer watches for the second.
package memory

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// DefaultGOGC is the collector's target when the GOGC environment variable
// is not set: the heap may grow to three times its live part before a
// collection (see the package comment and BENCHMARKS.md).
const DefaultGOGC = 200

// Tune sets the collector's target to DefaultGOGC unless the operator set
// GOGC in the environment, which always wins; it returns the value in
// force.
func Tune() int {
	if v, ok := os.LookupEnv("GOGC"); ok && v != "" {
		old := debug.SetGCPercent(100) // read the value the runtime parsed
		debug.SetGCPercent(old)
		return old
	}
	debug.SetGCPercent(DefaultGOGC)
	return DefaultGOGC
}

// Trimmer gives the heap a load left behind back to the operating system
// once the load has stopped: when no collection ran during one Interval
// and less than MinFree was allocated in it (the proxy is idle) and the
// resident heap exceeds
// the live heap of the last collection by more than MinFree, it runs
// debug.FreeOSMemory once: a collection, then every free span returned.
// Without a collection the garbage of the load is not even known to be
// free, so the runtime's own scavenger cannot return it. Under load the
// Trimmer does nothing: collections run all the time then, and the freed
// spans are about to be reused.
type Trimmer struct {
	// Interval is how often the heap is looked at; zero means 10 s.
	Interval time.Duration
	// MinFree is the heap beyond the live heap worth a forced collection;
	// zero means 16 MiB.
	MinFree uint64
	// Logger receives one debug line per trim; nil means none.
	Logger *slog.Logger
}

// The runtime/metrics read by a Trimmer: collections so far, the live heap
// as the last one marked it, and the heap's resident classes (objects,
// live or garbage; fragmentation; free spans not yet returned).
var trimmerMetrics = []string{
	"/gc/cycles/total:gc-cycles",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/gc/heap/allocs:bytes",
}

// heapState is one reading of trimmerMetrics.
type heapState struct {
	cycles, live, resident, allocated uint64
}

func readHeap(samples []metrics.Sample) heapState {
	metrics.Read(samples)
	return heapState{
		cycles:    samples[0].Value.Uint64(),
		live:      samples[1].Value.Uint64(),
		resident:  samples[2].Value.Uint64() + samples[3].Value.Uint64() + samples[4].Value.Uint64(),
		allocated: samples[5].Value.Uint64(),
	}
}

// idleSince reports whether the process was idle between last and now: no
// collection ran and it allocated less than quiet bytes. The first alone
// is not enough: a large live heap (a big registrar or LCR table) under
// light traffic can go minutes between collections while still working,
// and forcing one every interval there would override GOGC.
func (now heapState) idleSince(last heapState, quiet uint64) bool {
	return now.cycles == last.cycles && now.allocated-last.allocated < quiet
}

// Run watches the heap until ctx ends.
func (t Trimmer) Run(ctx context.Context) {
	interval := t.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	minFree := t.MinFree
	if minFree == 0 {
		minFree = 16 << 20
	}
	samples := make([]metrics.Sample, len(trimmerMetrics))
	for i, name := range trimmerMetrics {
		samples[i].Name = name
	}
	last := readHeap(samples)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := readHeap(samples)
		if now.idleSince(last, minFree) && now.resident > now.live+minFree {
			debug.FreeOSMemory()
			if t.Logger != nil {
				t.Logger.Debug("idle: the heap of the last load returned to the OS", "resident", now.resident, "live", now.live)
			}
			// FreeOSMemory's collection is counted here, so the next idle
			// interval compares against it and does not repeat it.
			now = readHeap(samples)
		}
		last = now
	}
}
