package runtime

import (
	"cmp"
	"context"
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

// initial handles an out-of-dialog request: the graph decides, then the
// proxy replies, drops or relays.
func (s *Server) initial(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction) {
	if req.IsInvite() {
		if s.draining.Load() {
			s.obs.Request(string(req.Method), DecidedIntake)
			s.relay.Reply(tx, req, 503, "Service Unavailable")
			return
		}
		if s.staleInvite(req) {
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
		if toRegistered(&d) {
			held = false
			s.forkInvite(g, req, tx, v, &d, s.releaseOnce())
			return
		}
		if it := s.targets(v, &d); it != nil {
			held = false
			s.proxyInvite(g, req, tx, v, it, outbound(v, &d))
			return
		}
		s.act(req, tx, v, &d)
		return
	}
	v, d := s.decide(g, req)
	switch {
	case d.Action == graph.ActionRegister:
		s.register(req, tx)
	case toRegistered(&d):
		s.toContacts(req, tx, v, &d)
	default:
		s.act(req, tx, v, &d)
	}
}

// toRegistered reports whether d relays to the contacts of a registered
// user.
func toRegistered(d *graph.Decision) bool {
	return d.Action == graph.ActionRelay && d.Route != nil && d.Route.Target == graph.TargetRegistrar
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
func (s *Server) act(req *sip.Request, tx sip.ServerTransaction, v *intake.View, d *graph.Decision) {
	if s.authReply(req, tx, v, d) {
		return
	}
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
		if out := outbound(v, d); out != nil {
			out(fwd)
		}
		s.forward(req, tx, fwd)
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

// staleInvite drops an INVITE retransmitted after its server transaction
// lingered out (dialog.Table.Retransmitted): relayed as a new call it
// would move the live dialog to another member, reset its legs, and the
// UAS's 482 (merged request) would end it. The caller still gets the 2xx
// from the UAS's own retransmissions, relayed statelessly by their Via
// (not on a topology-hidden leg: docs/serving.md#transactions). A spiral
// (the call back through the proxy, with its Via) is not stale. It reports
// whether req was dropped.
func (s *Server) staleInvite(req *sip.Request) bool {
	c := req.CSeq()
	if c == nil || !s.dialogs.Retransmitted(sipmsg.CallID(req), sipmsg.Tag(req.From()), c.SeqNo) {
		return false
	}
	if s.carriesOwnVia(req) {
		return false // a spiral: the same call back through the proxy, not a retransmission
	}
	s.obs.Request(string(req.Method), DecidedInDialog)
	s.log.Debug("INVITE retransmitted after its transaction: dropped", "call_id", sipmsg.CallID(req))
	return true
}

// proxyInvite relays an initial INVITE to the targets of it, one after the
// other (serial failover). The caller only sees the last answer. It owns
// the INVITE's admission slot: the first answer from a target gives it
// back, or proxyInvite does when it returns. prep, when not nil, prepares
// every copy (see outbound).
func (s *Server) proxyInvite(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction, v *intake.View, it target.Iterator, prep func(*sip.Request)) {
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
	ring := ringTimeout(g)
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
	hide := g.Proxy.TopologyHiding
	legs := s.dialogs.Record(cid, fromTag, req, hide)
	rewrite := s.answered(req, cid, fromTag, legs, hide)
	loop := forward.LoopHash(req)
	var last *forward.Branch
	var out forward.Outcome
	for {
		fwd := s.relay.CopyWith(req, t.Addr, t.Transport, true, loop, s.hiding(legs, t.Transport))
		if prep != nil {
			prep(fwd)
		}
		rw := rewrite
		if t.Carrier != nil {
			rw = s.toCarrier(fwd, t.Carrier, v.R.RURI.User, rewrite)
		}
		b := s.relay.NewBranch(req, tx, fwd, cancel, release)
		b.Hidden = t.Carrier != nil
		b.SetRewrite(rw)
		s.obs.Relay(t.ID)
		if err := b.Start(context.Background()); err != nil {
			s.log.Debug("relay failed", "target", t.ID, "call_id", cid, "error", err)
			out = forward.Outcome{Err: err}
		} else {
			out = b.Run(it.Retries, it.NoAnswer(), ring)
		}
		if a, ok := it.(authorizer); ok && out.Final != nil && !out.Relayed {
			if fwd := a.Authorize(fwd, out.Final); fwd != nil {
				b, out = s.authorizedTry(req, tx, fwd, cancel, release, it, ring, rw)
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
	case out.Final != nil && withheld(it, out.Final):
		last.ReplyError(nil) // 503: a carrier's challenge never goes upstream
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
		return // answered records it (before the caller can send its ACK)
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

// forward relays an out-of-dialog request on a single branch, without
// failover.
func (s *Server) forward(req *sip.Request, tx sip.ServerTransaction, fwd *sip.Request) {
	s.relay.Single(req, tx, fwd, ringTimeout(s.graph.Load()), 0, false)
}

// ringTimeout is Timer C for g.
func ringTimeout(g *graph.Graph) time.Duration {
	if g.Proxy.RingTimeout > 0 {
		return g.Proxy.RingTimeout
	}
	return defaultRingTimeout
}

// answered returns the rewrite of the responses to an initial INVITE: a
// 2xx is recorded in the dialog table (the callee's tag, Contact and route
// set) before it goes upstream, so the caller's ACK finds it; under
// topology hiding the response is then hidden.
func (s *Server) answered(req *sip.Request, cid, fromTag string, legs *dialog.Legs, hide bool) func(*sip.Response) *sip.Response {
	var contact *sip.ContactHeader
	if hide {
		contact = s.self.HiddenContact(legs.Token, req.Transport())
	}
	return func(res *sip.Response) *sip.Response {
		if res.IsSuccess() && s.dialogs.Answer(cid, fromTag, res, s.self.IsOwn) {
			s.dialogs.Established(cid, fromTag, sipmsg.ToHeaderTag(res.To()))
		}
		if hide {
			return s.relay.HideResponse(res, req, contact)
		}
		return res
	}
}

// hiding returns the copy options of a request sent to a party reached
// over transport under topology hiding, nil when it is off.
func (s *Server) hiding(legs *dialog.Legs, transport string) *forward.CopyOptions {
	if legs == nil || legs.Token == "" {
		return nil
	}
	return &forward.CopyOptions{Hide: true, Contact: s.self.HiddenContact(legs.Token, transport)}
}

// expired hangs up a dialog that outlived max_call_duration; its BYEs are
// built now, before the table tells the carriers it ended (the carrier
// leg's CSeq shift goes then), and sent in the background.
func (s *Server) expired(d dialog.Dialog) {
	s.log.Info("dialog ended: longer than max_call_duration", "call_id", d.CallID,
		"target", d.Target, "caller", d.Caller, "callee", d.Callee, "started", d.Started)
	if d.Established {
		byes := s.byes(d)
		go s.sendByes(d, byes)
	}
}

// expireUnacked ends the dialogs whose 2xx was never acknowledged
// (dialog.NoAckTimeout, or Config.NoAckTimeout) with one log line.
func (s *Server) expireUnacked(now time.Time) {
	noAck := cmp.Or(s.cfg.NoAckTimeout, dialog.NoAckTimeout)
	if gone := s.dialogs.ExpireUnacked(noAck, now); len(gone) > 0 {
		// One line a sweep: an overload can leave thousands.
		s.log.Info("dialogs ended: their 2xx was never acknowledged", "count", len(gone),
			"after", noAck, "first_call_id", gone[0].CallID)
	}
}

// unackedEvery is how many sweeps apart the unacknowledged dialogs are
// looked for: each look walks the whole table under its shard locks, and a
// few seconds more on a 32 s timeout do not matter.
const unackedEvery = 2

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
				s.dialogs.ExpireWith(max, now, s.expired)
			}
			if n%unackedEvery == 0 {
				s.expireUnacked(now)
			}
			if n%30 == 0 {
				if fixed := s.store.Reconcile(); fixed > 0 {
					s.log.Warn("call counters reconciled with the dialog table", "fixed", fixed)
				}
			}
		}
	}
}
