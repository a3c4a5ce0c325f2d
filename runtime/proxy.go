package runtime

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
)

// initial handles an out-of-dialog request: the graph decides, then the
// proxy replies, drops or relays.
func (s *Server) initial(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction) {
	if req.IsInvite() {
		if s.draining.Load() {
			s.obs.Request(string(req.Method), DecidedIntake)
			s.reply(tx, req, 503, "Service Unavailable")
			return
		}
		// Shed before any work: under overload the cheapest answer is
		// the one that keeps the proxy's backlog from growing.
		if !s.admit() {
			s.shedInvite(tx, req)
			return
		}
		held := true // the slot goes to proxyInvite, or back here
		defer func() {
			if held {
				s.release()
			}
		}()
		v, d := s.decide(g, req)
		if d.Action == graph.ActionRelay && d.Member != nil {
			held = false
			s.proxyInvite(g, req, tx, v, d.Member)
			return
		}
		s.act(req, tx, &d)
		return
	}
	_, d := s.decide(g, req)
	s.act(req, tx, &d)
}

// decide runs the graph for req and reports the decision.
func (s *Server) decide(g *graph.Graph, req *sip.Request) (*reqView, graph.Decision) {
	v := newReqView(req)
	var t0 time.Time
	if s.timeDecisions {
		t0 = time.Now()
	}
	d := g.Decide(&v.r, s.store, nil)
	if s.timeDecisions {
		s.obs.DecisionTime(time.Since(t0))
	}
	s.obs.Request(string(req.Method), decidedBy(&d))
	if d.Logged != nil || d.Filter != nil {
		s.logFilters(g, req, v, &d)
	}
	return v, d
}

// act carries out a decision that does not relay an initial INVITE.
func (s *Server) act(req *sip.Request, tx sip.ServerTransaction, d *graph.Decision) {
	switch {
	case d.Action == graph.ActionReply:
		s.reply(tx, req, d.Status, d.Reason)
	case d.Action == graph.ActionDrop:
		// Silence: the transaction ends with the handler, before sipgo's
		// automatic 100 Trying.
	case d.Action == graph.ActionRelay && d.Member != nil:
		s.forward(req, tx, s.relayCopy(req, d.Member.Addr(), d.Member.Transport, recordRoutes(req.Method), loopHash(req)))
	default:
		s.reply(tx, req, 500, "Not served by this version of sipfront: "+d.Action.String())
	}
}

// decidedBy names the filter or route that decided, for the observer.
func decidedBy(d *graph.Decision) graph.ID {
	switch {
	case d.Filter != nil:
		return d.Filter.ID
	case d.Route != nil:
		return d.Route.ID
	}
	return ""
}

// recordRoutes reports whether the proxy stays on the path of the dialog a
// request creates.
func recordRoutes(m sip.RequestMethod) bool {
	switch m {
	case sip.INVITE, sip.SUBSCRIBE, sip.REFER, sip.NOTIFY:
		return true
	}
	return false
}

// proxyInvite relays an initial INVITE to m and fails over serially to the
// next distinct member of its pool. The caller only sees the last answer.
// It owns the INVITE's admission slot: the branch that gets the first
// answer from a member gives it back, or proxyInvite does when it returns.
func (s *Server) proxyInvite(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction, v *reqView, m *graph.Member) {
	held := true
	var cur *branch
	defer func() {
		if cur != nil {
			held = cur.slot
		}
		if held {
			s.release()
		}
	}()
	cancel := make(chan struct{}, 1)
	if !tx.OnCancel(func(*sip.Request) {
		select {
		case cancel <- struct{}{}:
		default:
		}
	}) {
		return // cancelled before we started
	}
	// No 100 Trying here: sipgo's INVITE server transaction sends one
	// when nothing else went upstream within 200 ms (RFC 3261 §17.2.1,
	// Timer_1xx), which is the case in which the caller needs it; a member
	// that answers sooner costs no extra datagram.
	pool, fo := m.Pool, m.Pool.Failover
	maxTries := fo.MaxTries
	if maxTries <= 0 {
		maxTries = len(pool.Members)
	}
	retry := func(code int) bool { return code == 0 || fo.Retries(code) }
	ring := g.Proxy.RingTimeout
	if ring <= 0 {
		ring = defaultRingTimeout
	}
	cid, fromTag := v.r.CallID, tag(req.From())
	s.store.StartCall(m, cid, fromTag, v.r.From.User, v.r.To.User)
	var triedBuf [4]*graph.Member
	tried := triedBuf[:0]
	loop := loopHash(req)
	var last *branch
	var out outcome
	for try := 1; ; try++ {
		b := &branch{s: s, req: req, tx: tx, cancel: cancel, slot: held,
			fwd: s.relayCopy(req, m.Addr(), m.Transport, true, loop)}
		cur = b
		s.obs.Relay(m.ID)
		if err := b.start(context.Background()); err != nil {
			s.log.Debug("relay failed", "member", m.ID, "call_id", cid, "error", err)
			out = outcome{err: err}
		} else {
			out = b.run(retry, fo.Timeout, ring)
		}
		last, held = b, b.slot
		if out.relayed {
			s.settle(m, cid, fromTag, out)
			return
		}
		if s.countsAgainstMember(out) {
			s.store.ReportFailure(m, failureReason(out))
		}
		s.obs.Failover(m.ID, out.code())
		tried = append(tried, m)
		if try >= maxTries || cancelled(cancel) {
			break
		}
		next := s.store.Pick(pool, &v.r, tried)
		if next == nil {
			break
		}
		s.store.Moved(cid, fromTag, next)
		m = next
	}
	s.store.EndCall(cid, fromTag)
	switch {
	case cancelled(cancel):
	case out.final != nil:
		last.relay(out.final)
	default:
		last.replyError(out.err)
	}
}

// settle records the end of a branch whose answer the caller has.
func (s *Server) settle(m *graph.Member, cid, fromTag string, out outcome) {
	if out.final == nil {
		s.store.EndCall(cid, fromTag)
		return
	}
	s.store.ReportSuccess(m)
	if out.final.IsSuccess() {
		s.store.Established(cid, fromTag, tagOf(out.final.To()))
		return
	}
	s.store.EndCall(cid, fromTag)
}

func failureReason(out outcome) string {
	if out.final != nil {
		return strconv.Itoa(out.final.StatusCode) + " " + out.final.Reason
	}
	if out.err != nil {
		return out.err.Error()
	}
	return "no answer"
}

func cancelled(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func tagOf(t *sip.ToHeader) string {
	if t == nil {
		return ""
	}
	v, _ := t.Params.Get("tag")
	return v
}

// forward relays a request on a single branch, without failover: in-dialog
// requests and out-of-dialog requests other than INVITE.
func (s *Server) forward(req *sip.Request, tx sip.ServerTransaction, fwd *sip.Request) {
	var cancel chan struct{}
	ring := time.Duration(0)
	if req.IsInvite() {
		cancel = make(chan struct{}, 1)
		if !tx.OnCancel(func(*sip.Request) {
			select {
			case cancel <- struct{}{}:
			default:
			}
		}) {
			return
		}
		if ring = s.graph.Load().Proxy.RingTimeout; ring <= 0 {
			ring = defaultRingTimeout
		}
	}
	b := &branch{s: s, req: req, tx: tx, fwd: fwd, cancel: cancel}
	if err := b.start(context.Background()); err != nil {
		s.log.Debug("relay failed", "method", string(req.Method), "destination", fwd.Destination(), "error", err)
		b.replyError(err)
		return
	}
	out := b.run(nil, 0, ring)
	if req.Method == sip.BYE && (out.final != nil || out.err != nil) {
		s.endDialog(req)
	}
}

// endDialog ends the dialog a BYE belongs to, whichever side sent it.
func (s *Server) endDialog(req *sip.Request) {
	cid := callID(req)
	if _, ok := s.store.EndCall(cid, tag(req.From())); !ok {
		s.store.EndCall(cid, toTag(req))
	}
}

// inDialog relays a request inside a dialog by loose routing (RFC 3261
// §16.4): our own Route entries are popped, then the next Route, the
// dialog's member or the Request-URI names the next hop.
func (s *Server) inDialog(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction) {
	dest, transport := s.inDialogTarget(g, req)
	s.forward(req, tx, s.relayCopy(req, dest, transport, false, loopHash(req)))
}

// forwardAck relays an ACK for a 2xx statelessly, end to end. ACKs for
// non-2xx answers match their INVITE transaction and never get here.
func (s *Server) forwardAck(g *graph.Graph, req *sip.Request) {
	if toTag(req) == "" {
		return
	}
	dest, transport := s.inDialogTarget(g, req)
	fwd := s.relayCopy(req, dest, transport, false, loopHash(req))
	if err := s.cli.WriteRequest(fwd, noBuild); err != nil {
		s.log.Debug("ACK relay failed", "call_id", callID(req), "destination", dest, "error", err)
	}
}

// inDialogTarget picks the next hop of an in-dialog request: the first
// Route that is not ours, the dialog's member, or the Request-URI.
func (s *Server) inDialogTarget(g *graph.Graph, req *sip.Request) (dest, transport string) {
	if r := s.nextRoute(req); r != nil {
		return uriTarget(&r.Address)
	}
	// A request from the caller's side of a known dialog goes to the
	// dialog's member even when its Request-URI says otherwise.
	if d, ok := s.store.LookupDialog(callID(req)); ok && d.FromTag == tag(req.From()) {
		if m, ok := g.Node(d.Member).(*graph.Member); ok {
			return m.Addr(), m.Transport
		}
	}
	return uriTarget(&req.Recipient)
}

// nextRoute returns the first Route entry of req that does not name this
// proxy (the entries popped by loose routing are the leading own ones), or
// nil.
func (s *Server) nextRoute(req *sip.Request) *sip.RouteHeader {
	for _, h := range req.Headers() {
		if r, ok := h.(*sip.RouteHeader); ok && !s.self.isOwn(&r.Address) {
			return r
		}
	}
	return nil
}

// uriTarget returns host:port and transport of a SIP URI.
func uriTarget(u *sip.Uri) (string, string) {
	port := u.Port
	if port == 0 {
		port = 5060
		if u.Scheme == "sips" {
			port = 5061
		}
	}
	transport := "udp"
	if t, ok := u.UriParams.Get("transport"); ok && t != "" {
		transport = lowerTransport(t)
	}
	return net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(port)), transport
}

// relayCopy builds the request sent to dest over transport (RFC 3261
// §16.6). It is not a deep Clone: the copy shares req's parsed header
// objects and body, which neither sipgo (requests are sent with noBuild)
// nor the proxy modify. Only what changes is new: our Via on top, the
// Record-Route entries, the previous hop's Via (received/rport) and
// Max-Forwards; our own leading Route entries are left out (loose
// routing). req itself is never modified, so the responses sipgo builds
// from it (100, 487, errors) still go upstream (P1).
func (s *Server) relayCopy(req *sip.Request, dest, transport string, rr bool, loop uint64) *sip.Request {
	tp := upperTransport(transport)
	method := req.Method
	if c := req.CSeq(); c != nil && c.MethodName != method {
		// sipgo upper-cased the request line's method; the CSeq keeps
		// the case it was sent with (validate checked they match).
		method = c.MethodName
	}
	fwd := sip.NewRequest(method, req.Recipient)
	fwd.SipVersion = req.SipVersion
	fwd.AppendHeader(s.self.newVia(tp, loop))
	if rr {
		fwd.AppendHeader(s.self.recordRoute(tp))
		if in := req.Transport(); in != tp {
			// RFC 5658 double Record-Route: each side sees its own transport.
			fwd.AppendHeader(s.self.recordRoute(in))
		}
	}
	prevVia, mf, popping := true, true, true
	for _, h := range req.Headers() {
		switch h := h.(type) {
		case *sip.ViaHeader:
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
				if s.self.isOwn(&h.Address) {
					continue
				}
				popping = false
			}
		}
		fwd.AppendHeader(h)
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
		if a := s.self.udpLocal.Load(); a != nil {
			fwd.Laddr = *a
		}
	}
	return fwd
}

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

// strayResponse forwards a 2xx to an INVITE that matches no client
// transaction (a retransmission after ours ended, or a late answer)
// statelessly by the next Via (RFC 3261 §16.7 step 10, RFC 6026). Other
// stray responses are dropped.
func (s *Server) strayResponse(res *sip.Response) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic while relaying a stray response", "panic", r)
		}
	}()
	via := res.Via()
	if via == nil || !s.self.isOwnVia(via) || !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE {
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
	res.SetTransport(upperTransport(next.Transport))
	if err := s.srv.WriteResponse(res); err != nil {
		s.log.Debug("stray 2xx relay failed", "call_id", callID(res), "error", err)
	}
}

// Options sends an OPTIONS to m from the proxy's own listening address and
// returns the final status (for probing).
func (s *Server) Options(ctx context.Context, m *graph.Member) (int, error) {
	tp := upperTransport(m.Transport)
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: m.Host, Port: m.Port})
	req.AppendHeader(s.self.newVia(tp, 0))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "sipfront", Host: s.self.host}}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", Host: m.Host, Port: m.Port}})
	cid := sip.CallIDHeader(sip.GenerateTagN(24))
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.OPTIONS})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.SetBody(nil)
	req.SetTransport(tp)
	req.SetDestination(m.Addr())
	if a := s.self.udpLocal.Load(); tp == "UDP" && a != nil {
		req.Laddr = *a
	}
	res, err := s.cli.Do(ctx, req, noBuild)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// sweep ends dialogs older than proxy.max_call_duration and reconciles the
// call counters now and then.
func (s *Server) sweep(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if max := s.Graph().Proxy.MaxCallDuration; max > 0 {
				for _, d := range s.store.Expire(max, now) {
					s.log.Info("dialog ended: longer than max_call_duration", "call_id", d.CallID,
						"member", d.Member, "caller", d.Caller, "callee", d.Callee, "started", d.Started)
				}
			}
			if n%30 == 0 {
				if fixed := s.store.Reconcile(); fixed > 0 {
					s.log.Warn("call counters reconciled with the dialog table", "fixed", fixed)
				}
			}
		}
	}
}
