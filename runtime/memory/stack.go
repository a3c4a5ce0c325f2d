package memory

import "context"

// StackDepth is the stack a request handler reaches through sipgo and
// sipfront down to the socket write, rounded up; see StackBallast. The
// runtime starts goroutines at the scanned goroutines' average used depth
// plus its stack guard, rounded up to a power of two: 12 KiB gives 16 KiB,
// the largest size the runtime keeps in its per-P stack caches. Above
// about 15 KiB every goroutine would start at 32 KiB, from a slower pool.
const StackDepth = 12 << 10

// BallastGoroutines is how many deep goroutines StackBallast parks. Each
// collection averages over every goroutine it scans: with up to about 50
// other parked goroutines (a UDP proxy's listeners, timers and calls in
// flight) new goroutines start at 16 KiB; with 100–200 at 8 KiB, with
// 500 or more at 4 KiB (measured). Hundreds of long-lived TCP connection
// readers therefore dilute it; go_gc_stack_starting_size_bytes shows it.
const BallastGoroutines = 128

// stackIndex is never written: reading the deep frame at an index the
// compiler cannot know keeps the frame from being optimised away.
var stackIndex int

// StackBallast parks BallastGoroutines goroutines, each StackDepth deep,
// until ctx ends, and returns at once.
//
// Why: sipgo runs every request, every response and every transaction
// timer on a new goroutine. The Go runtime starts a goroutine with the
// average depth it found in use at the last collection, plus its guard,
// rounded up to a power of two (adaptive stack start, Go 1.19). A proxy's
// goroutines live for microseconds, so that is the 2 KiB minimum: every
// goroutine starts small and doubles its stack as its calls go deeper;
// each doubling copies the stack and rewrites every frame on it, deep in
// the call. That was 12–14% of the proxy's CPU at 1,500 calls/s
// (runtime.newstack, BENCHMARKS.md#the-stack-ballast). The parked
// goroutines raise the average the runtime sees to a request's depth, so
// the proxy's goroutines start with the stack they need. They cost
// BallastGoroutines × 16 KiB of memory and a stack scan each per
// collection.
func StackBallast(ctx context.Context) {
	for range BallastGoroutines {
		go parkDeep(ctx.Done())
	}
}

// parkDeep blocks on done inside a StackDepth frame.
//
//go:noinline
func parkDeep(done <-chan struct{}) byte {
	var frame [StackDepth]byte
	<-done
	return frame[stackIndex%StackDepth]
}
