package runtime

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

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
		s.obs.Request(string(req.Method), DecidedIntake)
		s.relay.Reply(tx, req, 200, "OK")
	default:
		s.initial(g, req, tx)
	}
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
