package forward

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// NoBuild is a client request option that sends a prebuilt request as is:
// any option disables sipgo's default header building.
func NoBuild(*sipgo.Client, *sip.Request) error { return nil }

// cancelTimeout bounds the goroutine that sends a CANCEL downstream.
const cancelTimeout = 4 * time.Second

// Branch is one forwarded copy of a request and its client transaction,
// with the server transaction it answers. It is driven by one goroutine,
// the sipgo handler's, so its fields need no locks. The one exception,
// relayRetransmission, runs on sipgo's goroutine after a 2xx: it reads
// only fields that are fixed by then (req, r, Hidden, rewrite).
type Branch struct {
	r   *Relay
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
	// onAnswer is called once, on the first answer from downstream (the
	// admission slot goes back then); nil means nobody cares.
	onAnswer func()
	// Hidden is set when fwd carries only the proxy's Via (topology
	// hidden from the target, such as a carrier): responses get the
	// request's Via headers back before they go upstream.
	Hidden bool
	// started is when Start sent the request, rang when the first answer
	// above 100 came (zero until then): the post-dial delay.
	started, rang time.Time
	// rewrite changes each response before it goes upstream (topology
	// hiding); nil means none.
	rewrite func(*sip.Response) *sip.Response
}

// PDD is the post-dial delay of the branch: from sending the request to
// its first ringing (1xx above 100) or final answer; 0 when none came.
func (b *Branch) PDD() time.Duration {
	if b.rang.IsZero() {
		return 0
	}
	return b.rang.Sub(b.started)
}

// SetRewrite installs fn to change every response (our Via popped) before
// it goes upstream; the Outcome still holds the response as received.
func (b *Branch) SetRewrite(fn func(*sip.Response) *sip.Response) { b.rewrite = fn }

// upstream is res as it goes upstream: our Via popped (the request's
// back for a Hidden branch), then the rewrite.
func (b *Branch) upstream(res *sip.Response) *sip.Response {
	b.upstreamVia(res)
	if b.rewrite != nil {
		return b.rewrite(res)
	}
	return res
}

// NewBranch prepares a branch that sends fwd (built by Copy from req) and
// answers tx. cancel fires when the caller CANCELs (nil for non-INVITE
// requests); onAnswer is called on the first answer from downstream.
func (r *Relay) NewBranch(req *sip.Request, tx sip.ServerTransaction, fwd *sip.Request,
	cancel <-chan struct{}, onAnswer func()) *Branch {
	return &Branch{r: r, req: req, tx: tx, fwd: fwd, cancel: cancel, onAnswer: onAnswer}
}

// Forwarded returns the request the branch sends downstream.
func (b *Branch) Forwarded() *sip.Request { return b.fwd }

// Outcome is how a branch ended.
type Outcome struct {
	// Final is the branch's final response, nil on timeout or transport
	// error.
	Final *sip.Response
	// Relayed is true when the caller has its final answer (relayed from
	// this branch or sent by the proxy).
	Relayed bool
	// Err is the transaction error when Final is nil.
	Err error
}

// Code is the final status of the branch, 0 for timeout or transport error.
func (o Outcome) Code() int {
	if o.Final == nil {
		return 0
	}
	return o.Final.StatusCode
}

// Start sends the forwarded request.
func (b *Branch) Start(ctx context.Context) error {
	ct, err := b.r.Client.TransactionRequest(ctx, b.fwd, NoBuild)
	if err != nil {
		return err
	}
	b.ct = ct
	b.started = time.Now()
	return nil
}

// Run relays responses until the branch ends. retry says whether a final
// status (0: timeout or transport error) should fail over instead of being
// relayed; nil means never. noAnswer bounds the wait for the first answer
// (0: Timer B only); ring is Timer C for INVITEs (0 for others).
func (b *Branch) Run(retry func(code int) bool, noAnswer, ring time.Duration) Outcome {
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
			if res.StatusCode > 100 && b.rang.IsZero() {
				b.rang = time.Now()
			}
			if !b.answered {
				b.answered = true
				if b.onAnswer != nil {
					b.onAnswer()
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
					b.Relay(res)
				}
				continue
			}
			if !res.IsSuccess() && !b.finalSent && retry != nil && retry(res.StatusCode) {
				return Outcome{Final: res}
			}
			b.Relay(res)
			if res.IsSuccess() && b.req.IsInvite() {
				b.ct.OnRetransmission(b.relayRetransmission)
			}
			return Outcome{Final: res, Relayed: true}
		case <-b.ct.Done():
			err := b.ct.Err()
			if !b.finalSent && (retry == nil || !retry(0)) {
				b.ReplyError(err)
			}
			return Outcome{Err: err, Relayed: b.finalSent}
		case <-dl.c:
			switch dl.phase {
			case waitAnswer:
				b.abandon()
				err := sip.ErrTransactionTimeout
				if !b.finalSent && (retry == nil || !retry(0)) {
					b.ReplyError(err)
				}
				return Outcome{Err: err, Relayed: b.finalSent}
			case waitRing:
				// Timer C: the callee rang too long.
				b.r.Reply(b.tx, b.req, 408, "Request Timeout")
				b.stop()
				dl.set(waitCancel, sip.Timer_B)
			default:
				// The callee never answered our CANCEL.
				b.ct.Terminate()
				return Outcome{Relayed: true, Err: sip.ErrTransactionTimeout}
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
func (b *Branch) stop() {
	b.finalSent = true
	b.cancelWant = true
	if b.answered {
		b.sendCancel()
	}
}

// abandon gives up on a branch that never answered. A CANCEL goes out
// anyway (against §9.1's advice), so that a callee which was only slow does
// not ring, or answer, a call that has moved on.
func (b *Branch) abandon() {
	if b.fwd.IsInvite() {
		b.sendCancel() // a non-INVITE cannot be cancelled
	}
	b.ct.Terminate()
}

// ReplyError answers the caller for a branch that ended without a final
// response.
func (b *Branch) ReplyError(err error) {
	b.finalSent = true
	if errors.Is(err, sip.ErrTransactionTimeout) {
		b.r.Reply(b.tx, b.req, 408, "Request Timeout")
		return
	}
	b.r.Reply(b.tx, b.req, 503, "Service Unavailable")
}

// Relay sends a downstream response upstream: our Via popped, to the
// request's source. A 2xx the server transaction refuses (it was cancelled
// meanwhile, P6) goes out statelessly.
func (b *Branch) Relay(res *sip.Response) {
	res = b.upstream(res)
	res.SetDestination(b.req.Source())
	if b.finalSent {
		if res.IsSuccess() {
			b.r.WriteUpstream(res, b.req)
		}
		return
	}
	if err := b.tx.Respond(res); err != nil {
		if res.IsSuccess() {
			b.r.WriteUpstream(res, b.req)
			return
		}
		b.r.Log.Debug("relay refused", "code", res.StatusCode, "call_id", sipmsg.CallID(b.req), "error", err)
		return
	}
	if res.StatusCode >= 200 {
		b.finalSent = true
		b.r.final(res.StatusCode)
	}
}

// relayRetransmission relays a retransmitted 2xx (P11); sipgo calls it
// from the client transaction, which outlives the handler.
func (b *Branch) relayRetransmission(res *sip.Response) {
	b.r.WriteUpstream(b.upstream(res), b.req)
}

// sendCancel sends a CANCEL for the branch (same branch and CSeq number,
// RFC 3261 §9.1) from its own goroutine: this happens only on the cancel
// path, and the handler must keep reading the INVITE's responses.
func (b *Branch) sendCancel() {
	if b.cancelSent || b.ct == nil {
		return
	}
	b.cancelSent = true
	b.r.SendCancel(b.fwd)
}

// SendCancel sends the CANCEL of a forwarded INVITE inv (NewCancel) from a
// goroutine of its own, bounded by cancelTimeout: it happens only on the
// cancel path, and the caller must keep reading the INVITE's responses.
func (r *Relay) SendCancel(inv *sip.Request) {
	c := NewCancel(inv)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
		defer cancel()
		if _, err := r.Client.Do(ctx, c, NoBuild); err != nil {
			r.Log.Debug("CANCEL downstream failed", "call_id", sipmsg.CallID(c), "error", err)
		}
	}()
}

// NewCancel builds the CANCEL for a forwarded INVITE (sipgo has no exported
// helper): R-URI, top Via, Route, From, To, Call-ID and CSeq number of the
// INVITE.
func NewCancel(inv *sip.Request) *sip.Request {
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

// CancelSignal arranges for the returned channel to fire when the caller
// CANCELs the INVITE of tx; false means it was cancelled already.
func CancelSignal(tx sip.ServerTransaction) (<-chan struct{}, bool) {
	cancel := make(chan struct{}, 1)
	ok := tx.OnCancel(func(*sip.Request) {
		select {
		case cancel <- struct{}{}:
		default:
		}
	})
	return cancel, ok
}

// Cancelled reports whether c has fired.
func Cancelled(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Single relays a request on one branch, without failover: in-dialog
// requests and out-of-dialog requests other than INVITE. ring is Timer C
// for an INVITE (ignored otherwise); noAnswer bounds the wait for the
// first answer (0: Timer B/F only).
//
// When fwd carries only the proxy's Via (a leg toward a carrier), set
// hidden so that the answer gets the request's Vias back.
func (r *Relay) Single(req *sip.Request, tx sip.ServerTransaction, fwd *sip.Request, ring, noAnswer time.Duration, hidden bool) Outcome {
	return r.SingleWith(req, tx, fwd, ring, noAnswer, SingleOptions{Hidden: hidden})
}

// SingleOptions changes how SingleWith relays.
type SingleOptions struct {
	// Hidden: fwd carries only the proxy's Via (see Branch.Hidden).
	Hidden bool
	// Rewrite changes every response before it goes upstream (see
	// SetRewrite).
	Rewrite func(*sip.Response) *sip.Response
	// OnTimeout is called when the request times out (no answer within
	// noAnswer or Timer F), before the sender gets its 408: what it does
	// (end the dialog) is done when the sender learns of it.
	OnTimeout func()
}

// SingleWith is Single with options.
func (r *Relay) SingleWith(req *sip.Request, tx sip.ServerTransaction, fwd *sip.Request, ring, noAnswer time.Duration, o SingleOptions) Outcome {
	var cancel <-chan struct{}
	if req.IsInvite() {
		var ok bool
		if cancel, ok = CancelSignal(tx); !ok {
			return Outcome{Relayed: true}
		}
	} else {
		ring = 0
	}
	b := r.NewBranch(req, tx, fwd, cancel, nil)
	b.Hidden = o.Hidden
	b.rewrite = o.Rewrite
	if err := b.Start(context.Background()); err != nil {
		r.Log.Debug("relay failed", "method", string(req.Method), "destination", fwd.Destination(), "error", err)
		b.ReplyError(err)
		return Outcome{Relayed: true}
	}
	var retry func(int) bool
	if o.OnTimeout != nil {
		retry = func(code int) bool { return code == 0 } // answered below
	}
	out := b.Run(retry, noAnswer, ring)
	if !out.Relayed && out.Final == nil {
		if errors.Is(out.Err, sip.ErrTransactionTimeout) {
			o.OnTimeout()
		}
		b.ReplyError(out.Err)
		out.Relayed = true
	}
	return out
}

// upstreamVia pops the proxy's Via off a downstream response; for a
// Hidden branch, whose target never saw the upstream Vias and may number
// its CSeq apart (a carrier leg that answered a challenge), it puts the
// request's Vias and CSeq back instead of what the target echoed.
func (b *Branch) upstreamVia(res *sip.Response) {
	if !b.Hidden {
		res.RemoveHeader("Via")
		return
	}
	for res.RemoveHeader("Via") {
	}
	vias := b.req.GetHeaders("Via")
	res.PrependHeader(vias...)
	if c := b.req.CSeq(); c != nil {
		res.ReplaceHeader(c)
	}
}
