package e2e

import (
	"slices"
	"testing"
	"time"
)

// TestLeastCallsKeepsLevel places long calls of random length (1-6 s, see
// uac_long.xml) through a least-calls pool and samples the active calls
// per member while they run: the counts must stay level (spread at most 2,
// allowing for calls that end while the sample is taken). Round robin would
// drift apart with random call lengths.
func TestLeastCallsKeepsLevel(t *testing.T) {
	needSipp(t)
	const calls = 150
	boxes, members := threeBoxes(t, "uas.xml")
	port := freePort(t)
	path := writePolicy(t, policyText(port, pool{balance: lcBalance, members: members}, ""))
	p := startInProcess(t, path, addr(port))
	if b := p.graph.Pools[0].Balance; string(b) != lcBalance {
		t.Fatalf("compiled pool balance is %q, want least-calls", b)
	}

	s := startCaller(t, p.addr, caller{scenario: "uac_long.xml", service: "alice", calls: calls, rate: 25, limit: 200})
	worst, peak, samples := 0, 0, 0
	var worstAt []int
	for done := false; !done; {
		select {
		case <-s.done:
			done = true
		case <-time.After(100 * time.Millisecond):
		}
		a := p.activeCalls()
		samples++
		if d := slices.Max(a) - slices.Min(a); d > worst {
			worst, worstAt = d, a
		}
		peak = max(peak, slices.Max(a))
	}
	r := s.result(t, time.Second)
	checkCaller(t, r, calls)
	counts := stopBoxes(t, boxes)
	t.Logf("least-calls: %d samples, peak %d active on one box, worst spread %d %v; calls per box %v",
		samples, peak, worst, worstAt, spread(counts))
	if peak < 5 {
		t.Errorf("peak active calls per box %d: the load was too light to test balancing", peak)
	}
	if worst > 2 {
		t.Errorf("active calls per member drifted apart: spread %d at %v, want at most 2", worst, worstAt)
	}
}

// lcBalance is the strategy under test (a variable so the test can be
// pointed at round-robin by hand, to see it fail).
var lcBalance = "least-calls"
