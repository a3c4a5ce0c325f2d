package runtime

import (
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/dialog"
	"github.com/sipfront/sipfront/runtime/forward"
	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// DefaultInDialogTimeout bounds the wait for the answer to an in-dialog
// request when the graph sets none (the compiler's default is the same).
const DefaultInDialogTimeout = 5 * time.Second

// inDialogTimeout is proxy.in_dialog_timeout for g.
func inDialogTimeout(g *graph.Graph) time.Duration {
	if g.Proxy.InDialogTimeout > 0 {
		return g.Proxy.InDialogTimeout
	}
	return DefaultInDialogTimeout
}

// match is an in-dialog request matched against the dialog table.
type match struct {
	d    dialog.Dialog
	side dialog.Side
	// found is false when the dialog is unknown and validation is off.
	found bool
}

// inDialog relays a request inside a dialog (RFC 3261 §16.4 loose
// routing). With dialog validation or topology hiding on, it is matched
// against the dialog table first (refused with a 4xx when it does not
// belong) and goes where the dialog's stored route set and target say;
// otherwise by its Route headers, the dialog's target or its Request-URI.
// A party that does not answer within in_dialog_timeout gets the sender
// a 408 and ends the dialog.
func (s *Server) inDialog(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction) {
	m, code, reason := s.matchDialog(g, req)
	if code != 0 {
		s.refuse(tx, req, code, reason)
		return
	}
	fwd, rewrite := s.inDialogCopy(g, req, m)
	hidden := s.towardCarrier(req)
	if hidden {
		s.hideInside(req, fwd)
	}
	timedOut := func() {
		if d, ok := s.endDialog(req); ok {
			s.log.Info("dialog ended: no answer to an in-dialog request", "method", string(req.Method),
				"call_id", d.CallID, "target", d.Target, "timeout", inDialogTimeout(g))
		}
	}
	if req.Method == sip.BYE {
		rewrite = endsDialog(rewrite, func() { s.endDialog(req) })
	}
	out := s.relay.SingleWith(req, tx, fwd, ringTimeout(g), inDialogTimeout(g),
		forward.SingleOptions{Hidden: hidden, Rewrite: rewrite, OnTimeout: timedOut})
	if req.Method == sip.BYE && (out.Err != nil || (out.Final != nil && byeEnds(out.Final.StatusCode))) {
		s.endDialog(req)
	}
}

// byeEnds reports whether a final answer to a BYE ends the dialog: a 2xx,
// or a 481/408 that says the other party no longer has it (RFC 3261
// §15.1.2, §12.2.1.2). A challenge (401/407) or any other refusal leaves
// the dialog up: the sender resends the BYE with credentials, and that
// BYE must still find it.
func byeEnds(code int) bool {
	return (code >= 200 && code < 300) || code == 481 || code == 408
}

// endsDialog wraps the rewrite of a BYE's responses so that the dialog
// ends (end) before a final response that ends it (byeEnds) goes
// upstream: once the sender knows, the table agrees.
func endsDialog(rewrite func(*sip.Response) *sip.Response, end func()) func(*sip.Response) *sip.Response {
	return func(res *sip.Response) *sip.Response {
		if byeEnds(res.StatusCode) {
			end()
		}
		if rewrite != nil {
			return rewrite(res)
		}
		return res
	}
}

// forwardAck relays an ACK for a 2xx statelessly, end to end. ACKs for
// non-2xx answers match their INVITE transaction and never get here. An
// ACK that fails validation is dropped (an ACK is never answered).
func (s *Server) forwardAck(g *graph.Graph, req *sip.Request) {
	if sipmsg.ToTag(req) == "" {
		return
	}
	m, code, reason := s.matchDialog(g, req)
	if code != 0 {
		s.logRefusal(req, code, reason)
		return
	}
	if !m.found {
		s.dialogs.Acked(sipmsg.CallID(req), sipmsg.Tag(req.From()), sipmsg.ToTag(req))
	}
	fwd, _ := s.inDialogCopy(g, req, m)
	if s.towardCarrier(req) {
		s.hideInside(req, fwd)
	}
	if err := s.relay.Client.WriteRequest(fwd, forward.NoBuild); err != nil {
		s.log.Debug("ACK relay failed", "call_id", sipmsg.CallID(req), "destination", fwd.Destination(), "error", err)
	}
}

// matchDialog finds the dialog of req when validation or topology hiding
// needs it, and checks req against it when validation is on; code is the
// status to refuse it with, 0 when it may go on.
func (s *Server) matchDialog(g *graph.Graph, req *sip.Request) (match, int, string) {
	validate := g.Proxy.DialogValidation
	if !validate && !g.Proxy.TopologyHiding && s.self.HiddenToken(&req.Recipient) == "" {
		// A hidden dialog keeps its hiding after a reload turned it off.
		return s.unmatched(req, dialog.Unknown)
	}
	var cseq uint32
	if c := req.CSeq(); c != nil {
		cseq = c.SeqNo
	}
	d, side, v := s.dialogs.Match(sipmsg.CallID(req), sipmsg.Tag(req.From()), sipmsg.ToTag(req), cseq, req.Method)
	switch {
	case v == dialog.Unknown && validate && inviteDialogOnly(req.Method):
		return match{}, 481, "Call/Transaction Does Not Exist"
	case v == dialog.Unknown, v == dialog.Sibling:
		// A sibling dialog of a fork (its second 2xx) goes by its own
		// route set: the caller is ending it. So does a request of a
		// dialog the table does not track (a subscription).
		return s.unmatched(req, v)
	case v == dialog.OldCSeq && validate:
		return match{}, 500, "CSeq Lower Than The Dialog's Last" // RFC 3261 §12.2.2
	}
	if tok := s.self.HiddenToken(&req.Recipient); tok != "" && d.Legs != nil && tok != d.Legs.Token && validate {
		return match{}, 481, "Call/Transaction Does Not Exist"
	}
	if validate && d.Legs != nil && !s.routeGiven(req, d, side) {
		return match{}, 403, "Route Set Does Not Match The Dialog"
	}
	if v == dialog.Known {
		s.dialogs.Advance(d, side, req.Method, cseq)
	}
	return match{d: d, side: side, found: true}, 0, ""
}

// unmatched decides on an in-dialog request that no tracked dialog vouches
// for (verdict v: Unknown or Sibling), which would go by its own Route set
// or Request-URI: it may, only when its first Route names this proxy (the
// sender got it from our Record-Route: Kamailio's loose_route) or it comes
// from a peer (a pool member, carrier or trusted group). Anything else is
// someone asking the proxy to carry a request to a host of its choosing,
// internal hosts included: refused with 481, or 403 for a fork's sibling
// dialog (the Call-ID and tag exist, the route set is not ours).
func (s *Server) unmatched(req *sip.Request, v dialog.Verdict) (match, int, string) {
	if s.ownFirstRoute(req) || s.fromPeer(req) {
		return match{}, 0, ""
	}
	if v == dialog.Sibling {
		return match{}, 403, "Route Set Does Not Match The Dialog"
	}
	return match{}, 481, "Call/Transaction Does Not Exist"
}

// ownFirstRoute reports whether the first Route entry of req names this
// proxy.
func (s *Server) ownFirstRoute(req *sip.Request) bool {
	for _, h := range req.Headers() {
		if r, ok := h.(*sip.RouteHeader); ok {
			return s.self.IsOwn(&r.Address)
		}
	}
	return false
}

// fromPeer reports whether req comes from a pool member, a carrier or a
// trusted group (edge.Guard.IsPeer).
func (s *Server) fromPeer(req *sip.Request) bool {
	src, err := netip.ParseAddrPort(req.Source())
	return err == nil && s.edge.IsPeer(src.Addr())
}

// inviteDialogOnly reports whether a method is only sent inside an INVITE
// dialog, the dialogs the table tracks. Other in-dialog requests (NOTIFY,
// SUBSCRIBE, REFER, MESSAGE, ...) may belong to a subscription dialog the
// table does not track, so an unknown one is relayed by its route set.
func inviteDialogOnly(m sip.RequestMethod) bool {
	switch m {
	case sip.BYE, sip.INVITE, sip.ACK, sip.UPDATE, sip.PRACK, sip.INFO:
		return true
	}
	return false
}

// routeGiven reports whether the Route headers of req are the route set
// the proxy gave its sender: this proxy's own entries first, then the
// entries stored for the other party (none under topology hiding, which
// gave only its own). A request without any Route passes: its routing is
// repaired from the dialog (a UA that lost its route set, a strict
// router), never taken from the request.
func (s *Server) routeGiven(req *sip.Request, d dialog.Dialog, side dialog.Side) bool {
	var want []sip.Uri
	if d.Legs.Token == "" {
		want = d.Legs.Other(side).Routes
	}
	n, own, i := 0, 0, 0
	for _, h := range req.Headers() {
		r, ok := h.(*sip.RouteHeader)
		if !ok {
			continue
		}
		n++
		if i == 0 && n == own+1 && s.self.IsOwn(&r.Address) {
			own++ // our leading entries (two with double Record-Route)
			continue
		}
		if own == 0 || i >= len(want) || !sameURI(&r.Address, &want[i]) {
			return false
		}
		i++
	}
	return n == 0 || (own > 0 && i == len(want))
}

func sameURI(a, b *sip.Uri) bool {
	return a.Host == b.Host && a.Port == b.Port && a.User == b.User
}

// inDialogCopy builds the copy of an in-dialog request and the rewrite of
// its responses (inDialogRoute). When the graph authenticates anybody, the
// copy leaves without digest credentials, as the initial request did: a
// phone that answered a challenge on its INVITE often repeats its
// Proxy-Authorization on the re-INVITE and BYE, and it must not reach a
// PBX or carrier either.
func (s *Server) inDialogCopy(g *graph.Graph, req *sip.Request, m match) (*sip.Request, func(*sip.Response) *sip.Response) {
	fwd, rewrite := s.inDialogRoute(req, m)
	if len(g.Auth) > 0 {
		consumeCredentials(fwd)
	}
	return fwd, rewrite
}

// inDialogRoute builds the copy of an in-dialog request and the rewrite of
// its responses. A matched dialog decides the next hop: the Route entries
// after ours, else the stored route set toward the other party, else the
// other party's stored address (the caller's source: NAT); under topology
// hiding the Request-URI becomes the other party's real Contact and the
// sender's Vias, Record-Route and Contact are hidden.
func (s *Server) inDialogRoute(req *sip.Request, m match) (*sip.Request, func(*sip.Response) *sip.Response) {
	loop := forward.LoopHash(req)
	if !m.found || m.d.Legs == nil {
		dest, transport := s.inDialogTarget(req)
		if d, t, ok := s.carrierCallee(req); ok {
			dest, transport = d, t // a carrier's request to the Contact the proxy gave it
		}
		fwd := s.relay.Copy(req, dest, transport, false, loop)
		return fwd, s.fromCarrier(req, fwd)
	}
	legs := m.d.Legs
	other := legs.Other(m.side)
	o := &forward.CopyOptions{}
	next := s.self.NextRoute(req)
	if next == nil && len(other.Routes) > 0 {
		o.Routes, o.ReplaceRoutes = other.Routes, true
	}
	var rewrite func(*sip.Response) *sip.Response
	if legs.Token != "" {
		o.Hide = true
		o.Contact = s.self.HiddenContact(legs.Token, other.Transport)
		o.Routes, o.ReplaceRoutes = other.Routes, true
		if other.Contact != nil {
			o.RURI = other.Contact
		}
		next = nil
		contact := s.self.HiddenContact(legs.Token, req.Transport())
		rewrite = func(res *sip.Response) *sip.Response { return s.relay.HideResponse(res, req, contact) }
	}
	dest, transport := other.Addr, other.Transport
	switch {
	case next != nil:
		dest, transport = sipmsg.URITarget(&next.Address)
	case o.ReplaceRoutes && len(o.Routes) > 0:
		dest, transport = sipmsg.URITarget(&o.Routes[0])
	}
	fwd := s.relay.CopyWith(req, dest, transport, false, loop, o)
	if rw := s.fromCarrier(req, fwd); rw != nil && rewrite == nil {
		rewrite = rw // a carrier's request in a dialog the table routes, without topology hiding
	}
	return fwd, rewrite
}

// inDialogTarget picks the next hop of an in-dialog request the dialog
// table does not decide: the first Route that is not ours, the dialog's
// target, or the Request-URI.
func (s *Server) inDialogTarget(req *sip.Request) (dest, transport string) {
	if r := s.self.NextRoute(req); r != nil {
		return sipmsg.URITarget(&r.Address)
	}
	// A request from the caller's side of a known dialog goes to the
	// dialog's target even when its Request-URI says otherwise.
	// A fork may have given the caller several dialogs (§16.7 step 5): only
	// the one the table tracks goes to its target.
	if d, ok := s.dialogs.Lookup(sipmsg.CallID(req)); ok && d.FromTag == sipmsg.Tag(req.From()) && d.Addr != "" &&
		(d.ToTag == "" || d.ToTag == sipmsg.ToTag(req)) {
		return d.Addr, d.Transport
	}
	return sipmsg.URITarget(&req.Recipient)
}

// endDialog ends the dialog an in-dialog request belongs to, whichever
// side sent it.
func (s *Server) endDialog(req *sip.Request) (dialog.Dialog, bool) {
	cid := sipmsg.CallID(req)
	if d, ok := s.dialogs.End(cid, sipmsg.Tag(req.From())); ok {
		return d, true
	}
	return s.dialogs.End(cid, sipmsg.ToTag(req))
}

// refuse answers an in-dialog request that failed validation and logs it.
func (s *Server) refuse(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	s.logRefusal(req, code, reason)
	s.relay.Reply(tx, req, code, reason)
}

// logRefusal logs a refused in-dialog request, at most one line a second
// (a scanner sending BYEs for random dialogs writes one line, then a
// count).
func (s *Server) logRefusal(req *sip.Request, code int, reason string) {
	n, ok := s.dialogLog.allow(time.Now().UnixNano())
	if !ok {
		return
	}
	s.log.Warn("in-dialog request refused", "status", code, "reason", reason, "method", string(req.Method),
		"source", req.Source(), "call_id", sipmsg.CallID(req), "suppressed", n)
}
