package e2e

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestTransactionLinger: a finished transaction absorbs a retransmitted
// request during --transaction-linger (the sender gets the answer again,
// the box sees nothing new) and is gone after it: the same datagram is then
// relayed again as a new transaction (its CSeq equal to the dialog's last,
// which dialog validation lets through) and the box's answer comes back.
func TestTransactionLinger(t *testing.T) {
	caller, box := newRawUA(t, "alice", "127.0.0.1"), newRawUA(t, "box", "127.0.0.1")
	port := freePort(t)
	p := startProxy(t, writePolicy(t, dialogPolicy(port, box.addr, "")), addr(port), "--transaction-linger", "1s")
	if !strings.Contains(p.log.String(), "transaction_linger=1s") {
		t.Errorf("the start line does not say the linger in force:\n%s", tailLines(p.log.String(), 5))
	}
	cd, _ := rawCall(t, caller, box, p.addr, "bob")

	info := cd.request("INFO", nil, nil)
	caller.send(t, p.addr, info)
	box.respond(t, box.request(t, sip.INFO, 10*time.Second), 200, "", "", nil)
	if got := caller.final(t, sip.INFO, 10*time.Second).StatusCode; got != 200 {
		t.Fatalf("INFO: %d, want 200", got)
	}
	answered := time.Now()

	caller.send(t, p.addr, info) // a retransmission within the linger
	if got := caller.final(t, sip.INFO, 2*time.Second).StatusCode; got != 200 {
		t.Fatalf("INFO retransmitted within the linger: %d, want the 200 again", got)
	}
	time.Sleep(300 * time.Millisecond) // would a relayed copy reach the box?
	if n := countRequests(box.received(), "INFO"); n != 1 {
		t.Fatalf("the box got %d INFOs, want 1: the retransmission within the linger was relayed", n)
	}

	// The linger is a timer: wait it out (1 s, plus slack for a loaded machine).
	time.Sleep(time.Until(answered.Add(2500 * time.Millisecond)))
	caller.send(t, p.addr, info)
	box.respond(t, box.request(t, sip.INFO, 10*time.Second), 200, "", "", nil)
	if got := caller.final(t, sip.INFO, 10*time.Second).StatusCode; got != 200 {
		t.Fatalf("INFO retransmitted after the linger: %d, want 200 from the box", got)
	}
	if n := countRequests(box.received(), "INFO"); n != 2 {
		t.Errorf("the box got %d INFOs, want 2", n)
	}
}

// TestTransactionLingerBounds: a linger outside 1s..32s is refused before
// anything is served.
func TestTransactionLingerBounds(t *testing.T) {
	policy := writePolicy(t, dialogPolicy(freePort(t), "127.0.0.1:9", ""))
	for _, bad := range []string{"100ms", "1m"} {
		_, stderr, code := runSipfront(t, nil, "serve", policy, "--transaction-linger", bad)
		if code == 0 || !strings.Contains(stderr, "--transaction-linger") {
			t.Errorf("--transaction-linger %s: exit %d, stderr %q; want a refusal naming the flag", bad, code, stderr)
		}
	}
}

// countRequests counts the datagrams in msgs that are method requests.
func countRequests(msgs [][]byte, method string) int {
	n := 0
	for _, m := range msgs {
		if bytes.HasPrefix(m, []byte(method+" ")) {
			n++
		}
	}
	return n
}

// TestInviteRetransmittedAfterLinger: a caller that never heard the 2xx
// retransmits its INVITE after the INVITE transaction lingered out. That
// copy must not be relayed as a new call (the box would see a second
// INVITE, answer 482 as a merged request, and the live call would be
// ended under the caller): it is dropped, and the call goes on.
func TestInviteRetransmittedAfterLinger(t *testing.T) {
	caller, box := newRawUA(t, "alice", "127.0.0.1"), newRawUA(t, "box", "127.0.0.1")
	port := freePort(t)
	p := startProxy(t, writePolicy(t, dialogPolicy(port, box.addr, "")), addr(port), "--transaction-linger", "1s")
	cd, bd := rawCall(t, caller, box, p.addr, "bob")

	time.Sleep(2 * time.Second) // past the 1 s linger
	caller.send(t, p.addr, cd.invite)
	time.Sleep(500 * time.Millisecond) // would a relayed copy reach the box?
	if n := countRequests(box.received(), "INVITE"); n != 1 {
		t.Fatalf("the box got %d INVITEs, want 1: the late retransmission was relayed as a new call", n)
	}
	if got := transact(t, bd, sip.INFO, caller, 200); got != 200 {
		t.Errorf("INFO from the box after the late retransmission: %d, want 200", got)
	}
	if got := transact(t, cd, sip.BYE, box, 200); got != 200 {
		t.Errorf("BYE after the late retransmission: %d, want 200 (the dialog was disturbed)", got)
	}
}
