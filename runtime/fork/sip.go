package fork

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/runtime/forward"
	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// SIPBranch is a Branch on a real client transaction: it sends a forwarded
// INVITE with the proxy's Relay, applies Timer C (restarted by every
// provisional) and sends CANCEL when asked, once the callee has answered
// something (RFC 3261 §9.1).
type SIPBranch struct {
	relay *forward.Relay
	fwd   *sip.Request
	ring  time.Duration
	// retransmit relays 2xx retransmissions upstream (P11).
	retransmit func(*sip.Response)

	cancel chan struct{}
	once   sync.Once
}

// NewSIPBranch prepares a branch sending fwd (a copy from Relay.Copy with
// the contact as Request-URI); ring is Timer C; retransmit relays 2xx
// retransmissions upstream.
func NewSIPBranch(r *forward.Relay, fwd *sip.Request, ring time.Duration, retransmit func(*sip.Response)) *SIPBranch {
	return &SIPBranch{relay: r, fwd: fwd, ring: ring, retransmit: retransmit, cancel: make(chan struct{})}
}

// Cancel implements Branch.
func (b *SIPBranch) Cancel() { b.once.Do(func() { close(b.cancel) }) }

// Start implements Branch.
func (b *SIPBranch) Start(id int, events chan<- Event) { go b.run(id, events) }

func (b *SIPBranch) run(id int, events chan<- Event) {
	ct, err := b.relay.Client.TransactionRequest(context.Background(), b.fwd, forward.NoBuild)
	if err != nil {
		b.relay.Log.Debug("fork branch not sent", "call_id", sipmsg.CallID(b.fwd), "destination", b.fwd.Destination(), "error", err)
		events <- Event{Branch: id, Code: 503, Done: true}
		return
	}
	// The transaction ends with the branch, except after a 2xx: then it
	// must live on (Timer M, RFC 6026) so that retransmissions of the 2xx
	// still reach the caller through OnRetransmission.
	success := false
	defer func() {
		if !success {
			ct.Terminate()
		}
	}()
	timer := time.NewTimer(b.ring) // Timer C, then Timer B once cancelled
	defer timer.Stop()
	// timedOut: Timer C fired; the contact's 487 to our CANCEL then counts
	// as 408 for the caller (RFC 3261 §16.8).
	answered, cancelling, cancelSent, timedOut := false, false, false, false
	sendCancel := func() {
		if !cancelSent {
			cancelSent = true
			b.sendCancel()
		}
	}
	cancel := b.cancel
	for {
		select {
		case res := <-ct.Responses():
			answered = true
			if cancelling {
				sendCancel()
			}
			switch {
			case res.IsProvisional():
				if !cancelling {
					timer.Reset(b.ring)
				}
				if res.StatusCode != 100 {
					events <- Event{Branch: id, Code: res.StatusCode, Msg: res}
				}
			case res.IsSuccess():
				success = true
				if b.retransmit != nil {
					ct.OnRetransmission(b.retransmit)
				}
				events <- Event{Branch: id, Code: res.StatusCode, Msg: res}
				events <- Event{Branch: id, Done: true}
				return
			case timedOut:
				events <- Event{Branch: id, Code: 408, Done: true}
				return
			default:
				events <- Event{Branch: id, Code: res.StatusCode, Msg: res, Done: true}
				return
			}
		case <-ct.Done():
			events <- Event{Branch: id, Code: errCode(ct.Err()), Done: true}
			return
		case <-timer.C:
			if cancelling {
				// The callee never answered our CANCEL (Timer B).
				events <- Event{Branch: id, Code: 408, Done: true}
				return
			}
			// Timer C: the contact rang too long.
			cancelling, timedOut = true, true
			timer.Reset(sip.Timer_B)
			if answered {
				sendCancel()
			}
		case <-cancel:
			cancel = nil
			if !cancelling {
				cancelling = true
				timer.Reset(sip.Timer_B)
			}
			// §9.1: CANCEL once the contact has answered something; until
			// then it waits for the first response (or Timer B), so that
			// the contact's 487 is still ACKed by this transaction.
			if answered {
				sendCancel()
			}
		}
	}
}

func errCode(err error) int {
	if errors.Is(err, sip.ErrTransactionTimeout) {
		return 408
	}
	return 503
}

func (b *SIPBranch) sendCancel() { b.relay.SendCancel(b.fwd) }

// SIPUpstream is the caller's server transaction as a fork's Upstream.
type SIPUpstream struct {
	relay *forward.Relay
	req   *sip.Request
	tx    sip.ServerTransaction
	// onAnswer is called once, on the first response relayed (the
	// admission slot goes back then).
	onAnswer func()
	// onSuccess is called with the branch and To tag of the first 2xx,
	// before it goes up: the dialog table must name the answering contact
	// before the caller's ACK can arrive.
	onSuccess func(branch int, toTag string)
	// final is set once the caller has a final response.
	final bool
	// toTag is the To tag of the first 2xx: the dialog the caller keeps.
	toTag string
	// rewrite changes every response (our Via popped) before it goes up
	// (topology hiding); nil means none.
	rewrite func(*sip.Response) *sip.Response
}

// SetRewrite installs fn to change every response before it goes up; for
// the first 2xx it runs after onSuccess.
func (u *SIPUpstream) SetRewrite(fn func(*sip.Response) *sip.Response) { u.rewrite = fn }

// up is res as it goes up: the rewrite applied, sent to the caller.
func (u *SIPUpstream) up(res *sip.Response) *sip.Response {
	if u.rewrite != nil {
		res = u.rewrite(res)
	}
	res.SetDestination(u.req.Source())
	return res
}

// ToTag returns the To tag of the first 2xx relayed, "" when none was.
func (u *SIPUpstream) ToTag() string { return u.toTag }

// NewSIPUpstream returns the Upstream answering req on tx; onAnswer (may be
// nil) is called on the first response that goes up, onSuccess (may be
// nil) with the branch and To tag of the first 2xx, before it goes up.
func NewSIPUpstream(r *forward.Relay, req *sip.Request, tx sip.ServerTransaction, onAnswer func(),
	onSuccess func(branch int, toTag string)) *SIPUpstream {
	return &SIPUpstream{relay: r, req: req, tx: tx, onAnswer: onAnswer, onSuccess: onSuccess}
}

func (u *SIPUpstream) answered() {
	if u.onAnswer != nil {
		u.onAnswer()
		u.onAnswer = nil
	}
}

// Provisional implements Upstream.
func (u *SIPUpstream) Provisional(msg any) {
	u.answered()
	res := msg.(*sip.Response)
	res.RemoveHeader("Via")
	res = u.up(res)
	if err := u.tx.Respond(res); err != nil {
		u.relay.Log.Debug("provisional relay refused", "call_id", sipmsg.CallID(u.req), "error", err)
	}
}

// Success implements Upstream: the first 2xx answers the transaction, the
// others (and one the cancelled transaction refuses, P6) go statelessly.
func (u *SIPUpstream) Success(branch int, msg any) {
	u.answered()
	res := msg.(*sip.Response)
	res.RemoveHeader("Via")
	first := !u.final && u.toTag == ""
	if first {
		u.toTag = sipmsg.ToHeaderTag(res.To())
		if u.onSuccess != nil {
			u.onSuccess(branch, u.toTag)
		}
	}
	res = u.up(res)
	if !u.final {
		if err := u.tx.Respond(res); err == nil {
			u.final = true
			u.report(res.StatusCode)
			return
		}
	}
	u.relay.WriteUpstream(res, u.req)
}

// Retransmission relays a 2xx retransmission statelessly (P11).
func (u *SIPUpstream) Retransmission(res *sip.Response) {
	res.RemoveHeader("Via")
	u.relay.WriteUpstream(u.up(res), u.req)
}

// Final implements Upstream: the chosen response with every challenge
// collected, or one the proxy builds.
func (u *SIPUpstream) Final(f Final) {
	u.answered()
	u.final = true
	res, ok := f.Msg.(*sip.Response)
	if !ok || res == nil {
		u.relay.Reply(u.tx, u.req, f.Code, reason(f.Code))
		return
	}
	res.RemoveHeader("Via")
	for _, c := range f.Challenges {
		if c == f.Msg {
			continue
		}
		other := c.(*sip.Response)
		for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
			for _, h := range other.GetHeaders(name) {
				res.AppendHeader(sip.HeaderClone(h))
			}
		}
	}
	res = u.up(res)
	if err := u.tx.Respond(res); err != nil {
		u.relay.Log.Debug("final relay refused", "code", res.StatusCode, "call_id", sipmsg.CallID(u.req), "error", err)
		return
	}
	u.report(res.StatusCode)
}

func (u *SIPUpstream) report(code int) {
	if u.relay.Final != nil {
		u.relay.Final(code)
	}
}

// reason is the phrase of a final response the proxy builds itself.
func reason(code int) string {
	switch code {
	case 408:
		return "Request Timeout"
	case 480:
		return "Temporarily Unavailable"
	case 487:
		return "Request Terminated"
	case 500:
		return "Server Internal Error"
	}
	return "Service Unavailable"
}
