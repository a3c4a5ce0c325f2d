package runtime

import (
	"context"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/intake"

	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// handle is the single entry point for every request sipgo passes up. It
// runs on sipgo's per-message goroutine and owns the server transaction
// until it returns (P19). It validates (intake), then dispatches: ACK,
// unmatched CANCEL, in-dialog, an OPTIONS ping to the proxy, or an
// initial request for the graph to decide.
func (s *Server) handle(req *sip.Request, tx sip.ServerTransaction) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	defer s.recoverPanic(req, tx)
	if code, reason := s.validator.Validate(req); code != 0 {
		s.obs.Request(string(req.Method), DecidedIntake)
		if !req.IsAck() { // an ACK is never answered
			s.relay.Reply(tx, req, code, reason)
		}
		return
	}
	g := s.graph.Load() // the request runs to its end on this graph
	switch {
	case s.spoofedVia(req):
		// Our Via on a request from a source we never send to: a forged
		// or reflected request, not a spiral (docs/security.md).
		s.obs.Request(string(req.Method), DecidedIntake)
		if !req.IsAck() {
			s.relay.Reply(tx, req, 482, "Loop Detected")
		}
	case req.IsAck():
		s.obs.Request(string(req.Method), DecidedInDialog)
		s.forwardAck(g, req)
	case req.IsCancel():
		// A CANCEL that matched an INVITE transaction never gets here
		// (sipgo answers it and fires OnCancel); this one matches nothing.
		s.obs.Request(string(req.Method), DecidedIntake)
		s.relay.Reply(tx, req, 481, "Call/Transaction Does Not Exist")
	case sipmsg.ToTag(req) != "":
		s.obs.Request(string(req.Method), DecidedInDialog)
		s.inDialog(g, req, tx)
	case req.Method == sip.OPTIONS && s.forUs(req):
		s.ownOptions(g, req, tx)
	default:
		s.initial(g, req, tx)
	}
}

// ownOptions answers an OPTIONS addressed to the proxy itself, after the
// filters: a scanner's probe that a filter drops gets no answer, so the
// scanner does not learn that the host is alive.
func (s *Server) ownOptions(g *graph.Graph, req *sip.Request, tx sip.ServerTransaction) {
	v := intake.NewView(req)
	d := g.Filter(&v.R, s.state)
	s.obs.Request(string(req.Method), decidedBy(&d))
	if d.Logged != nil || d.Filter != nil {
		s.logFilters(g, req, v, &d)
	}
	switch d.Action {
	case graph.ActionDrop:
	case graph.ActionReply:
		s.relay.Reply(tx, req, d.Status, d.Reason)
	default:
		s.relay.Reply(tx, req, 200, "OK")
	}
}

// spoofedVia reports whether req carries one of this proxy's Via headers
// although it comes from a source the proxy never sends requests to (not
// a pool member, carrier or trusted group): a spiral comes back from a
// downstream peer, so anything else is forged. A loop (the same request
// back unchanged) is Validate's 482.
func (s *Server) spoofedVia(req *sip.Request) bool {
	if !s.carriesOwnVia(req) {
		return false
	}
	src, err := netip.ParseAddrPort(req.Source())
	return err != nil || !s.edge.IsPeer(src.Addr())
}

// carriesOwnVia reports whether one of req's Via headers is this proxy's:
// the request has been through it already (a spiral, or a forgery).
func (s *Server) carriesOwnVia(req *sip.Request) bool {
	for _, h := range req.Headers() {
		if v, ok := h.(*sip.ViaHeader); ok && s.self.IsOwnVia(v) {
			return true
		}
	}
	return false
}

// recoverPanic keeps one bad request from killing the process (P10).
func (s *Server) recoverPanic(req *sip.Request, tx sip.ServerTransaction) {
	r := recover()
	if r == nil {
		return
	}
	s.log.Error("panic while handling a request", "panic", r, "method", string(req.Method),
		"call_id", sipmsg.CallID(req), "stack", string(debug.Stack()))
	func() {
		defer func() { _ = recover() }()
		if !req.IsAck() {
			s.relay.Reply(tx, req, 500, "Server Internal Error")
		}
	}()
}

// forUs reports whether an out-of-dialog request is addressed to the proxy
// itself rather than to a user (an OPTIONS ping).
func (s *Server) forUs(req *sip.Request) bool {
	if req.Recipient.User != "" {
		return false
	}
	if r, ok := sipmsg.Header(req, "Route").(*sip.RouteHeader); ok && !s.self.IsOwn(&r.Address) {
		return false
	}
	return s.self.IsOwn(&req.Recipient) || s.graph.Load().IsLocal(req.Recipient.Host)
}

// sipgoLogHandler sits between sipgo and the proxy's logger: it counts and
// silences the per-datagram parse errors (one ERROR with the payload per
// garbage packet otherwise) and passes warnings and errors on.
type sipgoLogHandler struct {
	next    slog.Handler
	dropped *atomic.Uint64
}

func (h *sipgoLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.next.Enabled(ctx, l)
}

func (h *sipgoLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "failed to parse" {
		h.dropped.Add(1)
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *sipgoLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &sipgoLogHandler{next: h.next.WithAttrs(as), dropped: h.dropped}
}

func (h *sipgoLogHandler) WithGroup(name string) slog.Handler {
	return &sipgoLogHandler{next: h.next.WithGroup(name), dropped: h.dropped}
}
