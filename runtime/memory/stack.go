package memory

import "context"

// StackDepth is the stack a request handler reaches through sipgo and
// sipfront down to the socket write, rounded up; see StackBallast.
const StackDepth = 12 << 10

// BallastGoroutines is how many deep goroutines StackBallast parks: enough
// to outweigh the goroutines a collection finds in flight at a few
// thousand calls per second.
const BallastGoroutines = 128

// stackIndex is never written: reading the deep frame at an index the
// compiler cannot know keeps the frame from being optimised away.
var stackIndex int

// StackBallast parks BallastGoroutines goroutines, each StackDepth deep,
// until ctx ends, and returns at once.
//
// Why: sipgo runs every request, every response and every transaction
// timer on a new goroutine. The Go runtime starts a goroutine with the
// average stack it found in use at the last collection (adaptive stack
// start, Go 1.19). A proxy's goroutines live for microseconds, so that
// average is small, every goroutine starts small and doubles its stack
// as its calls go deeper; each doubling copies the stack and rewrites
// every frame on it, deep in the call. That was about 14% of the proxy's
// CPU at 1,500 calls/s (runtime.newstack, BENCHMARKS.md). The parked
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
