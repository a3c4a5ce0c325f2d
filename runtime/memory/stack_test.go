package memory

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
)

// startingStack reads the stack size the runtime gives a new goroutine,
// as computed at the last collection.
func startingStack(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("metric %s not supported by this Go", s[0].Name)
	}
	return s[0].Value.Uint64()
}

func TestStackBallastRaisesStartingStack(t *testing.T) {
	if strings.Contains(os.Getenv("GODEBUG"), "adaptivestackstart=0") {
		t.Skip("GODEBUG turns the adaptive starting stack off: the ballast has nothing to raise")
	}
	runtime.GC()
	before := startingStack(t)
	ctx, cancel := context.WithCancel(context.Background())
	StackBallast(ctx)
	var during uint64
	for range 100 { // until the ballast's goroutines have all parked
		runtime.Gosched()
		runtime.GC()
		if during = startingStack(t); during >= StackDepth {
			break
		}
	}
	cancel()
	if during < StackDepth {
		t.Fatalf("starting stack with the ballast = %d bytes, want at least %d (before: %d)", during, StackDepth, before)
	}
	// Once the ballast is released the runtime goes back to the average
	// of what is really in use.
	for range 10 {
		runtime.Gosched()
		runtime.GC()
		if startingStack(t) < during {
			return
		}
	}
	t.Fatalf("starting stack stayed at %d bytes after the ballast was released", startingStack(t))
}
