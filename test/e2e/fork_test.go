package e2e

import (
	"fmt"
	"strings"
	"testing"
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
