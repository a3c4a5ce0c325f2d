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

// Trimmer gives freed heap back to the operating system once the load that
// made it has stopped: when no collection ran during one Interval (nothing
// is allocating: the proxy is idle) and more than MinFree bytes of heap
// are free but still resident, it runs debug.FreeOSMemory once. Under load
// it does nothing, since collections run all the time then and the freed
// spans are about to be reused.
type Trimmer struct {
	// Interval is how often the heap is looked at; zero means 10 s.
	Interval time.Duration
	// MinFree is the resident free heap worth a forced collection; zero
	// means 16 MiB.
	MinFree uint64
	// Logger receives one debug line per trim; nil means none.
	Logger *slog.Logger
}

// The runtime/metrics read by a Trimmer.
const (
	metricCycles = "/gc/cycles/total:gc-cycles"
	metricFree   = "/memory/classes/heap/free:bytes"
)

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
	samples := []metrics.Sample{{Name: metricCycles}, {Name: metricFree}}
	metrics.Read(samples)
	lastCycles := samples[0].Value.Uint64()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(samples)
		cycles, free := samples[0].Value.Uint64(), samples[1].Value.Uint64()
		if cycles == lastCycles && free > minFree {
			debug.FreeOSMemory() // a collection: counted below, so the next idle interval does not repeat it
			if t.Logger != nil {
				t.Logger.Debug("idle: freed heap returned to the OS", "bytes", free)
			}
			metrics.Read(samples)
			cycles = samples[0].Value.Uint64()
		}
		lastCycles = cycles
	}
}
