package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// dialogPolicy is a one-member policy for the dialog tests; proxyExtra goes
// into the proxy block.
func dialogPolicy(proxyPort int, box, proxyExtra string) string {
	return fmt.Sprintf(`proxy {
  listen    = ["udp:%[1]s"]
  advertise = %[1]q
  admin     = ""
%[3]s
}

pool "boxes" {
  member "box" { uri = "sip:%[2]s" }
}

route "default" {
  to = pool.boxes
}
`, addr(proxyPort), box, proxyExtra)
}

// startDialogProxy starts a caller on 127.0.0.1, a box on boxIP and the
// proxy between them.
func startDialogProxy(t *testing.T, boxIP, proxyExtra string) (caller, box *rawUA, proxy string) {
	t.Helper()
	caller, box = newRawUA(t, "alice", "127.0.0.1"), newRawUA(t, "box", boxIP)
	port := freePort(t)
	p := startProxy(t, writePolicy(t, dialogPolicy(port, box.addr, proxyExtra)), addr(port))
	return caller, box, p.addr
}

// TestDialogValidation: an in-dialog request for a dialog the proxy does
// not know gets 481 and is never relayed; a forged route set gets 403 and
// does not move the dialog's CSeq; a CSeq equal to the last is relayed (a
// late retransmission), a lower one gets 500; the real BYE goes through and
// the dialog is then unknown.
func TestDialogValidation(t *testing.T) {
	caller, box, proxy := startDialogProxy(t, "127.0.0.1", "")
	own := "<sip:" + proxy + ";lr>"

	stranger := &rawDialog{ua: caller, callID: randTag() + "@nowhere", local: "<sip:eve@outside.example>",
		remote: "<sip:bob@sipfront.test>", localTag: randTag(), remoteTag: randTag(),
		target: "sip:bob@" + box.addr, routes: []string{own}, cseq: 7, proxy: proxy}
	if got := transact(t, stranger, sip.BYE, nil, 0); got != 481 {
		t.Fatalf("BYE with an unknown To tag: %d, want 481", got)
	}

	cd, bd := rawCall(t, caller, box, proxy, "bob")
	next := cd.cseq
	cd.cseq += 1000 // a forged request's CSeq must not lock the caller out
	for name, routes := range map[string][]string{
		"a foreign first Route":    {"<sip:127.0.0.1:9;lr>"},
		"a Route added after ours": {own, "<sip:127.0.0.1:9;lr>"},
	} {
		caller.send(t, proxy, cd.request("INFO", routes, nil))
		if got := caller.final(t, sip.INFO, 10*time.Second).StatusCode; got != 403 {
			t.Errorf("INFO with %s: %d, want 403", name, got)
		}
	}
	cd.cseq = next + 1 // the next real INFO: above the INVITE's, far below the forged ones
	if got := transact(t, cd, sip.INFO, box, 200); got != 200 {
		t.Errorf("INFO after refused forged ones: %d, want 200 (a refused request raised the CSeq)", got)
	}
	// The same CSeq again, as a retransmission arriving after the proxy's
	// transaction ended would: relayed (the box's transaction answers).
	cd.cseq--
	if got := transact(t, cd, sip.INFO, box, 200); got != 200 {
		t.Errorf("INFO repeating the last CSeq: %d, want 200", got)
	}
	cd.cseq -= 2 // lower than the last: out of order (RFC 3261 §12.2.2)
	caller.send(t, proxy, cd.request("INFO", nil, nil))
	if got := caller.final(t, sip.INFO, 10*time.Second).StatusCode; got != 500 {
		t.Errorf("INFO with a lower CSeq: %d, want 500", got)
	}
	cd.cseq += 2
	if got := transact(t, bd, sip.INFO, caller, 200); got != 200 {
		t.Errorf("INFO from the box: %d, want 200", got)
	}
	// The box must have received nothing refused: the next request it
	// sees is the BYE.
	if got := transact(t, cd, sip.BYE, box, 200); got != 200 {
		t.Fatalf("BYE: %d, want 200", got)
	}
	if got := transact(t, cd, sip.BYE, nil, 0); got != 481 {
		t.Errorf("BYE after the dialog ended: %d, want 481", got)
	}
}

// TestDialogDeadBox: a box that dies mid-call does not leave the caller's
// BYE waiting 32 s: it gets 408 within in_dialog_timeout, and the dialog
// is gone.
func TestDialogDeadBox(t *testing.T) {
	caller, box, proxy := startDialogProxy(t, "127.0.0.1", `  in_dialog_timeout = "2s"`)
	cd, _ := rawCall(t, caller, box, proxy, "bob")
	box.conn.Close() // the box dies
	start := time.Now()
	caller.send(t, proxy, cd.request("BYE", nil, nil))
	res := caller.final(t, sip.BYE, 10*time.Second)
	took := time.Since(start)
	if res.StatusCode != 408 || took > 2*time.Second+1500*time.Millisecond {
		t.Fatalf("BYE to a dead box: %d after %v, want 408 within 2s (+1.5s slack)", res.StatusCode, took)
	}
	if got := transact(t, cd, sip.BYE, nil, 0); got != 481 {
		t.Errorf("BYE after the 408: %d, want 481 (the dialog ended)", got)
	}
}

// TestMaxCallDuration: a call longer than max_call_duration gets a BYE on
// each side from the proxy, each as the other party would send it.
func TestMaxCallDuration(t *testing.T) {
	caller, box, proxy := startDialogProxy(t, "127.0.0.1", `  max_call_duration = "2s"`)
	cd, bd := rawCall(t, caller, box, proxy, "bob")
	for _, c := range []struct {
		ua       *rawUA
		from, to string
		cseqOver int
	}{
		{box, cd.localTag, bd.localTag, 1},
		{caller, bd.localTag, cd.localTag, 0},
	} {
		bye := c.ua.request(t, sip.BYE, 10*time.Second)
		ft, _ := bye.From().Params.Get("tag")
		tt, _ := bye.To().Params.Get("tag")
		if ft != c.from || tt != c.to || bye.CallID().Value() != cd.callID || int(bye.CSeq().SeqNo) <= c.cseqOver {
			t.Errorf("%s got BYE From tag %s To tag %s Call-ID %s CSeq %d; want %s, %s, %s, above %d",
				c.ua.name, ft, tt, bye.CallID().Value(), bye.CSeq().SeqNo, c.from, c.to, cd.callID, c.cseqOver)
		}
		c.ua.respond(t, bye, 200, "", "", nil)
	}
	if got := transact(t, cd, sip.BYE, nil, 0); got != 481 {
		t.Errorf("BYE after max_call_duration: %d, want 481", got)
	}
}

// TestTopologyHiding captures every message the proxy sends to the outside
// caller during two calls to a pool member (re-INVITEs and hang-ups in
// both directions) and finds no address of the box (127.0.0.2) outside the
// SDP; nor does the box see the caller's.
func TestTopologyHiding(t *testing.T) {
	caller, box, proxy := startDialogProxy(t, "127.0.0.2", `  topology_hiding = true`)
	hiddenCalls(t, caller, box, proxy, "bob")
	checkHidden(t, caller, box)
}

// TestTopologyHidingRegistered does the same for a phone on 127.0.0.2 that
// registered, reached through the registrar's fork.
func TestTopologyHidingRegistered(t *testing.T) {
	caller, phone := newRawUA(t, "alice", "127.0.0.1"), newRawUA(t, "phone", "127.0.0.2")
	port := freePort(t)
	policy := strings.Replace(registrarPolicy(port, freePort(t), 3, "parallel", ""), "proxy {\n", "proxy {\n  topology_hiding = true\n", 1)
	p := startProxy(t, writePolicy(t, policy), addr(port), "--state-dir", t.TempDir())
	reg := crlf(
		"REGISTER sip:sipfront.test SIP/2.0",
		"Via: SIP/2.0/UDP "+phone.addr+";branch=z9hG4bK-"+randTag()+";rport",
		"Max-Forwards: 70",
		"From: <sip:bob@sipfront.test>;tag="+randTag(),
		"To: <sip:bob@sipfront.test>",
		"Call-ID: "+randTag()+"@phone",
		"CSeq: 1 REGISTER",
		"Contact: <sip:phone@"+phone.addr+">",
		"Expires: 300",
		"Content-Length: 0",
		"",
	)
	phone.send(t, p.addr, reg)
	if res := phone.final(t, sip.REGISTER, 10*time.Second); res.StatusCode != 200 {
		t.Fatalf("REGISTER: %d", res.StatusCode)
	}
	hiddenCalls(t, caller, phone, p.addr, "bob")
	checkHidden(t, caller, phone)
}

// hiddenCalls makes two calls from caller to user, reached at box, with a
// re-INVITE each way, an INFO from the box, and the hang-up from the box
// then from the caller.
func hiddenCalls(t *testing.T, caller, box *rawUA, proxy, user string) {
	t.Helper()
	for _, hangUpFrom := range []string{"box", "caller"} {
		cd, bd := rawCall(t, caller, box, proxy, user)
		reinvite(t, cd, box)
		reinvite(t, bd, caller)
		if got := transact(t, bd, sip.INFO, caller, 200); got != 200 {
			t.Errorf("INFO from the box: %d", got)
		}
		var got int
		if hangUpFrom == "box" {
			got = transact(t, bd, sip.BYE, caller, 200)
		} else {
			got = transact(t, cd, sip.BYE, box, 200)
		}
		if got != 200 {
			t.Fatalf("BYE from the %s: %d, want 200", hangUpFrom, got)
		}
	}
}

// checkHidden fails when the caller saw the box's address (127.0.0.2) or
// the box saw the caller's, outside message bodies, or the caller saw
// fewer than the two calls of hiddenCalls make.
func checkHidden(t *testing.T, caller, box *rawUA) {
	t.Helper()
	checkHiddenFrom(t, caller, box, 10)
}

// checkHiddenFrom is checkHidden after at least least messages to the
// caller.
func checkHiddenFrom(t *testing.T, caller, box *rawUA, least int) {
	t.Helper()
	check := func(who string, msgs [][]byte, secret string) {
		for _, m := range msgs {
			head, _, _ := bytes.Cut(m, []byte("\r\n\r\n"))
			if bytes.Contains(head, []byte(secret)) {
				t.Errorf("%s received %q outside the body:\n%s", who, secret, head)
			}
		}
	}
	check("the caller", caller.received(), "127.0.0.2")
	check("the box", box.received(), caller.addr)
	if n := len(caller.received()); n < least {
		t.Errorf("the caller received only %d messages", n)
	}
}

// reinvite sends a re-INVITE from d, has peer answer 200 and sends the ACK.
func reinvite(t *testing.T, d *rawDialog, peer *rawUA) {
	t.Helper()
	d.ua.send(t, d.proxy, d.request("INVITE", nil, sdp(strings.Split(d.ua.addr, ":")[0])))
	in := peer.request(t, sip.INVITE, 10*time.Second)
	peer.respond(t, in, 200, "", "<sip:"+peer.name+"@"+peer.addr+">", sdp(strings.Split(peer.addr, ":")[0]))
	if res := d.ua.final(t, sip.INVITE, 10*time.Second); res.StatusCode != 200 {
		t.Fatalf("re-INVITE from %s: %d", d.ua.name, res.StatusCode)
	}
	d.ua.send(t, d.proxy, d.request("ACK", nil, nil))
	peer.request(t, sip.ACK, 10*time.Second)
}

// TestDialogChallengedBye: a box that challenges the caller's BYE (401)
// leaves the dialog up, so the BYE resent with credentials reaches the
// box instead of getting 481 from the proxy; its 200 ends the dialog.
func TestDialogChallengedBye(t *testing.T) {
	caller, box, proxy := startDialogProxy(t, "127.0.0.1", "")
	cd, _ := rawCall(t, caller, box, proxy, "bob")
	if got := transact(t, cd, sip.BYE, box, 401); got != 401 {
		t.Fatalf("challenged BYE: %d, want 401", got)
	}
	if got := transact(t, cd, sip.BYE, box, 200); got != 200 {
		t.Fatalf("BYE resent after the challenge: %d, want 200", got)
	}
	if got := transact(t, cd, sip.BYE, nil, 0); got != 481 {
		t.Errorf("BYE after the dialog ended: %d, want 481", got)
	}
}

// TestTopologyHidingEarlyUpdate: under topology hiding, a box that sent a
// 180 with its tag sends an UPDATE in the early dialog to the proxy's
// hidden Contact; the proxy finds the dialog from the callee's side and
// relays it to the caller (not back to itself: 482), and the call goes on.
func TestTopologyHidingEarlyUpdate(t *testing.T) {
	caller, box, proxy := startDialogProxy(t, "127.0.0.2", `  topology_hiding = true`)
	cd, bd := rawCallEarly(t, caller, box, proxy, "bob", func(bd *rawDialog) {
		if got := transact(t, bd, sip.UPDATE, caller, 200); got != 200 {
			t.Fatalf("early UPDATE from the box: %d, want 200", got)
		}
	})
	reinvite(t, bd, caller)
	if got := transact(t, cd, sip.BYE, box, 200); got != 200 {
		t.Fatalf("BYE: %d, want 200", got)
	}
	checkHiddenFrom(t, caller, box, 5) // 180, UPDATE, 200, re-INVITE, ACK, 200 BYE
}

// TestDialogNoOpenRelay: an in-dialog request of no dialog the proxy
// knows, from a source that is not a peer, is never carried to the host
// its Route or Request-URI names (here the pool member's own address, an
// "internal" host): 481, and the member sees nothing.
func TestDialogNoOpenRelay(t *testing.T) {
	caller, box, proxy := startDialogProxy(t, "127.0.0.2", "")
	for _, routes := range [][]string{{"<sip:" + box.addr + ";lr>"}, {}} {
		stranger := &rawDialog{ua: caller, callID: randTag() + "@nowhere", local: "<sip:eve@outside.example>",
			remote: "<sip:bob@sipfront.test>", localTag: randTag(), remoteTag: randTag(),
			target: "sip:bob@" + box.addr, routes: routes, cseq: 7, proxy: proxy}
		for _, m := range []sip.RequestMethod{sip.NOTIFY, sip.MESSAGE, "FOO"} {
			if got := transact(t, stranger, m, nil, 0); got != 481 {
				t.Errorf("%s with Route %v from a stranger: %d, want 481", m, routes, got)
			}
		}
	}
	// The member saw none of them: the first request it gets is the call.
	cd, _ := rawCall(t, caller, box, proxy, "bob")
	if got := transact(t, cd, sip.BYE, box, 200); got != 200 {
		t.Fatalf("BYE: %d, want 200", got)
	}
	for _, m := range box.received() {
		if line, _, _ := bytes.Cut(m, []byte("\r\n")); bytes.HasPrefix(line, []byte("NOTIFY")) ||
			bytes.HasPrefix(line, []byte("MESSAGE")) || bytes.HasPrefix(line, []byte("FOO")) {
			t.Errorf("the member received %q", line)
		}
	}
}
