package e2e

import (
	"os"
	"slices"
	"testing"
	"time"
)

// TestLeastCallsKeepsLevel checks least-calls the way an operator sees it
// after adding boxes to a loaded pool: 12 long calls land on box1 while it is
// the pool's only member; a reload adds box2 and box3 (box1 keeps its ID, so
// its 12 calls survive the reload); the next 24 long calls must go to the two
// new boxes until all three carry 12. Round robin would give [20 8 8].
func TestLeastCallsKeepsLevel(t *testing.T) {
	needSipp(t)
	boxes, members := threeBoxes(t, "uas.xml")
	port := freePort(t)
	path := writePolicy(t, policyText(port, pool{balance: lcBalance, members: members[:1]}, ""))
	p := startInProcess(t, path, addr(port))
	hold := caller{scenario: "uac.xml", service: "alice", rate: 20, holdMS: 30000}

	first := hold
	first.calls = 12
	c1 := startCaller(t, p.addr, first)
	waitActive(t, p, 12)

	if err := os.WriteFile(path, []byte(policyText(port, pool{balance: lcBalance, members: members}, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.srv.Reload(); err != nil {
		t.Fatalf("reload adding box2 and box3: %v", err)
	}
	p.graph = p.srv.Graph()

	second := hold
	second.calls = 24
	c2 := startCaller(t, p.addr, second)
	waitActive(t, p, 36)
	got := p.activeCalls()
	t.Logf("%s: active calls per box after 12 + 24 long calls: %v", lcBalance, got)
	if !slices.Equal(got, []int{12, 12, 12}) {
		t.Errorf("active calls per box %v, want [12 12 12]: least-calls must fill the new boxes first", got)
	}
	c1.kill()
	c2.kill()
	stopBoxes(t, boxes)
}

// waitActive waits (at most 20 s) until the proxy counts n active calls in
// all.
func waitActive(t *testing.T, p *inProcess, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		total := 0
		for _, c := range p.activeCalls() {
			total += c
		}
		if total == n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("active calls %v never reached %d in all", p.activeCalls(), n)
}

// lcBalance is the strategy under test (a variable so the test can be
// pointed at round-robin by hand, to see it fail).
var lcBalance = "least-calls"
