package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// phone is a sipp UAS registered as alice from its own port, as a real
// phone registers from the address it is reached at.
type phone struct {
	name, scen string
	q          string // "" for none
	port       int
	box        *sippProc
}

// registerPhones registers each phone's contact from the phone's own port
// (the binding's source), then starts the sipp UAS on that port.
func registerPhones(t *testing.T, proxyAddr string, phones []*phone) {
	t.Helper()
	for i, ph := range phones {
		ph.port = freePort(t)
		u := newUA(t, addr(ph.port), proxyAddr)
		contact := fmt.Sprintf("<sip:alice@%s>", addr(ph.port))
		if ph.q != "" {
			contact += ";q=" + ph.q
		}
		res := u.register(t, "alice", "sipfront.test", fmt.Sprintf("reg-%s-%d", ph.name, i), 1, "3600", contact)
		if statusOf([]byte(res)) != 200 {
			t.Fatalf("register %s: %s", ph.name, res)
		}
		u.conn.Close() // the port goes to the phone
		ph.box = startBox(t, ph.name, ph.scen, ph.port)
	}
}

// TestForkParallel100: alice has three phones; two ring until cancelled,
// one answers. Each of 100 calls rings all three, the answering phone gets
// the call, the two others get CANCEL.
func TestForkParallel100(t *testing.T) {
	needSipp(t)
	const calls = 100
	port, adminPort := freePort(t), freePort(t)
	p := startProxy(t, writePolicy(t, registrarPolicy(port, adminPort, 3, "parallel", "")), addr(port))
	phones := []*phone{{name: "ring1", scen: "uas_ring.xml"}, {name: "ring2", scen: "uas_ring.xml"}, {name: "answer", scen: "uas.xml"}}
	registerPhones(t, p.addr, phones)

	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "alice", calls: calls, rate: 10, holdMS: 100})
	checkCaller(t, r, calls)
	for _, ph := range phones {
		counts := ph.box.stop(t)
		invites := column(counts, "_INVITE_Recv")
		if invites != calls {
			t.Errorf("%s received %d INVITEs, want %d (every phone rings)", ph.name, invites, calls)
		}
		if byes := column(counts, "_BYE_Recv"); ph.name == "answer" && byes != calls {
			t.Errorf("%s received %d BYEs, want %d (the ACK and BYE follow the answering contact)", ph.name, byes, calls)
		}
		if cancels := column(counts, "_CANCEL_Recv"); strings.HasPrefix(ph.name, "ring") && cancels != calls {
			t.Errorf("%s received %d CANCELs, want %d (the call was answered elsewhere)", ph.name, cancels, calls)
		}
	}
}

// TestForkSerial100: alice's phone with q=1.0 rings for fork_timeout (1s)
// and is cancelled, then her q=0.5 phone rings and answers.
func TestForkSerial100(t *testing.T) {
	needSipp(t)
	const calls = 100
	port, adminPort := freePort(t), freePort(t)
	p := startProxy(t, writePolicy(t, registrarPolicy(port, adminPort, 3, "serial", "1s")), addr(port))
	phones := []*phone{{name: "first", scen: "uas_ring.xml", q: "1.0"}, {name: "second", scen: "uas.xml", q: "0.5"}}
	registerPhones(t, p.addr, phones)

	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "alice", calls: calls, rate: 20, limit: 100, holdMS: 100})
	checkCaller(t, r, calls)
	first, second := phones[0].box.stop(t), phones[1].box.stop(t)
	if got := column(first, "_CANCEL_Recv"); got != calls {
		t.Errorf("the q=1.0 phone received %d CANCELs, want %d (cancelled after fork_timeout)", got, calls)
	}
	if got := column(second, "_INVITE_Recv"); got != calls {
		t.Errorf("the q=0.5 phone received %d INVITEs, want %d", got, calls)
	}
	if got := column(second, "_BYE_Recv"); got != calls {
		t.Errorf("the q=0.5 phone received %d BYEs, want %d", got, calls)
	}
	if got := column(first, "_ACK_Recv"); got != calls {
		t.Errorf("the q=1.0 phone had %d of its 487s ACKed, want %d", got, calls)
	}
}

// TestForkCallerCancelAndNoBinding: the caller's CANCEL reaches every
// ringing branch (the caller gets 487, each phone a CANCEL), and a call to
// a user with no binding gets 480.
func TestForkCallerCancelAndNoBinding(t *testing.T) {
	needSipp(t)
	const calls = 10
	port, adminPort := freePort(t), freePort(t)
	p := startProxy(t, writePolicy(t, registrarPolicy(port, adminPort, 3, "parallel", "")), addr(port))
	phones := []*phone{{name: "ring1", scen: "uas_ring.xml"}, {name: "ring2", scen: "uas_ring.xml"}}
	registerPhones(t, p.addr, phones)

	r := runCaller(t, p.addr, caller{scenario: "uac_cancel_fork.xml", service: "alice", calls: calls, rate: 10})
	checkCaller(t, r, calls) // it succeeds only on 487
	for _, ph := range phones {
		if got := column(ph.box.stop(t), "_CANCEL_Recv"); got != calls {
			t.Errorf("%s received %d CANCELs, want %d", ph.name, got, calls)
		}
	}

	invite := ("INVITE sip:nobody@sipfront.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-nobody;rport\r\n" +
		"From: <sip:caller@sipfront.test>;tag=n1\r\nTo: <sip:nobody@sipfront.test>\r\nCall-ID: nobody-1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:caller@127.0.0.1:9>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
	if code, err := exchangeUDP("", p.addr, []byte(invite), 5*time.Second); err != nil || code != 480 {
		t.Fatalf("INVITE to a user without binding: %d %v, want 480", code, err)
	}
}

// TestForkTimerC: Timer C (proxy.ring_timeout) runs on every branch: two
// phones ring past it, each gets a CANCEL, and the caller gets 408.
func TestForkTimerC(t *testing.T) {
	needSipp(t)
	port := freePort(t)
	text := strings.Replace(registrarPolicy(port, freePort(t), 3, "parallel", ""), `ring_timeout = "30s"`, `ring_timeout = "2s"`, 1)
	p := startProxy(t, writePolicy(t, text), addr(port))
	phones := []*phone{{name: "ring1", scen: "uas_ring.xml"}, {name: "ring2", scen: "uas_ring.xml"}}
	registerPhones(t, p.addr, phones)

	caller := newRawUA(t, "caller", "127.0.0.1")
	start := time.Now()
	caller.send(t, p.addr, crlf(
		"INVITE sip:alice@sipfront.test SIP/2.0",
		"Via: SIP/2.0/UDP "+caller.addr+";branch=z9hG4bK-"+randTag()+";rport",
		"Max-Forwards: 70",
		"From: <sip:caller@sipfront.test>;tag="+randTag(),
		"To: <sip:alice@sipfront.test>",
		"Call-ID: "+randTag(),
		"CSeq: 1 INVITE",
		"Contact: <sip:caller@"+caller.addr+">",
		"Content-Length: 0",
		""))
	if res := caller.final(t, sip.INVITE, 15*time.Second); res.StatusCode != 408 {
		t.Fatalf("caller got %d, want 408 after Timer C", res.StatusCode)
	}
	if e := time.Since(start); e < 2*time.Second {
		t.Errorf("408 after %v, before ring_timeout", e)
	}
	for _, ph := range phones {
		if got := column(ph.box.stop(t), "_CANCEL_Recv"); got != 1 {
			t.Errorf("%s received %d CANCELs, want 1 (its own Timer C)", ph.name, got)
		}
	}
}
