package e2e

import (
	"testing"
	"time"
)

// TestCancelBeforeAnswer: the caller cancels while the box rings. The
// caller must get 487, the box must get the CANCEL, and nothing may be left
// in the dialog table or the call counters. The runtime runs in-process so
// the test can look at its dialog table.
func TestCancelBeforeAnswer(t *testing.T) {
	needSipp(t)
	const calls = 10
	boxPort := freePort(t)
	box := startBox(t, "ringer", "uas_ring.xml", boxPort)
	port := freePort(t)
	path := writePolicy(t, policyText(port, pool{balance: "round-robin", members: []member{{name: "ringer", port: boxPort}}}, ""))
	p := startInProcess(t, path, addr(port))

	r := runCaller(t, p.addr, caller{scenario: "uac_cancel.xml", service: "alice", calls: calls, rate: 10})
	checkCaller(t, r, calls) // uac_cancel.xml succeeds only on 487

	counts := box.stop(t)
	if got := column(counts, "_CANCEL_Recv"); got != calls {
		t.Errorf("box received %d CANCELs, want %d", got, calls)
	}
	// The dialog table is cleaned when the INVITE transaction ends; give
	// the runtime a bounded moment after the last 487.
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := p.state.Dialogs("")
		active := p.activeCalls()
		if len(left) == 0 && active[0] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d cancelled calls: %d dialogs left (%+v), active calls %v; want none", calls, len(left), left, active)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
