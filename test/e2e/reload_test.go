package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadUnderLoad sends 20 SIGHUPs to `sipfront serve` while a sipp
// caller places 300 calls: no call may fail. Policies alternate between
// round robin and weighted; the 10th is broken and must be refused (logged,
// old graph serving); the last one keeps only box1, and the calls placed
// after it must all land there, proving the reloads took effect.
func TestReloadUnderLoad(t *testing.T) {
	needSipp(t)
	const calls, reloads = 300, 20
	boxes, members := threeBoxes(t, "uas.xml")
	port := freePort(t)
	good := []string{
		policyText(port, pool{balance: "round-robin", members: members}, ""),
		policyText(port, pool{balance: "weighted", members: withWeights(members, 1, 2, 3)}, ""),
	}
	broken := strings.Replace(good[0], `balance = "round-robin"`, `balance = "round-robbin"`, 1)
	only1 := policyText(port, pool{balance: "round-robin", members: members[:1]}, "")
	path := writePolicy(t, good[0])
	p := startProxy(t, path, addr(port))

	s := startCaller(t, p.addr, caller{scenario: "uac.xml", service: "alice", calls: calls, rate: 30, holdMS: 300})
	for i := 1; i <= reloads; i++ {
		time.Sleep(400 * time.Millisecond)
		text := good[i%2]
		switch i {
		case reloads / 2:
			text = broken
		case reloads:
			text = only1
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		mark := len(p.log.String())
		p.signal(t, syscall.SIGHUP)
		if i == reloads/2 {
			expectRefusal(t, p, mark)
		}
	}
	main := s.result(t, 90*time.Second)
	checkCaller(t, main, calls)

	// After the last reload only box1 is a member.
	before := boxInvites(t, boxes)
	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "alice", calls: 30, rate: 30, holdMS: 50})
	checkCaller(t, r, 30)
	after := boxInvites(t, boxes)
	if after[0]-before[0] != 30 || after[1] != before[1] || after[2] != before[2] {
		t.Errorf("after the last reload (box1 only) INVITEs per box went from %v to %v; want +30 on box1 only", before, after)
	}
	t.Logf("reload: %d SIGHUPs (1 broken) during %d calls: %d ok, %d failed; then per box %v -> %v",
		reloads, calls, main.ok, main.failed, before, after)
	stopBoxes(t, boxes)
}

// expectRefusal waits (bounded) for the proxy to log the refusal of the
// broken policy, with the diagnostic naming the bad value.
func expectRefusal(t *testing.T, p *proxyProc, mark int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		logged := p.log.String()[mark:]
		if strings.Contains(logged, "round-robbin") || strings.Contains(logged, "policy.hcl:") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("the broken policy was not refused with a diagnostic in the log; log since SIGHUP:\n%s", p.log.String()[mark:])
}

// boxInvites reads every box's INVITE count from its live counts file
// (sipp rewrites it every second, so wait for a fresh line).
func boxInvites(t *testing.T, boxes []*sippProc) []int64 {
	t.Helper()
	time.Sleep(1500 * time.Millisecond)
	out := make([]int64, len(boxes))
	for i, b := range boxes {
		out[i] = invites(lastCSV(t, b.dir, "_counts.csv"))
	}
	return out
}

// withWeights returns a copy of ms with the given weights.
func withWeights(ms []member, w ...int) []member {
	out := append([]member(nil), ms...)
	for i := range out {
		if i < len(w) {
			out[i].weight = w[i]
		}
	}
	return out
}
