package runtime

import (
	"context"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/carrier"
	"github.com/sipfront/sipfront/runtime/dialog"
	"github.com/sipfront/sipfront/runtime/forward"
	"github.com/sipfront/sipfront/runtime/intake"
	"github.com/sipfront/sipfront/runtime/sipmsg"
	"github.com/sipfront/sipfront/runtime/target"
)

// authorizer answers a target's digest challenge with a new request
// (carrier.Iterator).
type authorizer interface {
	Authorize(fwd *sip.Request, res *sip.Response) *sip.Request
}

// authorizedTry sends the INVITE that answers a carrier's challenge, on a
// new branch to the same carrier, and runs it like the first (with the
// same rewrite of its responses).
func (s *Server) authorizedTry(req *sip.Request, tx sip.ServerTransaction, fwd *sip.Request,
	cancel <-chan struct{}, release func(), it target.Iterator, ring time.Duration,
	rewrite func(*sip.Response) *sip.Response) (*forward.Branch, forward.Outcome) {
	b := s.relay.NewBranch(req, tx, fwd, cancel, release)
	b.Hidden = true
	b.SetRewrite(rewrite) // records the dialog on a 2xx, hides under topology hiding
	if err := b.Start(context.Background()); err != nil {
		return b, forward.Outcome{Err: err}
	}
	return b, b.Run(it.Retries, it.NoAnswer(), ring)
}

// withheld reports whether the last answer of a call must not go to the
// caller (a carrier's challenge: carrier.Iterator.Withholds).
func withheld(it target.Iterator, res *sip.Response) bool {
	w, ok := it.(interface{ Withholds(*sip.Response) bool })
	return ok && w.Withholds(res)
}

// shiftCSeq renumbers an in-dialog request from the caller to a carrier
// whose leg answered a challenge (its CSeq runs one ahead).
func (s *Server) shiftCSeq(req, fwd *sip.Request) {
	c := fwd.CSeq()
	if c == nil {
		return
	}
	if n := s.carriers.CSeqShift(sipmsg.CallID(req), sipmsg.Tag(req.From())); n > 0 {
		fwd.ReplaceHeader(&sip.CSeqHeader{SeqNo: c.SeqNo + n, MethodName: c.MethodName}) // shared: replaced, not changed
	}
}

// retryAfterLimits is the Retry-After (seconds) of a 503 when every
// carrier that serves a number is at its limits: a cps window is a second.
const retryAfterLimits = "1"

// toCarrier turns a forwarded INVITE into the carrier leg: the R-URI is
// the number the carrier wants (strip, prepend) at its gateway; the inside
// is hidden (only the proxy's Via and Record-Route remain, and the Contact
// is the proxy's); the proxy's addresses are the exit socket's when the
// carrier has one. The SDP is relayed as it is (docs/carriers.md, "One
// exit address"). It returns the rewrite of the carrier's responses:
// rewrite, after the inside Record-Route entry the carrier did not see is
// put back.
func (s *Server) toCarrier(fwd *sip.Request, c *graph.Carrier, user string,
	rewrite func(*sip.Response) *sip.Response) func(*sip.Response) *sip.Response {
	fwd.Recipient = sip.Uri{Scheme: "sip", User: c.Number(user), Host: c.Host, Port: c.Port}
	if c.Transport == "tcp" {
		fwd.Recipient.UriParams = sip.HeaderParams{{K: "transport", V: "tcp"}}
	}
	own := fwd.Via() // Copy put the proxy's Via first
	var ownRR, inside []sip.Header
	for _, h := range fwd.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok && s.self.IsOwn(&rr.Address) {
			ownRR = append(ownRR, h)
		}
	}
	for fwd.RemoveHeader("Via") {
	}
	for fwd.RemoveHeader("Record-Route") {
	}
	if ex := c.Exit; ex.Addr != "" {
		host, port := splitExit(ex.Addr)
		own.Host, own.Port = host, port // a Via of its own, made by NewVia
		if len(ownRR) > 0 {
			// The first entry faces the carrier; a second one, for the
			// inside transport (RFC 5658), names an inside address: the
			// carrier never sees it, the caller gets it back in the
			// answers (its route set needs it).
			rr := ownRR[0].(*sip.RecordRouteHeader).Clone() // shared: never modified
			rr.Address.Host, rr.Address.Port = host, port
			ownRR, inside = []sip.Header{rr}, ownRR[1:]
		}
		s.exitSocket(fwd, ex, host, port)
	}
	fwd.PrependHeader(append([]sip.Header{own}, ownRR...)...)
	s.hideContact(fwd, c)
	if len(inside) == 0 {
		return rewrite
	}
	return withInsideRR(ownRR[0].(*sip.RecordRouteHeader), inside, rewrite)
}

// withInsideRR returns rewrite after the inside Record-Route entries are
// put back into a carrier's response, right after exit, the entry the
// carrier saw: the caller's route set is then the one a double
// Record-Route gives it.
func withInsideRR(exit *sip.RecordRouteHeader, inside []sip.Header,
	rewrite func(*sip.Response) *sip.Response) func(*sip.Response) *sip.Response {
	return func(res *sip.Response) *sip.Response {
		rrs := res.GetHeaders("Record-Route")
		at := slices.IndexFunc(rrs, func(h sip.Header) bool {
			rr, ok := h.(*sip.RecordRouteHeader)
			return ok && sameURI(&rr.Address, &exit.Address)
		})
		if at >= 0 {
			rrs = slices.Insert(slices.Clone(rrs), at+1, inside...)
			for res.RemoveHeader("Record-Route") {
			}
			for _, h := range rrs {
				res.AppendHeader(h)
			}
		}
		if rewrite != nil {
			return rewrite(res)
		}
		return res
	}
}

// hideContact gives the carrier a Contact at the proxy (the exit, or the
// advertised address) instead of the caller's, and records both: the
// carrier's in-dialog requests come back to the proxy, which sends them to
// the caller's real Contact (fromCarrier).
func (s *Server) hideContact(fwd *sip.Request, c *graph.Carrier) {
	ct := fwd.Contact()
	if ct == nil || s.self.HiddenToken(&ct.Address) != "" {
		return // none, or topology hiding gave it the proxy's already
	}
	host, port := carrierSender{s}.Local(c)
	outside := sip.Uri{Scheme: "sip", User: ct.Address.User, Host: host, Port: port}
	s.carriers.HideContact(sipmsg.CallID(fwd), sipmsg.Tag(fwd.From()), *ct.Address.Clone(), outside)
	fwd.ReplaceHeader(&sip.ContactHeader{Address: outside}) // shared with the caller's request: replaced
}

// carrierCallee returns where an in-dialog request from a carrier goes
// when no Route names the next hop: the caller's real Contact, which the
// carrier never saw (hideContact); false for other requests.
func (s *Server) carrierCallee(req *sip.Request) (dest, transport string, ok bool) {
	if s.self.NextRoute(req) != nil {
		return "", "", false
	}
	inside, ok := s.carriers.InsideContact(sipmsg.CallID(req), sipmsg.ToTag(req))
	if !ok {
		return "", "", false
	}
	dest, transport = sipmsg.URITarget(&inside)
	return dest, transport, true
}

// fromCarrier adjusts the copy of an in-dialog request a carrier sent,
// which names the Contact the proxy gave it (hideContact): its Request-URI
// becomes the caller's real Contact, and the answers going back carry the
// carrier's Contact for the caller. It returns that rewrite, nil when req
// is not such a request.
func (s *Server) fromCarrier(req, fwd *sip.Request) func(*sip.Response) *sip.Response {
	cid, callerTag := sipmsg.CallID(req), sipmsg.ToTag(req)
	inside, ok := s.carriers.InsideContact(cid, callerTag)
	if !ok {
		return nil
	}
	fwd.Recipient = inside
	outside, _ := s.carriers.OutsideContact(cid, callerTag)
	return func(res *sip.Response) *sip.Response {
		if res.Contact() != nil {
			res.ReplaceHeader(&sip.ContactHeader{Address: outside})
		}
		return res
	}
}

// exitSocket makes a UDP carrier leg leave from the exit socket when the
// proxy listens on exactly that address; with a wildcard listener the
// kernel picks the source address by its routes, which is the exit when
// the host routes carrier networks through it.
func (s *Server) exitSocket(fwd *sip.Request, ex graph.Listen, host string, port int) {
	if sipmsg.UpperTransport(ex.Transport) != "UDP" || fwd.Transport() != "UDP" {
		return
	}
	ip := net.ParseIP(host)
	if l := s.self.UDPLocal(); l != nil && l.Port == port && (l.IP.Equal(ip) || l.IP.IsUnspecified()) {
		fwd.Laddr = *l // the listening socket itself, as sipgo knows it
		return
	}
	for _, l := range s.self.Listen() {
		if l.Transport == "udp" && l.Addr == ex.Addr {
			fwd.Laddr = sip.Addr{IP: ip, Port: port}
			return
		}
	}
}

func splitExit(addr string) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 5060
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

// replyRetryAfter answers 503 with Retry-After: the carriers are at their
// limits now and will take the call in a moment, so the caller (Asterisk)
// should retry rather than fail the call over elsewhere.
func (s *Server) replyRetryAfter(tx sip.ServerTransaction, req *sip.Request) {
	res := intake.NewResponse(req, 503, "Service Unavailable")
	res.AppendHeader(sip.NewHeader("Retry-After", retryAfterLimits))
	s.relay.Respond(tx, req, res)
}

// towardCarrier reports whether an in-dialog request goes from the caller's
// side of a dialog to a carrier: its Vias must not reach the carrier.
func (s *Server) towardCarrier(req *sip.Request) bool {
	_, ok := s.carrierDialog(req)
	return ok
}

// carrierDialog returns the dialog of req when req goes from the caller's
// side to a carrier.
func (s *Server) carrierDialog(req *sip.Request) (dialog.Dialog, bool) {
	d, ok := s.dialogs.Lookup(sipmsg.CallID(req))
	if !ok || d.FromTag != sipmsg.Tag(req.From()) || d.Group != carrier.Group {
		return dialog.Dialog{}, false
	}
	return d, true
}

// hideInside keeps only the proxy's own Via (the first) on a forwarded
// in-dialog request toward a carrier, and sends it like the INVITE was:
// from the carrier's exit, with the exit in that Via.
func (s *Server) hideInside(req, fwd *sip.Request) {
	s.shiftCSeq(req, fwd)
	if ct := fwd.Contact(); ct != nil {
		cid, tag := sipmsg.CallID(req), sipmsg.Tag(req.From())
		if outside, ok := s.carriers.OutsideContact(cid, tag); ok {
			s.carriers.HideContact(cid, tag, *ct.Address.Clone(), outside) // a target refresh
			fwd.ReplaceHeader(&sip.ContactHeader{Address: outside})
		}
	}
	own := fwd.Via()
	for fwd.RemoveHeader("Via") {
	}
	fwd.PrependHeader(own)
	if d, ok := s.carrierDialog(req); ok {
		s.viaExit(fwd, s.carrierOf(d))
	}
}

// byeToCarrier makes the proxy's own BYE to the callee of d a carrier leg's
// when the callee is a carrier: numbered on the leg's CSeq (one ahead when
// the carrier challenged), from the carrier's exit with the exit in Via.
func (s *Server) byeToCarrier(d dialog.Dialog, bye *sip.Request) {
	if d.Group != carrier.Group {
		return
	}
	if c := bye.CSeq(); c != nil {
		c.SeqNo += s.carriers.CSeqShift(d.CallID, d.FromTag) // built by bye: not shared
	}
	s.viaExit(bye, s.carrierOf(d))
}

// carrierOf returns the carrier of dialog d in the graph in force, nil when
// a reload removed it (its requests then leave as the proxy's own do).
func (s *Server) carrierOf(d dialog.Dialog) *graph.Carrier {
	c, _ := s.Graph().Node(d.Target).(*graph.Carrier)
	return c
}

// viaExit makes a request the proxy sends to carrier c (nil: none) leave
// from c's exit socket with the exit's address in its top Via, which is
// the proxy's own (made by NewVia, so changed in place).
func (s *Server) viaExit(fwd *sip.Request, c *graph.Carrier) {
	if c == nil || c.Exit.Addr == "" {
		return
	}
	host, port := splitExit(c.Exit.Addr)
	if v := fwd.Via(); v != nil {
		v.Host, v.Port = host, port
	}
	s.exitSocket(fwd, c.Exit, host, port)
}

// carrierSender sends the proxy's own requests to carriers (REGISTER,
// OPTIONS) from the carrier's exit, with the exit in Via.
type carrierSender struct{ s *Server }

// CarrierSender returns the carrier.Sender of the registrant.
func (s *Server) CarrierSender() carrier.Sender { return carrierSender{s} }

// Send implements carrier.Sender.
func (cs carrierSender) Send(ctx context.Context, c *graph.Carrier, req *sip.Request) (*sip.Response, error) {
	s := cs.s
	tp := sipmsg.UpperTransport(c.Transport)
	via := s.self.NewVia(tp, 0)
	via.Host, via.Port = cs.Local(c)
	req.PrependHeader(via)
	req.SetTransport(tp)
	req.SetDestination(c.Addr())
	if a := s.self.UDPLocal(); tp == "UDP" && a != nil {
		req.Laddr = *a
	}
	if c.Exit.Addr != "" {
		host, port := splitExit(c.Exit.Addr)
		s.exitSocket(req, c.Exit, host, port)
	}
	return s.relay.Client.Do(ctx, req, forward.NoBuild)
}

// Local implements carrier.Sender: the exit, or the advertised address.
func (cs carrierSender) Local(c *graph.Carrier) (string, int) {
	if c.Exit.Addr != "" {
		return splitExit(c.Exit.Addr)
	}
	return cs.s.self.Host(), cs.s.self.Port()
}

// OptionsCarrier sends an OPTIONS to carrier c from its exit and returns
// the final status (for probing).
func (s *Server) OptionsCarrier(ctx context.Context, c *graph.Carrier) (int, error) {
	req := s.self.NewOptions(c.Host, c.Port)
	res, err := carrierSender{s}.Send(ctx, c, req)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}
