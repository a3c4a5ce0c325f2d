package runtime

import (
	"context"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/carrier"
	"github.com/sipfront/sipfront/runtime/forward"
	"github.com/sipfront/sipfront/runtime/intake"
	"github.com/sipfront/sipfront/runtime/sipmsg"
	"github.com/sipfront/sipfront/runtime/target"
)

// initial handles an out-of-dialog request: the graph decides, then the
// proxy replies, drops or relays.
func (s *Server) initial(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction) {
	if req.IsInvite() {
		if s.draining.Load() {
			s.obs.Request(string(req.Method), DecidedIntake)
			s.relay.Reply(tx, req, 503, "Service Unavailable")
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
		if it := s.targets(v, &d); it != nil {
			held = false
			s.proxyInvite(g, req, tx, v, it)
			return
		}
		s.act(req, tx, &d)
		return
	}
	_, d := s.decide(g, req)
	s.act(req, tx, &d)
}

// targets returns the iterator over the targets of a relay decision, nil
// when the decision does not relay to a target this runtime serves.
func (s *Server) targets(v *intake.View, d *graph.Decision) target.Iterator {
	switch {
	case d.Action == graph.ActionRelay && d.Member != nil:
		return target.NewPool(s.store, &v.R, d.Member)
	case d.Action == graph.ActionRelay && d.Carrier != nil:
		return carrier.NewIterator(s.carriers, d.Candidates)
	}
	return nil
}

// decide runs the graph for req and reports the decision.
func (s *Server) decide(g *graph.Graph, req *sip.Request) (*intake.View, graph.Decision) {
	v := intake.NewView(req)
	var t0 time.Time
	if s.timeDecisions {
		t0 = time.Now()
	}
	d := g.Decide(&v.R, s.state, nil)
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
	case d.Action == graph.ActionReply && d.Status == 503 && len(d.Candidates) > 0:
		s.replyRetryAfter(tx, req) // every carrier at its limits, down or disabled
	case d.Action == graph.ActionReply:
		s.relay.Reply(tx, req, d.Status, d.Reason)
	case d.Action == graph.ActionDrop:
		// Silence: the transaction ends with the handler, before sipgo's
		// automatic 100 Trying.
	case d.Action == graph.ActionRelay && d.Member != nil:
		fwd := s.relay.Copy(req, d.Member.Addr(), d.Member.Transport, recordRoutes(req.Method), forward.LoopHash(req))
		s.forward(req, tx, fwd, false, nil)
	default:
		s.relay.Reply(tx, req, 500, "Not served by this version of sipfront: "+d.Action.String())
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

// proxyInvite relays an initial INVITE to the targets of it, one after the
// other (serial failover). The caller only sees the last answer. It owns
// the INVITE's admission slot: the first answer from a target gives it
// back, or proxyInvite does when it returns.
func (s *Server) proxyInvite(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction, v *intake.View, it target.Iterator) {
	held := true
	release := func() {
		if held {
			held = false
			s.release()
		}
	}
	defer release()
	cancel, ok := forward.CancelSignal(tx)
	if !ok {
		return // cancelled before we started
	}
	// No 100 Trying here: sipgo's INVITE server transaction sends one
	// when nothing else went upstream within 200 ms (RFC 3261 §17.2.1,
	// Timer_1xx), which is the case in which the caller needs it; a target
	// that answers sooner costs no extra datagram.
	ring := g.Proxy.RingTimeout
	if ring <= 0 {
		ring = defaultRingTimeout
	}
	cid, fromTag := v.R.CallID, sipmsg.Tag(req.From())
	t, ok := it.Next()
	if !ok {
		if l, limited := it.(interface{ Limited() bool }); limited && l.Limited() {
			s.replyRetryAfter(tx, req)
			return
		}
		s.relay.Reply(tx, req, 503, "Service Unavailable")
		return
	}
	s.dialogs.Start(t, cid, fromTag, v.R.From.User, v.R.To.User)
	loop := forward.LoopHash(req)
	var last *forward.Branch
	var out forward.Outcome
	for {
		fwd := s.relay.Copy(req, t.Addr, t.Transport, true, loop)
		if t.Carrier != nil {
			s.toCarrier(fwd, t.Carrier, v.R.RURI.User)
		}
		b := s.relay.NewBranch(req, tx, fwd, cancel, release)
		b.Hidden = t.Carrier != nil
		s.obs.Relay(t.ID)
		if err := b.Start(context.Background()); err != nil {
			s.log.Debug("relay failed", "target", t.ID, "call_id", cid, "error", err)
			out = forward.Outcome{Err: err}
		} else {
			out = b.Run(it.Retries, it.NoAnswer(), ring)
		}
		if a, ok := it.(authorizer); ok && out.Final != nil && !out.Relayed {
			if fwd := a.Authorize(fwd, out.Final); fwd != nil {
				b, out = s.authorizedTry(req, tx, fwd, cancel, release, it, ring)
			}
		}
		if timed, ok := it.(target.Timed); ok {
			timed.PDD(t, b.PDD())
		}
		last = b
		if out.Relayed {
			s.settle(it, t, cid, fromTag, out)
			return
		}
		it.Failed(t, out.Code(), failureReason(out), s.countsAgainstTarget(out))
		s.obs.Failover(t.ID, out.Code())
		if forward.Cancelled(cancel) {
			break
		}
		if t, ok = it.Next(); !ok {
			break
		}
		s.dialogs.Moved(cid, fromTag, t)
	}
	s.dialogs.End(cid, fromTag)
	switch {
	case forward.Cancelled(cancel):
	case out.Final != nil:
		last.Relay(out.Final)
	default:
		last.ReplyError(out.Err)
	}
}

// settle records the end of a branch whose answer the caller has.
func (s *Server) settle(it target.Iterator, t target.Target, cid, fromTag string, out forward.Outcome) {
	if out.Final == nil {
		s.dialogs.End(cid, fromTag)
		return
	}
	it.Answered(t, out.Final.StatusCode)
	if out.Final.IsSuccess() {
		s.dialogs.Established(cid, fromTag, sipmsg.ToHeaderTag(out.Final.To()))
		return
	}
	s.dialogs.End(cid, fromTag)
}

func failureReason(out forward.Outcome) string {
	if out.Final != nil {
		return strconv.Itoa(out.Final.StatusCode) + " " + out.Final.Reason
	}
	if out.Err != nil {
		return out.Err.Error()
	}
	return "no answer"
}

// forward relays a request on a single branch, without failover.
func (s *Server) forward(req *sip.Request, tx sip.ServerTransaction, fwd *sip.Request, hidden bool, rewrite func(*sip.Response)) {
	ring := s.graph.Load().Proxy.RingTimeout
	if ring <= 0 {
		ring = defaultRingTimeout
	}
	out := s.relay.Single(req, tx, fwd, ring, 0, hidden, rewrite)
	if req.Method == sip.BYE && (out.Final != nil || out.Err != nil) {
		s.endDialog(req)
	}
}

// endDialog ends the dialog a BYE belongs to, whichever side sent it.
func (s *Server) endDialog(req *sip.Request) {
	cid := sipmsg.CallID(req)
	if _, ok := s.dialogs.End(cid, sipmsg.Tag(req.From())); !ok {
		s.dialogs.End(cid, sipmsg.ToTag(req))
	}
}

// inDialog relays a request inside a dialog by loose routing (RFC 3261
// §16.4): our own Route entries are popped, then the next Route, the
// dialog's target or the Request-URI names the next hop.
func (s *Server) inDialog(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction) {
	fwd, _, hidden := s.inDialogCopy(req)
	s.forward(req, tx, fwd, hidden, s.outsideContact(req))
}

// forwardAck relays an ACK for a 2xx statelessly, end to end. ACKs for
// non-2xx answers match their INVITE transaction and never get here.
func (s *Server) forwardAck(g *graph.Graph, req *sip.Request) {
	if sipmsg.ToTag(req) == "" {
		return
	}
	fwd, dest, _ := s.inDialogCopy(req)
	if err := s.relay.Client.WriteRequest(fwd, forward.NoBuild); err != nil {
		s.log.Debug("ACK relay failed", "call_id", sipmsg.CallID(req), "destination", dest, "error", err)
	}
}

// inDialogTarget picks the next hop of an in-dialog request: the first
// Route that is not ours, the dialog's target, or the Request-URI.
func (s *Server) inDialogTarget(req *sip.Request) (dest, transport string) {
	if r := s.self.NextRoute(req); r != nil {
		return sipmsg.URITarget(&r.Address)
	}
	// A request from the caller's side of a known dialog goes to the
	// dialog's target even when its Request-URI says otherwise.
	if d, ok := s.dialogs.Lookup(sipmsg.CallID(req)); ok && d.FromTag == sipmsg.Tag(req.From()) && d.Addr != "" {
		return d.Addr, d.Transport
	}
	return sipmsg.URITarget(&req.Recipient)
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
				for _, d := range s.dialogs.Expire(max, now) {
					s.log.Info("dialog ended: longer than max_call_duration", "call_id", d.CallID,
						"target", d.Target, "caller", d.Caller, "callee", d.Callee, "started", d.Started)
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
