package runtime

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/dialog"
	"github.com/sipfront/sipfront/runtime/forward"
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
