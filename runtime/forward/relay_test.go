package forward

import (
	"hash/fnv"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/intake"
	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// parseRequest parses a request as sipgo's UDP transport would, with a
// source address.
func parseRequest(t testing.TB, raw, source string) *sip.Request {
	t.Helper()
	msg, err := sip.NewParser().ParseSIP([]byte(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*sip.Request)
	req.SetSource(source)
	req.SetTransport("UDP")
	return req
}

const relayInvite = `INVITE sip:bob@10.0.0.9:5080 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-abc;rport
Route: <sip:127.0.0.1:5070;lr>
Route: <sip:10.0.0.8;lr>
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: relay-1
CSeq: 7 INVITE
Max-Forwards: 70
User-Agent: test
Content-Type: application/sdp
Content-Length: 5

v=0
`

func testSelf(t testing.TB) *Self {
	t.Helper()
	s, err := NewSelf(graph.Proxy{Listen: []graph.Listen{{Transport: "udp", Addr: "127.0.0.1:5070"}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRelayCopy checks the forwarded request on the wire and that the
// request as received, which sipgo answers from, is left untouched (P1).
func TestRelayCopy(t *testing.T) {
	s := &Relay{Self: testSelf(t)}
	req := parseRequest(t, relayInvite, "198.51.100.1:6000")
	before := req.String()
	fwd := s.Copy(req, "10.0.0.9:5080", "tcp", true, LoopHash(req))
	if got := req.String(); got != before {
		t.Fatalf("request modified:\n%s\nwant\n%s", got, before)
	}
	lines := strings.Split(fwd.String(), "\r\n")
	if !strings.HasPrefix(lines[1], "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-sf") {
		t.Errorf("top Via: %s", lines[1])
	}
	want := []string{
		"INVITE sip:bob@10.0.0.9:5080 SIP/2.0",
		"", // our Via, checked above
		"Record-Route: <sip:127.0.0.1:5070;transport=tcp;lr>",
		"Record-Route: <sip:127.0.0.1:5070;lr>",
		"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-abc;rport=6000;received=198.51.100.1",
		"Route: <sip:10.0.0.8;lr>",
		"From: <sip:alice@example.com>;tag=a1",
		"To: <sip:bob@example.com>",
		"Call-ID: relay-1",
		"CSeq: 7 INVITE",
		"Max-Forwards: 69",
		"User-Agent: test",
		"Content-Type: application/sdp",
		"Content-Length: 5",
		"",
		"v=0",
	}
	for i, w := range want {
		if w == "" && i == 1 {
			continue
		}
		if i >= len(lines) || lines[i] != w {
			t.Fatalf("line %d: got\n%s\nwant %q", i, fwd.String(), w)
		}
	}
	if fwd.Transport() != "TCP" || fwd.Destination() != "10.0.0.9:5080" || fwd.Laddr.IP != nil {
		t.Errorf("transport %s destination %s laddr %v", fwd.Transport(), fwd.Destination(), fwd.Laddr)
	}
	if r := fwd.Route(); r == nil || r.Address.Host != "10.0.0.8" {
		t.Errorf("Route ref: %v", r)
	}
	if fwd.Via() == req.Via() || fwd.MaxForwards() == req.MaxForwards() {
		t.Error("Via or Max-Forwards shared with the request")
	}
}

// TestRelayCopyAddsMaxForwards: a request without Max-Forwards passes
// validation and is forwarded with Max-Forwards: 70 (RFC 3261 §16.6 step
// 3); a method sipgo upper-cased is forwarded in the case of its CSeq.
func TestRelayCopyAddsMaxForwards(t *testing.T) {
	s := &Relay{Self: testSelf(t)}
	raw := strings.Replace(relayInvite, "Max-Forwards: 70\n", "", 1)
	raw = strings.Replace(strings.Replace(raw, "INVITE sip:", "xFoo sip:", 1), "CSeq: 7 INVITE", "CSeq: 7 xFoo", 1)
	req := parseRequest(t, raw, "198.51.100.1:6000")
	v := intake.Validator{IsLoop: s.Self.IsLoop}
	if code, reason := v.Validate(req); code != 0 {
		t.Fatalf("validate: %d %s", code, reason)
	}
	fwd := s.Copy(req, "10.0.0.9:5080", "udp", false, LoopHash(req))
	if mf := fwd.MaxForwards(); mf == nil || mf.Val() != 70 {
		t.Errorf("forwarded Max-Forwards %v, want 70", mf)
	}
	if fwd.Method != "xFoo" {
		t.Errorf("forwarded method %q, want xFoo as sent", fwd.Method)
	}
}

// TestLoopHashIsFNV pins LoopHash to FNV-1a over the fields and separators
// that hash/fnv saw before it was unrolled.
func TestLoopHashIsFNV(t *testing.T) {
	req := parseRequest(t, relayInvite, "198.51.100.1:6000")
	h := fnv.New64a()
	u := &req.Recipient
	for _, p := range []string{u.Scheme, u.User, u.Host, strconv.Itoa(u.Port), sipmsg.Tag(req.From()), sipmsg.ToTag(req), sipmsg.CallID(req)} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	h.Write([]byte(strconv.FormatUint(uint64(req.CSeq().SeqNo), 10)))
	h.Write([]byte(req.CSeq().MethodName))
	if got, want := LoopHash(req), h.Sum64(); got != want {
		t.Fatalf("LoopHash %x, fnv %x", got, want)
	}
}

// TestPerRequestHelpersDoNotAllocate guards the per-request helpers.
func TestPerRequestHelpersDoNotAllocate(t *testing.T) {
	s := &Relay{Self: testSelf(t)}
	v := &intake.Validator{IsLoop: s.Self.IsLoop}
	req := parseRequest(t, relayInvite, "198.51.100.1:6000")
	other := &sip.Uri{Host: "10.0.0.8", Port: 5060}
	for name, f := range map[string]func(){
		"loopHash": func() { LoopHash(req) },
		"header":   func() { sipmsg.Header(req, "X-Absent") },
		"validate": func() { v.Validate(req) },
		"isOwn":    func() { s.Self.IsOwn(other) },
		"isLoop":   func() { s.Self.IsLoop(req) },
		"nextRoute": func() {
			if s.Self.NextRoute(req) == nil {
				t.Fatal("no route")
			}
		},
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

// BenchmarkRelayCopy measures building the forwarded INVITE.
func BenchmarkRelayCopy(b *testing.B) {
	s := &Relay{Self: testSelf(b)}
	req := parseRequest(b, relayInvite, "198.51.100.1:6000")
	b.ReportAllocs()
	for b.Loop() {
		s.Copy(req, "10.0.0.9:5080", "udp", true, LoopHash(req))
	}
}
