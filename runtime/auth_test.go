package runtime

import (
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/intake"
)

// TestOutboundConsumesCredentials: every credentials header goes, whatever
// the case of its name (sipgo's RemoveHeader compares names exactly, P8),
// other headers stay, and a DID alias's user is written into the copy's
// Request-URI.
func TestOutboundConsumesCredentials(t *testing.T) {
	raw := "INVITE sip:+15559870001@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bK-1\r\n" +
		"From: <sip:alice@example.com>;tag=1\r\n" +
		"To: <sip:+15559870001@example.com>\r\n" +
		"Call-ID: c1\r\n" +
		"CSeq: 2 INVITE\r\n" +
		"proxy-authorization: Digest username=\"alice\", realm=\"example.com\"\r\n" +
		"Proxy-Authorization: Digest username=\"alice\", realm=\"other.example\"\r\n" +
		"AUTHORIZATION: Digest username=\"alice\"\r\n" +
		"X-Keep: yes\r\n" +
		"Content-Length: 0\r\n\r\n"
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*sip.Request)
	fwd := req.Clone()
	v := intake.NewView(req)
	v.R.RURI.User = "alice" // as Decide's alias stage leaves it
	d := graph.Decision{Auth: &graph.Auth{}, Alias: &graph.AliasTable{}, AliasFrom: "+15559870001"}
	outbound(v, &d)(fwd)
	for _, h := range fwd.Headers() {
		switch h.Name() {
		case "proxy-authorization", "Proxy-Authorization", "AUTHORIZATION":
			t.Errorf("%s was relayed", h.Name())
		}
	}
	if fwd.GetHeader("X-Keep") == nil || fwd.CallID() == nil {
		t.Error("other headers were removed")
	}
	if fwd.Recipient.User != "alice" || req.Recipient.User != "+15559870001" {
		t.Errorf("R-URI user: copy %q, original %q", fwd.Recipient.User, req.Recipient.User)
	}
	if outbound(v, &graph.Decision{}) != nil {
		t.Error("a decision without auth or alias prepares copies")
	}
}
