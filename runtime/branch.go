package runtime

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// noBuild is a client request option that sends a prebuilt request as is:
// any option disables sipgo's default header building.
func noBuild(*sipgo.Client, *sip.Request) error { return nil }

// cancelTimeout bounds the goroutine that sends a CANCEL downstream.
const cancelTimeout = 4 * time.Second

// branch is one forwarded copy of a request and its client transaction,
// with the server transaction it answers. It is driven by one goroutine,
// the sipgo handler's, so its fields need no locks.
type branch struct {
	s   *Server
	req *sip.Request // as received: responses upstream are built from it
	tx  sip.ServerTransaction
	fwd *sip.Request
	ct  sip.ClientTransaction

	// cancel fires when the caller CANCELs (INVITE only); upstream already
	// has its 487 from sipgo by then.
	cancel <-chan struct{}
	// finalSent is set once the caller has a final answer that did not
	// come from this branch (CANCEL, Timer C): later responses are only
	// absorbed, except a 2xx, which is always relayed (RFC 3261 §16.7).
	finalSent  bool
	answered   bool
	cancelWant bool
	cancelSent bool
	// slot is true while the branch holds its INVITE's admission slot; the
	// member's first answer gives it back.
	slot bool
}

// outcome is how a branch ended.
type outcome struct {
	// final is the branch's final response, nil on timeout or transport
	// error.
	final *sip.Response
	// relayed is true when the caller has its final answer (relayed from
	// this branch or sent by the proxy).
	relayed bool
	// err is the transaction error when final is nil.
	err error
}

// code is the final status of the branch, 0 for timeout or transport error.
func (o outcome) code() int {
	if o.final == nil {
		return 0
	}
	return o.final.StatusCode
}

// start sends the forwarded request.
func (b *branch) start(ctx context.Context) error {
	ct, err := b.s.cli.TransactionRequest(ctx, b.fwd, noBuild)
	if err != nil {
		return err
	}
	b.ct = ct
	return nil
}

// run relays responses until the branch ends. retry says whether a final
// status (0: timeout or transport error) should fail over instead of being
// relayed; nil means never. noAnswer bounds the wait for the first answer
// (0: Timer B only); ring is Timer C for INVITEs (0 for others).
func (b *branch) run(retry func(code int) bool, noAnswer, ring time.Duration) outcome {
	var dl deadline
	defer dl.stop()
	switch {
	case noAnswer > 0 && (ring <= 0 || noAnswer < ring):
		dl.set(waitAnswer, noAnswer)
	case ring > 0:
		dl.set(waitRing, ring)
	}
	for {
		select {
		case res := <-b.ct.Responses():
			if !b.answered {
				b.answered = true
				if b.slot {
					b.slot = false
					b.s.release()
				}
				if b.cancelWant {
					b.sendCancel()
				}
			}
			if res.IsProvisional() {
				switch {
				case dl.phase == waitAnswer && b.finalSent:
					// Cancelled before the member answered: the CANCEL
					// just went out.
					dl.set(waitCancel, sip.Timer_B)
				case dl.phase == waitAnswer || dl.phase == waitRing:
					if ring > 0 {
						dl.set(waitRing, ring) // Timer C restarts on every 1xx
					} else {
						dl.clear()
					}
				}
				if res.StatusCode != 100 && !b.finalSent {
					b.relay(res)
				}
				continue
			}
			if !res.IsSuccess() && !b.finalSent && retry != nil && retry(res.StatusCode) {
				return outcome{final: res}
			}
			b.relay(res)
			if res.IsSuccess() && b.req.IsInvite() {
				b.ct.OnRetransmission(b.relayRetransmission)
			}
			return outcome{final: res, relayed: true}
		case <-b.ct.Done():
			err := b.ct.Err()
			if !b.finalSent && (retry == nil || !retry(0)) {
				b.replyError(err)
			}
			return outcome{err: err, relayed: b.finalSent}
		case <-dl.c:
			switch dl.phase {
			case waitAnswer:
				b.abandon()
				err := sip.ErrTransactionTimeout
				if !b.finalSent && (retry == nil || !retry(0)) {
					b.replyError(err)
				}
				return outcome{err: err, relayed: b.finalSent}
			case waitRing:
				// Timer C: the callee rang too long.
				b.s.reply(b.tx, b.req, 408, "Request Timeout")
				b.stop()
				dl.set(waitCancel, sip.Timer_B)
			default:
				// The callee never answered our CANCEL.
				b.ct.Terminate()
				return outcome{relayed: true, err: sip.ErrTransactionTimeout}
			}
		case <-b.cancel:
			b.cancel = nil
			b.stop()
			if dl.phase != waitAnswer {
				// Unanswered, the no-answer deadline comes first; it
				// gives way to waitCancel once the member answers.
				dl.set(waitCancel, sip.Timer_B)
			}
		}
	}
}

// waitPhase names what a branch's deadline is waiting for.
type waitPhase uint8

const (
	waitNone   waitPhase = iota
	waitAnswer           // the member's first answer (failover timeout)
	waitRing             // a final answer after a 1xx (Timer C)
	waitCancel           // the member's answer to our CANCEL (Timer B)
)

// deadline is the one timer of a branch: its deadlines follow each other,
// so a single time.Timer, reset, serves them all.
type deadline struct {
	t     *time.Timer
	c     <-chan time.Time
	phase waitPhase
}

func (d *deadline) set(p waitPhase, after time.Duration) {
	d.phase = p
	if d.t == nil {
		d.t = time.NewTimer(after)
	} else {
		d.t.Reset(after)
	}
	d.c = d.t.C
}

func (d *deadline) clear() {
	d.phase, d.c = waitNone, nil
	d.stop()
}

func (d *deadline) stop() {
	if d.t != nil {
		d.t.Stop()
	}
}

// stop marks the caller as answered and cancels the branch, at once when
// it has answered and on its first answer otherwise (RFC 3261 §9.1).
func (b *branch) stop() {
	b.finalSent = true
	b.cancelWant = true
	if b.answered {
		b.sendCancel()
	}
}

// abandon gives up on a branch that never answered. A CANCEL goes out
// anyway (against §9.1's advice), so that a callee which was only slow does
// not ring, or answer, a call that has moved on.
func (b *branch) abandon() {
	b.sendCancel()
	b.ct.Terminate()
}

// replyError answers the caller for a branch that ended without a final
// response.
func (b *branch) replyError(err error) {
	b.finalSent = true
	if errors.Is(err, sip.ErrTransactionTimeout) {
		b.s.reply(b.tx, b.req, 408, "Request Timeout")
		return
	}
	b.s.reply(b.tx, b.req, 503, "Service Unavailable")
}

// relay sends a downstream response upstream: our Via popped, to the
// request's source. A 2xx the server transaction refuses (it was cancelled
// meanwhile, P6) goes out statelessly.
func (b *branch) relay(res *sip.Response) {
	res.RemoveHeader("Via")
	res.SetDestination(b.req.Source())
	if b.finalSent {
		if res.IsSuccess() {
			b.s.writeUpstream(res, b.req)
		}
		return
	}
	if err := b.tx.Respond(res); err != nil {
		if res.IsSuccess() {
			b.s.writeUpstream(res, b.req)
			return
		}
		b.s.log.Debug("relay refused", "code", res.StatusCode, "call_id", callID(b.req), "error", err)
		return
	}
	if res.StatusCode >= 200 {
		b.finalSent = true
		b.s.obs.Response(res.StatusCode)
	}
}

// relayRetransmission relays a retransmitted 2xx (P11); sipgo calls it
// from the client transaction, which outlives the handler.
func (b *branch) relayRetransmission(res *sip.Response) {
	res.RemoveHeader("Via")
	b.s.writeUpstream(res, b.req)
}

// writeUpstream sends a response statelessly to the source of req.
func (s *Server) writeUpstream(res *sip.Response, req *sip.Request) {
	res.SetDestination(req.Source())
	res.SetTransport(req.Transport())
	if err := s.srv.WriteResponse(res); err != nil {
		s.log.Debug("stateless response failed", "code", res.StatusCode, "call_id", callID(req), "error", err)
	}
}

// sendCancel sends a CANCEL for the branch (same branch and CSeq number,
// RFC 3261 §9.1) from its own goroutine: this happens only on the cancel
// path, and the handler must keep reading the INVITE's responses.
func (b *branch) sendCancel() {
	if b.cancelSent || b.ct == nil {
		return
	}
	b.cancelSent = true
	c := newCancel(b.fwd)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
		defer cancel()
		if _, err := b.s.cli.Do(ctx, c, noBuild); err != nil {
			b.s.log.Debug("CANCEL downstream failed", "call_id", callID(c), "error", err)
		}
	}()
}

// newCancel builds the CANCEL for a forwarded INVITE (sipgo has no exported
// helper): R-URI, top Via, Route, From, To, Call-ID and CSeq number of the
// INVITE.
func newCancel(inv *sip.Request) *sip.Request {
	c := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	c.SipVersion = inv.SipVersion
	c.AppendHeader(inv.Via().Clone())
	for _, h := range inv.GetHeaders("Route") {
		c.AppendHeader(sip.HeaderClone(h))
	}
	c.AppendHeader(sip.HeaderClone(inv.From()))
	c.AppendHeader(sip.HeaderClone(inv.To()))
	c.AppendHeader(sip.HeaderClone(inv.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	c.SetBody(nil)
	c.SetTransport(inv.Transport())
	c.SetDestination(inv.Destination())
	c.Laddr = inv.Laddr
	return c
}
