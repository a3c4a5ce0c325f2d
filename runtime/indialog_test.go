package runtime

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/carrier"
	"github.com/sipfront/sipfront/runtime/dialog"
	"github.com/sipfront/sipfront/runtime/edge"
	"github.com/sipfront/sipfront/runtime/forward"
	"github.com/sipfront/sipfront/runtime/target"
)

// TestRouteGiven: an in-dialog request must carry the route set the proxy
// gave its sender (the proxy's own entries, then the other side's
// proxies), or none at all (repaired from the dialog).
func TestRouteGiven(t *testing.T) {
	self, err := forward.NewSelf(graph.Proxy{Listen: []graph.Listen{{Transport: "udp", Addr: "127.0.0.1:5070"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{self: self}
	const own, b, x = "<sip:127.0.0.1:5070;lr>", "<sip:10.0.0.8;lr>", "<sip:203.0.113.9;lr>"
	var bURI sip.Uri
	if err := sip.ParseUri("sip:10.0.0.8;lr", &bURI); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		routes []string
		token  string
		want   bool
	}{
		{"no Route: repaired", nil, "", true},
		{"ours then the callee's proxy", []string{own, b}, "", true},
		{"double Record-Route", []string{own, own, b}, "", true},
		{"the callee's proxy missing", []string{own}, "", false},
		{"another proxy after ours", []string{own, x}, "", false},
		{"not ours first", []string{x, own, b}, "", false},
		{"one more at the end", []string{own, b, x}, "", false},
		{"hidden: ours only", []string{own}, "tok", true},
		{"hidden: more than ours", []string{own, b}, "tok", false},
	} {
		raw := "INFO sip:bob@10.0.0.9 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1\n"
		for _, r := range c.routes {
			raw += "Route: " + r + "\n"
		}
		raw += "From: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: c\nCSeq: 2 INFO\nContent-Length: 0\n\n"
		msg, err := sip.NewParser().ParseSIP([]byte(strings.ReplaceAll(raw, "\n", "\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		d := dialog.Dialog{Legs: &dialog.Legs{Callee: dialog.Party{Routes: []sip.Uri{bURI}}, Token: c.token}}
		if got := s.routeGiven(msg.(*sip.Request), d, dialog.Caller); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestEndsDialog: a BYE's dialog ends on a 2xx, 481 or 408 only; a
// challenged BYE (401/407) or another refusal keeps it, so the BYE resent
// with credentials still finds it.
func TestEndsDialog(t *testing.T) {
	for _, c := range []struct {
		code int
		want bool
	}{
		{100, false}, {180, false}, {200, true}, {202, true}, {401, false}, {407, false},
		{403, false}, {408, true}, {481, true}, {486, false}, {500, false}, {503, false},
	} {
		ended := false
		wrap := endsDialog(nil, func() { ended = true })
		res := sip.NewResponse(c.code, "x")
		if got := wrap(res); got != res {
			t.Errorf("%d: the response was replaced", c.code)
		}
		if ended != c.want {
			t.Errorf("%d: ended %v, want %v", c.code, ended, c.want)
		}
	}
}

// TestUnmatchedInDialog: an in-dialog request that no tracked dialog
// vouches for (a NOTIFY of a subscription, a fork's sibling dialog, any
// in-dialog request with validation off) is relayed only when its first
// Route is the proxy's or it comes from a peer; anything else would let
// anyone send a request to a host of their choosing through the proxy.
func TestUnmatchedInDialog(t *testing.T) {
	const port = 5070
	peer := &graph.Member{ID: "pool.asterisk.member.a", Name: "a", Host: "10.0.0.9", Port: 5060, Transport: "udp", Weight: 1}
	for _, validate := range []bool{true, false} {
		g := testGraph(t, port, []*graph.Member{peer}, func(g *graph.Graph) { g.Proxy.DialogValidation = validate })
		self, err := forward.NewSelf(g.Proxy)
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{self: self, dialogs: dialog.New(nil), edge: edge.NewGuard(g, quiet)}
		s.dialogs.Start(target.Target{ID: peer.ID, Addr: peer.Addr(), Transport: "udp"}, "tracked", "caller-tag", "a", "b")
		s.dialogs.Established("tracked", "caller-tag", "callee-tag")
		const own, internal = "<sip:127.0.0.1:5070;lr>", "<sip:10.1.2.3;lr>"
		for _, c := range []struct {
			name, method, callID, from, to, src, route string
			code                                       int // with validation on
			codeOff                                    int // with it off
		}{
			{"NOTIFY, stranger, no Route", "NOTIFY", "x", "f", "t", "203.0.113.5:5060", "", 481, 481},
			{"MESSAGE, stranger, internal Route", "MESSAGE", "x", "f", "t", "203.0.113.5:5060", internal, 481, 481},
			{"NOTIFY, stranger, our Route first", "NOTIFY", "x", "f", "t", "203.0.113.5:5060", own, 0, 0},
			{"REFER, our Route then internal", "REFER", "x", "f", "t", "203.0.113.5:5060", own + ", " + internal, 0, 0},
			{"OPTIONS, peer, no Route", "OPTIONS", "x", "f", "t", "10.0.0.9:5060", "", 0, 0},
			{"BYE of no dialog, our Route", "BYE", "x", "f", "t", "203.0.113.5:5060", own, 481, 0},
			{"sibling BYE, stranger, no Route", "BYE", "tracked", "caller-tag", "other-tag", "203.0.113.5:5060", "", 403, 481},
			{"sibling INFO, stranger, internal Route", "INFO", "tracked", "caller-tag", "other-tag", "203.0.113.5:5060", internal, 403, 481},
			{"sibling BYE, our Route", "BYE", "tracked", "caller-tag", "other-tag", "203.0.113.5:5060", own, 0, 0},
			{"sibling BYE, peer", "BYE", "tracked", "other-tag", "caller-tag", "10.0.0.9:5060", "", 0, 0},
		} {
			raw := c.method + " sip:bob@10.1.2.3 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1\n"
			if c.route != "" {
				raw += "Route: " + c.route + "\n"
			}
			raw += "From: <sip:a@x>;tag=" + c.from + "\nTo: <sip:b@x>;tag=" + c.to + "\nCall-ID: " + c.callID +
				"\nCSeq: 9 " + c.method + "\nContent-Length: 0\n\n"
			msg, err := sip.NewParser().ParseSIP([]byte(strings.ReplaceAll(raw, "\n", "\r\n")))
			if err != nil {
				t.Fatal(err)
			}
			req := msg.(*sip.Request)
			req.SetSource(c.src)
			want := c.code
			if !validate {
				want = c.codeOff
			}
			if _, code, _ := s.matchDialog(g, req); code != want {
				t.Errorf("validation %v, %s: %d, want %d", validate, c.name, code, want)
			}
		}
	}
}

// TestInDialogCopyConsumesCredentials: with an auth stage in the graph, an
// in-dialog request leaves without its digest credentials (whatever the
// case of their names), as the initial request did; the request itself
// keeps them. Without one they pass (an upstream's, not ours to judge).
func TestInDialogCopyConsumesCredentials(t *testing.T) {
	self, err := forward.NewSelf(graph.Proxy{Listen: []graph.Listen{{Transport: "udp", Addr: "127.0.0.1:5070"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{self: self, relay: &forward.Relay{Self: self}, dialogs: dialog.New(nil)}
	s.carriers = carrier.New(s.dialogs)
	raw := "BYE sip:bob@10.0.0.9 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1\r\n" +
		"Route: <sip:127.0.0.1:5070;lr>\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 3 BYE\r\n" +
		"Proxy-Authorization: Digest username=\"alice\"\r\nauthorization: Digest username=\"alice\"\r\nContent-Length: 0\r\n\r\n"
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*sip.Request)
	req.SetSource("192.0.2.7:5062")
	creds := func(r *sip.Request) int {
		n := 0
		for _, h := range r.Headers() {
			if strings.EqualFold(h.Name(), "Proxy-Authorization") || strings.EqualFold(h.Name(), "Authorization") {
				n++
			}
		}
		return n
	}
	withAuth := &graph.Graph{Auth: []*graph.Auth{{ID: "auth.endpoints"}}}
	for _, c := range []struct {
		name string
		g    *graph.Graph
		want int
	}{{"auth stage", withAuth, 0}, {"no auth stage", &graph.Graph{}, 2}} {
		fwd, _ := s.inDialogCopy(c.g, req, match{})
		if got := creds(fwd); got != c.want {
			t.Errorf("%s: the copy carries %d credentials headers, want %d", c.name, got, c.want)
		}
	}
	if creds(req) != 2 {
		t.Error("the received request lost its credentials")
	}
}
