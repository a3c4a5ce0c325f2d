package runtime

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/auth"
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

// TestOwnAnswersCarryServerHeader: every answer the proxy builds itself
// carries the configured Server header: the auth challenge and the 503
// with Retry-After as much as a plain reply.
func TestOwnAnswersCarryServerHeader(t *testing.T) {
	port := freePort(t)
	g := testGraph(t, port, nil, func(g *graph.Graph) {
		g.Security.ServerHeader = "sipfront-test"
		g.Auth = []*graph.Auth{{ID: "auth.endpoints", Name: "endpoints", Realm: "example.com", NonceTTL: time.Minute}}
	})
	svc, err := auth.NewService(auth.Options{Secret: []byte("0123456789abcdef0123456789abcdef"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	startProxyConfig(t, Config{Load: func() (*graph.Graph, error) { return g, nil }, Auth: svc})
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	invite := func(n int) string {
		return fmt.Sprintf("INVITE sip:bob@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-sh%d;rport\r\n"+
			"From: <sip:alice@example.com>;tag=a%d\r\nTo: <sip:bob@example.com>\r\nCall-ID: server-header-%d\r\n"+
			"CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", port, conn.LocalAddr(), n, n, n)
	}
	read := func(what string) string {
		buf := make([]byte, 65535)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				t.Fatalf("%s: no answer: %v", what, err)
			}
			if msg := string(buf[:n]); !strings.HasPrefix(msg, "SIP/2.0 1") {
				return msg
			}
		}
	}
	if _, err := conn.WriteTo([]byte(invite(1)), to); err != nil {
		t.Fatal(err)
	}
	if msg := read("challenge"); !strings.HasPrefix(msg, "SIP/2.0 407") || !strings.Contains(msg, "\r\nServer: sipfront-test\r\n") {
		t.Errorf("challenge without the Server header:\n%s", msg)
	}
}
