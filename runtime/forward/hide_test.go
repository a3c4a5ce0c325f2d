package forward

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestHideRoundTrip: a request copied with Hide carries only the proxy's
// Via and Record-Route and its Contact; the response rebuilt by
// HideResponse has the sender's Vias back, the proxy's Record-Route then
// the sender's side, and the proxy's Contact instead of the callee's.
func TestHideRoundTrip(t *testing.T) {
	r := &Relay{Self: testSelf(t)}
	raw := strings.Replace(relayInvite, "Route: <sip:127.0.0.1:5070;lr>\nRoute: <sip:10.0.0.8;lr>\n",
		"Record-Route: <sip:192.0.2.50;lr>\nContact: <sip:alice@192.0.2.7:5062>\n", 1)
	req := parseRequest(t, raw, "198.51.100.1:6000")
	contact := r.Self.HiddenContact("tok", "udp")
	fwd := r.CopyWith(req, "10.0.0.9:5080", "udp", true, LoopHash(req), &CopyOptions{Hide: true, Contact: contact})
	out := fwd.String()
	for _, leak := range []string{"192.0.2.7", "192.0.2.50", "198.51.100.1"} {
		if strings.Contains(out, leak) {
			t.Errorf("hidden INVITE shows %s:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "Contact: <sip:th-tok@127.0.0.1:5070>") {
		t.Errorf("hidden INVITE lacks the proxy's Contact:\n%s", out)
	}

	res := sip.NewResponseFromRequest(fwd, 200, "OK", nil)
	res.AppendHeader(&sip.RecordRouteHeader{Address: sip.Uri{Host: "10.0.0.77", UriParams: sip.HeaderParams{{K: "lr"}}}})
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "box", Host: "10.0.0.9", Port: 5080}})
	res.RemoveHeader("Via") // ours, as Branch pops it
	up := r.HideResponse(res, req, r.Self.HiddenContact("tok", "udp")).String()
	for _, want := range []string{"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-abc", "Record-Route: <sip:192.0.2.50;lr>",
		"Contact: <sip:th-tok@127.0.0.1:5070>"} {
		if !strings.Contains(up, want) {
			t.Errorf("hidden 200 lacks %q:\n%s", want, up)
		}
	}
	for _, leak := range []string{"10.0.0.9", "10.0.0.77"} {
		if strings.Contains(up, leak) {
			t.Errorf("hidden 200 shows %s:\n%s", leak, up)
		}
	}
}
