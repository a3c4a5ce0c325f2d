package forward

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/intake"
	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// Relay sends forwarded requests on the proxy's sipgo client and relays
// the answers upstream. A Server builds one at start; its fields are not
// changed afterwards.
type Relay struct {
	Self   *Self
	Client *sipgo.Client
	// Server writes stateless responses (stray 2xx, 2xx after CANCEL).
	Server *sipgo.Server
	Log    *slog.Logger
	// Final is told every final status sent upstream; nil means nobody.
	Final func(code int)
	// banner is the Server header of the proxy's own answers, nil for
	// none (SetServerHeader).
	banner atomic.Pointer[sip.Header]
}

// Reply answers req on its server transaction and reports the final code.
func (r *Relay) Reply(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	r.Respond(tx, req, intake.NewResponse(req, code, reason))
}

// Respond sends res, an answer the proxy built itself for req (a challenge,
// a 503 with Retry-After, a registrar's answer), on req's server
// transaction with the configured Server header, and reports the final
// code. Every answer of the proxy's own goes through here, so that none
// skips the Server header.
func (r *Relay) Respond(tx sip.ServerTransaction, req *sip.Request, res *sip.Response) {
	if h := r.banner.Load(); h != nil {
		res.AppendHeader(*h)
	}
	if err := tx.Respond(res); err != nil {
		r.Log.Debug("reply failed", "code", res.StatusCode, "call_id", sipmsg.CallID(req), "error", err)
		return
	}
	if res.StatusCode >= 200 {
		r.final(res.StatusCode)
	}
}

// SetServerHeader sets the Server header of the proxy's own answers;
// "" writes none (the default: a scanner learns nothing).
func (r *Relay) SetServerHeader(v string) {
	if v == "" {
		r.banner.Store(nil)
		return
	}
	h := sip.Header(sip.NewHeader("Server", v))
	r.banner.Store(&h)
}

func (r *Relay) final(code int) {
	if r.Final != nil {
		r.Final(code)
	}
}

// WriteUpstream sends a response statelessly to the source of req.
func (r *Relay) WriteUpstream(res *sip.Response, req *sip.Request) {
	res.SetDestination(req.Source())
	res.SetTransport(req.Transport())
	if err := r.Server.WriteResponse(res); err != nil {
		r.Log.Debug("stateless response failed", "code", res.StatusCode, "call_id", sipmsg.CallID(req), "error", err)
	}
}

// Copy builds the request sent to dest over transport (RFC 3261
// §16.6). It is not a deep Clone: the copy shares req's parsed header
// objects and body, which neither sipgo (requests are sent with noBuild)
// nor the proxy modify. Only what changes is new: our Via on top, the
// Record-Route entries, the previous hop's Via (received/rport) and
// Max-Forwards; our own leading Route entries are left out (loose
// routing). req itself is never modified, so the responses sipgo builds
// from it (100, 487, errors) still go upstream (P1).
func (r *Relay) Copy(req *sip.Request, dest, transport string, rr bool, loop uint64) *sip.Request {
	return r.CopyWith(req, dest, transport, rr, loop, nil)
}

// CopyOptions changes what Copy builds, for in-dialog routing and topology
// hiding.
type CopyOptions struct {
	// RURI replaces the Request-URI when set.
	RURI *sip.Uri
	// Routes replaces the Route headers left after ours when
	// ReplaceRoutes is set (the dialog's stored route set).
	Routes        []sip.Uri
	ReplaceRoutes bool
	// Hide strips the Via and Record-Route entries of the sender's side
	// (topology hiding): only this proxy's stay.
	Hide bool
	// Contact replaces the request's Contact when set.
	Contact *sip.ContactHeader
}

// CopyWith is Copy changed by o (nil: none).
func (r *Relay) CopyWith(req *sip.Request, dest, transport string, rr bool, loop uint64, o *CopyOptions) *sip.Request {
	if o == nil {
		o = &noOptions
	}
	s := r.Self
	tp := sipmsg.UpperTransport(transport)
	method := req.Method
	if c := req.CSeq(); c != nil && c.MethodName != method {
		// sipgo upper-cased the request line's method; the CSeq keeps
		// the case it was sent with (intake checked they match).
		method = c.MethodName
	}
	ruri := req.Recipient
	if o.RURI != nil {
		ruri = *o.RURI
	}
	fwd := sip.NewRequest(method, ruri)
	fwd.SipVersion = req.SipVersion
	fwd.AppendHeader(s.NewVia(tp, loop))
	if rr {
		fwd.AppendHeader(s.RecordRoute(tp))
		if in := req.Transport(); in != tp {
			// RFC 5658 double Record-Route: each side sees its own transport.
			fwd.AppendHeader(s.RecordRoute(in))
		}
	}
	prevVia, mf, popping := true, true, true
	for _, h := range req.Headers() {
		switch h := h.(type) {
		case *sip.ViaHeader:
			if o.Hide {
				continue
			}
			if prevVia {
				prevVia = false
				v := h.Clone()
				markReceived(v, req.Source())
				fwd.AppendHeader(v)
				continue
			}
		case *sip.MaxForwardsHeader:
			if mf {
				mf = false
				n := sip.MaxForwardsHeader(h.Val() - 1)
				fwd.AppendHeader(&n)
				continue
			}
		case *sip.RouteHeader:
			if popping {
				if s.IsOwn(&h.Address) {
					continue
				}
				popping = false
			}
			if o.ReplaceRoutes {
				continue
			}
		case *sip.RecordRouteHeader:
			if o.Hide {
				continue
			}
		case *sip.ContactHeader:
			if o.Contact != nil {
				fwd.AppendHeader(o.Contact)
				continue
			}
		}
		fwd.AppendHeader(h)
	}
	if o.ReplaceRoutes {
		for i := range o.Routes {
			fwd.AppendHeader(&sip.RouteHeader{Address: o.Routes[i]})
		}
	}
	if mf {
		// RFC 3261 §16.6 step 3: a request without Max-Forwards is
		// forwarded with one.
		n := sip.MaxForwardsHeader(70)
		fwd.AppendHeader(&n)
	}
	fwd.SetBody(req.Body()) // same length: Content-Length is shared as is
	fwd.SetTransport(tp)
	fwd.SetSource(req.Source())
	fwd.SetDestination(dest)
	if tp == "UDP" {
		// P2: leave from the listening socket. Never on TCP (P3).
		if a := s.UDPLocal(); a != nil {
			fwd.Laddr = *a
		}
	}
	return fwd
}

var noOptions CopyOptions

// markReceived adds received (and fills rport) to the previous hop's Via
// (RFC 3261 §18.2.1, RFC 3581).
func markReceived(via *sip.ViaHeader, src string) {
	if via == nil {
		return
	}
	host, port, err := net.SplitHostPort(src)
	if err != nil {
		return
	}
	if via.Host != host {
		via.Params.Add("received", host)
	}
	if v, ok := via.Params.Get("rport"); ok && v == "" {
		via.Params.Add("rport", port)
	}
}

// NextRoute returns the first Route entry of req that does not name this
// proxy (the entries popped by loose routing are the leading own ones), or
// nil.
func (s *Self) NextRoute(req *sip.Request) *sip.RouteHeader {
	for _, h := range req.Headers() {
		if r, ok := h.(*sip.RouteHeader); ok && !s.IsOwn(&r.Address) {
			return r
		}
	}
	return nil
}

// Stray forwards a 2xx to an INVITE that matches no client
// transaction (a retransmission after ours ended, or a late answer)
// statelessly by the next Via (RFC 3261 §16.7 step 10, RFC 6026). Other
// stray responses are dropped.
func (r *Relay) Stray(res *sip.Response) {
	s := r.Self
	defer func() {
		if p := recover(); p != nil {
			r.Log.Error("panic while relaying a stray response", "panic", p)
		}
	}()
	via := res.Via()
	if via == nil || !s.IsOwnVia(via) || !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE {
		return
	}
	res.RemoveHeader("Via")
	next := res.Via()
	if next == nil {
		return
	}
	host, port := next.Host, next.Port
	if r, ok := next.Params.Get("received"); ok && r != "" {
		host = r
	}
	if p, ok := next.Params.Get("rport"); ok && p != "" {
		port, _ = strconv.Atoi(p)
	}
	if port == 0 {
		port = 5060
	}
	res.SetDestination(net.JoinHostPort(host, strconv.Itoa(port)))
	res.SetTransport(sipmsg.UpperTransport(next.Transport))
	if err := r.Server.WriteResponse(res); err != nil {
		r.Log.Debug("stray 2xx relay failed", "call_id", sipmsg.CallID(res), "error", err)
	}
}

// Options sends an OPTIONS to m from the proxy's own listening address and
// returns the final status (for probing).
func (r *Relay) Options(ctx context.Context, m *graph.Member) (int, error) {
	s := r.Self
	tp := sipmsg.UpperTransport(m.Transport)
	req := s.NewOptions(m.Host, m.Port)
	req.PrependHeader(s.NewVia(tp, 0))
	req.SetTransport(tp)
	req.SetDestination(m.Addr())
	if a := s.UDPLocal(); tp == "UDP" && a != nil {
		req.Laddr = *a
	}
	res, err := r.Client.Do(ctx, req, NoBuild)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// NewOptions builds an OPTIONS ping from the proxy to host:port, without
// Via (the sender adds its own): From sipfront@the advertised host, a new
// Call-ID, CSeq 1.
func (s *Self) NewOptions(host string, port int) *sip.Request {
	to := sip.Uri{Scheme: "sip", Host: host, Port: port}
	req := sip.NewRequest(sip.OPTIONS, to)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "sipfront", Host: s.host}}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: to})
	cid := sip.CallIDHeader(sip.GenerateTagN(24))
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.OPTIONS})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.SetBody(nil)
	return req
}
