package forward

import (
	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// Topology hiding (RFC 3261 leaves it to proxies; OpenSIPS calls it
// topology_hiding): each side of a call sees only this proxy. Requests are
// copied with CopyOptions.Hide (the sender's Via and Record-Route entries
// left out) and a Contact of the proxy's; responses go back through
// HideResponse, which restores the Vias the sender needs and hides the
// other side's. Message bodies (SDP and its media addresses) are not
// touched: that is the job of a media relay, which would rewrite the body
// where HideResponse and CopyOptions replace the Contact.

// HideResponse returns res as the sender of req sees it under topology
// hiding: req's own Vias (ours was already popped), this proxy's
// Record-Route entries followed by the ones req brought (the sender's side
// of the route set; initial requests only), and contact instead of the
// other side's Contact. res itself is not changed.
func (r *Relay) HideResponse(res *sip.Response, req *sip.Request, contact *sip.ContactHeader) *sip.Response {
	out := sip.NewResponse(res.StatusCode, res.Reason)
	out.SipVersion = res.SipVersion
	for _, h := range req.Headers() {
		if v, ok := h.(*sip.ViaHeader); ok {
			out.AppendHeader(v.Clone())
		}
	}
	rr := false
	for _, h := range res.Headers() {
		switch h := h.(type) {
		case *sip.ViaHeader:
			continue
		case *sip.RecordRouteHeader:
			if !r.Self.IsOwn(&h.Address) {
				continue
			}
			rr = true
		case *sip.ContactHeader:
			if contact != nil {
				out.AppendHeader(contact)
				continue
			}
		}
		out.AppendHeader(h)
	}
	if rr {
		for _, h := range req.Headers() {
			if h, ok := h.(*sip.RecordRouteHeader); ok {
				out.AppendHeader(h)
			}
		}
	}
	out.SetBody(res.Body())
	return out
}

// HiddenContact returns the Contact this proxy writes in place of a
// party's under topology hiding: its advertised address with the dialog's
// token as user part, reached over transport.
func (s *Self) HiddenContact(token, transport string) *sip.ContactHeader {
	u := sip.Uri{Scheme: "sip", User: HiddenPrefix + token, Host: s.host, Port: s.port}
	if t := sipmsg.LowerTransport(transport); t != "udp" && t != "" {
		u.UriParams = sip.HeaderParams{{K: "transport", V: t}}
	}
	return &sip.ContactHeader{Address: u}
}

// HiddenPrefix starts the user part of the Contacts topology hiding
// writes; the token follows.
const HiddenPrefix = "th-"

// HiddenToken returns the topology-hiding token of a Request-URI that
// names this proxy with one, or "".
func (s *Self) HiddenToken(u *sip.Uri) string {
	if len(u.User) <= len(HiddenPrefix) || u.User[:len(HiddenPrefix)] != HiddenPrefix || !s.IsOwn(u) {
		return ""
	}
	return u.User[len(HiddenPrefix):]
}
