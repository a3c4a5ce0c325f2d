// Package sipmsg holds the small accessors over sipgo messages that every
// runtime package needs: tags, Call-ID, header lookup, transport names and
// URI targets. None of them allocates on the request path.
package sipmsg

import (
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Tag returns the tag of a From header, "" when there is none.
func Tag(f *sip.FromHeader) string {
	if f == nil {
		return ""
	}
	t, _ := f.Params.Get("tag")
	return t
}

// ToTag returns the To tag of req, "" outside a dialog.
func ToTag(req *sip.Request) string { return ToHeaderTag(req.To()) }

// ToHeaderTag returns the tag of a To header, "" when there is none.
func ToHeaderTag(t *sip.ToHeader) string {
	if t == nil {
		return ""
	}
	v, _ := t.Params.Get("tag")
	return v
}

// CallID returns the Call-ID of a request or response, "" when missing.
func CallID(m interface{ CallID() *sip.CallIDHeader }) string {
	if c := m.CallID(); c != nil {
		return string(*c)
	}
	return ""
}

// Header returns the first header of req named name (case-insensitive), or
// nil. Unlike sip's GetHeader, which lowercases the name of every header it
// compares (one allocation per header outside its short list), it never
// allocates.
func Header(req *sip.Request, name string) sip.Header {
	for _, h := range req.Headers() {
		if strings.EqualFold(h.Name(), name) {
			return h
		}
	}
	return nil
}

// LowerTransport maps sipgo's transport names to the policy's, without
// allocating.
func LowerTransport(t string) string {
	switch t {
	case "UDP", "udp":
		return "udp"
	case "TCP", "tcp":
		return "tcp"
	case "TLS", "tls":
		return "tls"
	case "WS", "ws":
		return "ws"
	case "WSS", "wss":
		return "wss"
	}
	return strings.ToLower(t)
}

// UpperTransport maps the policy's transport names to sipgo's.
func UpperTransport(t string) string {
	switch t {
	case "udp", "UDP", "":
		return "UDP"
	case "tcp", "TCP":
		return "TCP"
	case "tls", "TLS":
		return "TLS"
	}
	return t
}

// URITarget returns host:port and transport of a SIP URI.
func URITarget(u *sip.Uri) (string, string) {
	port := u.Port
	if port == 0 {
		port = 5060
		if u.Scheme == "sips" {
			port = 5061
		}
	}
	transport := "udp"
	if t, ok := u.UriParams.Get("transport"); ok && t != "" {
		transport = LowerTransport(t)
	}
	return net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(port)), transport
}
