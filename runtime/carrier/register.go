package carrier

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/digest"
)

// Sender sends a request of the proxy's own (REGISTER, OPTIONS) to a
// carrier from the carrier's exit and returns the final response; the
// runtime implements it with its SIP stack.
type Sender interface {
	Send(ctx context.Context, c *graph.Carrier, req *sip.Request) (*sip.Response, error)
	// Local is the address the carrier sees the proxy at (the exit, or
	// the advertised address).
	Local(c *graph.Carrier) (host string, port int)
}

// Registration is the state of the proxy's registration with a carrier
// (auth.register), for the admin API.
type Registration struct {
	// State is "registering", "registered" or "failed".
	State string `json:"state"`
	// Expires is when the carrier's registration ends unless refreshed.
	Expires time.Time `json:"expires,omitzero"`
	// Error says why the last attempt failed.
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

// Registration timing: a registration is refreshed at 80% of what the
// carrier granted (at least a second ahead), and retried after a failure
// (2 s, doubling up to 30 s).
const (
	refreshShare  = 0.8
	firstRetry    = 2 * time.Second
	retryRegister = 30 * time.Second
)

// Registrant keeps the proxy registered with every carrier whose auth
// block says register = true, as OpenSIPS uac_registrant does: REGISTER
// (answering the carrier's challenge), then again before the granted
// expiry; failures are retried after 2 s, doubling up to every 30 s. The
// state is in Status.
type Registrant struct {
	store *Store
	send  Sender
	graph func() *graph.Graph
	log   *slog.Logger

	mu      sync.Mutex
	workers map[graph.ID]bool
	wg      sync.WaitGroup
}

// NewRegistrant returns a registrant for the carriers of the graphs
// current returns.
func NewRegistrant(s *Store, send Sender, current func() *graph.Graph, log *slog.Logger) *Registrant {
	if log == nil {
		log = slog.Default()
	}
	return &Registrant{store: s, send: send, graph: current, log: log, workers: make(map[graph.ID]bool)}
}

// Run registers until ctx ends, picking up carriers a reload adds.
func (r *Registrant) Run(ctx context.Context) {
	defer r.wg.Wait()
	var seen *graph.Graph
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		if g := r.graph(); g != nil && g != seen {
			seen = g
			r.start(ctx, g)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Registrant) start(ctx context.Context, g *graph.Graph) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range g.Carriers {
		if c.Auth != nil && c.Auth.Register && !r.workers[c.ID] {
			r.workers[c.ID] = true
			r.wg.Add(1)
			go r.work(ctx, c.ID)
		}
	}
}

// current returns the carrier id as the running graph declares it, nil
// when it no longer registers (the worker ends).
func (r *Registrant) current(id graph.ID) *graph.Carrier {
	c, _ := r.graph().Node(id).(*graph.Carrier)
	if c == nil || c.Auth == nil || !c.Auth.Register {
		r.mu.Lock()
		delete(r.workers, id)
		r.mu.Unlock()
		return nil
	}
	return c
}

func (r *Registrant) work(ctx context.Context, id graph.ID) {
	defer r.wg.Done()
	callID := sip.CallIDHeader(sip.GenerateTagN(24))
	tag := sip.GenerateTagN(16)
	var cseq uint32
	retry := firstRetry
	for {
		c := r.current(id)
		if c == nil {
			return
		}
		r.store.setRegistration(id, Registration{State: "registering", At: time.Now()})
		granted, err := r.register(ctx, c, callID, tag, &cseq)
		wait := retry
		if err != nil {
			r.store.setRegistration(id, Registration{State: "failed", Error: err.Error(), At: time.Now()})
			r.log.Warn("carrier registration failed", "carrier", id, "error", err, "retry_in", retry)
			retry = min(2*retry, retryRegister)
		} else {
			retry = firstRetry
			now := time.Now()
			r.store.setRegistration(id, Registration{State: "registered", Expires: now.Add(granted), At: now})
			wait = max(time.Duration(float64(granted)*refreshShare), granted-time.Minute, time.Second)
			wait = min(wait, granted-time.Second)
		}
		t := time.NewTimer(max(wait, 500*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// register sends one REGISTER, answers a challenge once, and returns the
// expiry the carrier granted.
func (r *Registrant) register(ctx context.Context, c *graph.Carrier, callID sip.CallIDHeader, tag string, cseq *uint32) (time.Duration, error) {
	req := r.newRegister(c, callID, tag, cseq)
	res, err := r.send.Send(ctx, c, req)
	if err != nil {
		return 0, fmt.Errorf("REGISTER: %w", err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		ch, err := digest.ParseChallenge(headerValue(res, digest.ChallengeHeader(res.StatusCode)))
		if err != nil {
			return 0, fmt.Errorf("REGISTER challenge: %w", err)
		}
		req = r.newRegister(c, callID, tag, cseq)
		value, err := digest.Authorization(ch, digest.Answer{Username: c.Auth.Username, Password: c.Auth.Password,
			Method: "REGISTER", URI: req.Recipient.String(), CNonce: digest.NewCNonce(), NC: 1})
		if err != nil {
			return 0, fmt.Errorf("REGISTER challenge: %w", err)
		}
		req.AppendHeader(sip.NewHeader(digest.AuthorizationHeader(res.StatusCode), value))
		if res, err = r.send.Send(ctx, c, req); err != nil {
			return 0, fmt.Errorf("REGISTER: %w", err)
		}
	}
	if !res.IsSuccess() {
		return 0, fmt.Errorf("REGISTER answered %d %s", res.StatusCode, res.Reason)
	}
	return granted(res, c.Auth.RegisterExpires), nil
}

func (r *Registrant) newRegister(c *graph.Carrier, callID sip.CallIDHeader, tag string, cseq *uint32) *sip.Request {
	*cseq++
	host, port := r.send.Local(c)
	aor := sip.Uri{Scheme: "sip", User: c.Auth.Username, Host: c.Host}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: c.Host, Port: c.Port})
	from := &sip.FromHeader{Address: aor}
	from.Params.Add("tag", tag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: *cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: c.Auth.Username, Host: host, Port: port}})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(c.Auth.RegisterExpires.Seconds()))))
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.SetBody(nil)
	return req
}

// granted reads the expiry a 2xx to a REGISTER grants: the Contact's
// expires parameter, else the Expires header, else what was asked.
func granted(res *sip.Response, asked time.Duration) time.Duration {
	if ct := res.Contact(); ct != nil {
		if v, ok := ct.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if n, err := strconv.Atoi(headerValue(res, "Expires")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return asked
}

func headerValue(res *sip.Response, name string) string {
	if h := res.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// setRegistration records a carrier's registration state.
func (s *Store) setRegistration(id graph.ID, reg Registration) {
	if cs := s.state(id); cs != nil {
		cs.mu.Lock()
		cs.reg = &reg
		cs.mu.Unlock()
	}
}
