package runtime

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/fork"
	"github.com/sipfront/sipfront/runtime/forward"
	"github.com/sipfront/sipfront/runtime/intake"
	"github.com/sipfront/sipfront/runtime/registrar"
	"github.com/sipfront/sipfront/runtime/sipmsg"
	"github.com/sipfront/sipfront/runtime/target"
)

// RegistrationObserver is told the result of every REGISTER the registrar
// answers; an Observer that also implements it (runtime/metrics) gets the
// calls.
type RegistrationObserver interface {
	Registration(result string)
}

// withoutRegistrar returns a copy of sv that does not serve the registrar
// nor routes to it: a Server without a registrar refuses such policies by
// name instead of answering 500 to every REGISTER.
func (sv Served) withoutRegistrar() Served {
	out := Served{Kinds: map[graph.Kind]bool{}, Targets: map[graph.TargetKind]bool{}, Transports: sv.Transports}
	for k, v := range sv.Kinds {
		out.Kinds[k] = v && k != graph.KindRegistrar
	}
	for k, v := range sv.Targets {
		out.Targets[k] = v && k != graph.TargetRegistrar
	}
	return out
}

// attachRegistrar gives the registrar the limits and domains of g.
func (s *Server) attachRegistrar(g *graph.Graph) {
	if s.cfg.Registrar == nil || g.Registrar == nil {
		return
	}
	s.cfg.Registrar.SetPolicy(registrar.Policy{
		Limits: registrar.Limits{MinExpires: g.Registrar.MinExpires, MaxExpires: g.Registrar.MaxExpires,
			MaxContacts: g.Registrar.MaxContacts},
		IsLocal: g.IsLocal,
	})
}

// register answers a REGISTER the graph handed to the registrar (RFC 3261
// §10.3).
// (An authenticated REGISTER binding another user's address of record is
// refused before, by the auth stage's check_from.)
func (s *Server) register(req *sip.Request, tx sip.ServerTransaction) {
	if s.cfg.Registrar == nil {
		s.relay.Reply(tx, req, 500, "Not served by this version of sipfront: register")
		return
	}
	in, err := registrar.FromSIP(req)
	var res registrar.Result
	switch {
	case err != nil:
		res = registrar.Result{Status: 400, Reason: err.Error()}
	default:
		res = s.cfg.Registrar.Register(&in)
	}
	if ro, ok := s.obs.(RegistrationObserver); ok {
		ro.Registration(res.Outcome())
	}
	if res.Status != 200 {
		s.log.Debug("REGISTER refused", "user", in.User, "domain", in.Domain, "source", in.Source,
			"code", res.Status, "reason", res.Reason)
	}
	s.relay.Respond(tx, req, registrar.Response(req, res, time.Now()))
}

// contactsOf returns the iterator over the live contacts of the R-URI user.
func (s *Server) contactsOf(v *intake.View) *target.Contacts {
	if s.cfg.Registrar == nil {
		return target.NewContacts(nil)
	}
	return target.NewContacts(s.cfg.Registrar.Contacts(v.R.RURI.User, nil))
}

// toContacts relays a non-INVITE request for a registered user to its
// best contact (highest q, most recent), without forking.
func (s *Server) toContacts(req *sip.Request, tx sip.ServerTransaction, v *intake.View, d *graph.Decision) {
	t, ok := s.contactsOf(v).Next()
	if !ok {
		s.relay.Reply(tx, req, 480, "Temporarily Unavailable")
		return
	}
	fwd := s.contactCopy(req, t, recordRoutes(req.Method), outbound(v, d))
	s.obs.Relay(t.ID)
	s.forward(req, tx, fwd)
}

// contactCopy is the request for contact t: the contact as Request-URI,
// sent where the REGISTER came from; prep, when not nil, prepares it like
// any other copy (credentials consumed, see outbound).
func (s *Server) contactCopy(req *sip.Request, t target.Target, rr bool, prep func(*sip.Request)) *sip.Request {
	return s.contactCopyWith(req, t, rr, prep, nil)
}

// contactCopyWith is contactCopy changed by o (topology hiding).
func (s *Server) contactCopyWith(req *sip.Request, t target.Target, rr bool, prep func(*sip.Request), o *forward.CopyOptions) *sip.Request {
	fwd := s.relay.CopyWith(req, t.Addr, t.Transport, rr, forward.LoopHash(req), o)
	if prep != nil {
		prep(fwd)
	}
	var u sip.Uri
	if err := sip.ParseUri(t.URI, &u); err == nil {
		fwd.Recipient = u
	}
	return fwd
}

// forkInvite rings the contacts of the R-URI user as d's route says
// (RFC 3261 §16.7): in parallel, or by q group for fork_timeout each. It
// owns the INVITE's admission slot (release gives it back on the first
// answer). The dialog is tracked under the registrar and moves to the
// contact that answers.
func (s *Server) forkInvite(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction, v *intake.View, d *graph.Decision, release func()) {
	defer release()
	it := s.contactsOf(v)
	if it.Len() == 0 {
		s.relay.Reply(tx, req, 480, "Temporarily Unavailable")
		return
	}
	cancelled, ok := forward.CancelSignal(tx)
	if !ok {
		return
	}
	ring := ringTimeout(g)
	cid, fromTag := v.R.CallID, sipmsg.Tag(req.From())
	var targets []target.Target
	up := fork.NewSIPUpstream(s.relay, req, tx, release, func(branch int, toTag string) {
		s.dialogs.Moved(cid, fromTag, targets[branch])
		s.dialogs.Established(cid, fromTag, toTag)
	})
	targets = make([]target.Target, 0, it.Len())
	qs := make([]int, 0, it.Len())
	for i := 0; ; i++ {
		t, ok := it.Next()
		if !ok {
			break
		}
		targets = append(targets, t)
		qs = append(qs, it.Binding(i).Rank())
	}
	// The caller's side is recorded before any branch goes out: the
	// dialog table needs it for validation, hiding and its own BYEs.
	s.dialogs.Start(targets[0], cid, fromTag, v.R.From.User, v.R.To.User)
	hide := g.Proxy.TopologyHiding
	legs := s.dialogs.Record(cid, fromTag, req, hide)
	up.SetRewrite(s.answered(req, cid, fromTag, legs, hide))
	branches := make([]fork.Branch, 0, len(targets))
	prep := outbound(v, d)
	for _, t := range targets {
		fwd := s.contactCopyWith(req, t, true, prep, s.hiding(legs, t.Transport))
		branches = append(branches, fork.NewSIPBranch(s.relay, fwd, ring, up.Retransmission))
		s.obs.Relay(t.ID)
	}
	plan := fork.Parallel(branches)
	plan.Timeout = d.Route.ForkTimeout
	if d.Route.Fork == graph.ForkSerial {
		plan = fork.Serial(branches, qs, d.Route.ForkTimeout)
	}
	ctx, stop := cancelContext(cancelled)
	defer stop()
	if out := fork.Run(ctx, plan, up); out.Answered < 0 {
		s.dialogs.End(cid, fromTag)
	}
}

// cancelContext returns a context that ends when c fires (the caller's
// CANCEL), and the function that releases its goroutine.
func cancelContext(c <-chan struct{}) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-c:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// releaseOnce returns a function that gives the INVITE's admission slot
// back the first time it is called; it is used by the handler's goroutine
// only.
func (s *Server) releaseOnce() func() {
	held := true
	return func() {
		if held {
			held = false
			s.release()
		}
	}
}
