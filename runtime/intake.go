package runtime

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
)

// handle is the single entry point for every request sipgo passes up. It
// runs on sipgo's per-message goroutine and owns the server transaction
// until it returns (P19).
func (s *Server) handle(req *sip.Request, tx sip.ServerTransaction) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	defer s.recoverPanic(req, tx)
	if code, reason := s.validate(req); code != 0 {
		s.obs.Request(string(req.Method), "")
		if !req.IsAck() { // an ACK is never answered
			s.reply(tx, req, code, reason)
		}
		return
	}
	g := s.graph.Load() // the request runs to its end on this graph
	switch {
	case req.IsAck():
		s.obs.Request(string(req.Method), "")
		s.forwardAck(g, req)
	case req.IsCancel():
		// A CANCEL that matched an INVITE transaction never gets here
		// (sipgo answers it and fires OnCancel); this one matches nothing.
		s.obs.Request(string(req.Method), "")
		s.reply(tx, req, 481, "Call/Transaction Does Not Exist")
	case toTag(req) != "":
		s.obs.Request(string(req.Method), "")
		s.inDialog(g, req, tx)
	case req.Method == sip.OPTIONS && s.forUs(req):
		s.obs.Request(string(req.Method), "")
		s.reply(tx, req, 200, "OK")
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
		"call_id", callID(req), "stack", string(debug.Stack()))
	func() {
		defer func() { _ = recover() }()
		if !req.IsAck() {
			s.reply(tx, req, 500, "Server Internal Error")
		}
	}()
}

// forUs reports whether an out-of-dialog request is addressed to the proxy
// itself rather than to a user (an OPTIONS ping).
func (s *Server) forUs(req *sip.Request) bool {
	if req.Recipient.User != "" {
		return false
	}
	if r, ok := header(req, "Route").(*sip.RouteHeader); ok && !s.self.isOwn(&r.Address) {
		return false
	}
	return s.self.isOwn(&req.Recipient) || s.graph.Load().IsLocal(req.Recipient.Host)
}

// badContentLength marks a datagram whose Content-Length did not match its
// body; contentLengthFilter adds it so that validate can answer 400.
const badContentLength = "X-Sipfront-Bad-Content-Length"

// validate applies RFC 3261 §16.3; it returns 0 when the request may go on,
// or the status and reason to answer.
func (s *Server) validate(req *sip.Request) (int, string) {
	switch {
	case req.Via() == nil:
		return 400, "Missing Via header"
	case req.From() == nil:
		return 400, "Missing From header"
	case req.To() == nil:
		return 400, "Missing To header"
	case req.CallID() == nil:
		return 400, "Missing Call-ID header"
	case req.CSeq() == nil:
		return 400, "Missing CSeq header"
	case req.MaxForwards() == nil:
		return 400, "Missing Max-Forwards header"
	case req.CSeq().MethodName != req.Method:
		return 400, "CSeq method does not match the request method"
	case header(req, badContentLength) != nil:
		return 400, "Content-Length does not match the body"
	case req.MaxForwards().Val() == 0:
		return 483, "Too Many Hops"
	case s.self.isLoop(req):
		return 482, "Loop Detected"
	}
	return 0, ""
}

// reply answers req on its server transaction and reports the final code.
func (s *Server) reply(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("reply failed", "code", code, "call_id", callID(req), "error", err)
		return
	}
	if code >= 200 {
		s.obs.Response(code)
	}
}

// contentLengthFilter runs on every UDP datagram before parsing. A
// Content-Length that disagrees with the body would make sipgo drop the
// message silently (or truncate the body); instead the length is corrected
// and the datagram is marked, so that validate answers 400. Streams are
// left alone: there Content-Length is the framing.
func contentLengthFilter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if info.Transport != "UDP" {
		return data, nil
	}
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return data, nil
	}
	start, stop, ok := findContentLength(data[:end+2])
	if !ok {
		return data, nil
	}
	body := len(data) - end - 4
	if n, err := strconv.Atoi(string(bytes.TrimSpace(data[start:stop]))); err == nil && n == body {
		return data, nil
	}
	out := make([]byte, 0, len(data)+64)
	out = append(out, data[:start]...)
	out = append(out, ' ')
	out = strconv.AppendInt(out, int64(body), 10)
	out = append(out, "\r\n"+badContentLength+": 1"...)
	out = append(out, data[stop:]...)
	return out, nil
}

// findContentLength locates the value of the Content-Length (or "l")
// header in a header block; start and stop delimit the value.
func findContentLength(head []byte) (start, stop int, ok bool) {
	for i := 0; i < len(head); {
		eol := bytes.Index(head[i:], []byte("\r\n"))
		if eol < 0 {
			return 0, 0, false
		}
		line := head[i : i+eol]
		if c := line[0:min(1, len(line))]; len(c) == 1 && (c[0]|0x20 == 'c' || c[0]|0x20 == 'l') {
			if colon := bytes.IndexByte(line, ':'); colon > 0 {
				name := bytes.TrimSpace(line[:colon])
				if bytes.EqualFold(name, []byte("Content-Length")) || bytes.EqualFold(name, []byte("l")) {
					return i + colon + 1, i + eol, true
				}
			}
		}
		i += eol + 2
	}
	return 0, 0, false
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

// header returns the first header of req named name (case-insensitive), or
// nil. Unlike sip's GetHeader, which lowercases the name of every header it
// compares (one allocation per header outside its short list), it never
// allocates.
func header(req *sip.Request, name string) sip.Header {
	for _, h := range req.Headers() {
		if strings.EqualFold(h.Name(), name) {
			return h
		}
	}
	return nil
}

// reqView is the graph's view of one request; it is filled from the parsed
// message without copying strings.
type reqView struct {
	r   graph.Request
	hdr sipHeaders
}

// sipHeaders adapts a sip.Request to graph.HeaderReader.
type sipHeaders struct{ req *sip.Request }

// Header implements graph.HeaderReader.
func (h *sipHeaders) Header(name string) (string, bool) {
	v := header(h.req, name)
	if v == nil {
		return "", false
	}
	return v.Value(), true
}

func newReqView(req *sip.Request) *reqView {
	v := &reqView{hdr: sipHeaders{req}}
	r := &v.r
	r.Method = string(req.Method)
	r.RURI = graphURI(&req.Recipient)
	if f := req.From(); f != nil {
		r.From = graphURI(&f.Address)
	}
	if t := req.To(); t != nil {
		r.To = graphURI(&t.Address)
		r.InDialog = t.Params.Has("tag")
	}
	if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
		r.Source = graph.Source{IP: ap.Addr().Unmap(), Port: int(ap.Port()), Transport: lowerTransport(req.Transport())}
	}
	if ua := header(req, "User-Agent"); ua != nil {
		r.UserAgent = ua.Value()
	}
	r.CallID = callID(req)
	r.Headers = &v.hdr
	return v
}

func graphURI(u *sip.Uri) graph.URI {
	g := graph.URI{Scheme: u.Scheme, User: u.User, Host: u.Host, Port: u.Port}
	if len(u.UriParams) > 0 {
		g.Params = make(graph.Params, len(u.UriParams))
		for i, kv := range u.UriParams {
			g.Params[i] = graph.Param{Name: kv.K, Value: kv.V}
		}
	}
	return g
}

// lowerTransport maps sipgo's transport names to the policy's, without
// allocating.
func lowerTransport(t string) string {
	switch t {
	case "UDP", "udp":
		return "udp"
	case "TCP", "tcp":
		return "tcp"
	case "TLS", "tls":
		return "tls"
	case "WS", "ws":
		return "ws"
	case "WSS", "wss":
		return "wss"
	}
	return strings.ToLower(t)
}

func upperTransport(t string) string {
	switch t {
	case "udp", "UDP", "":
		return "UDP"
	case "tcp", "TCP":
		return "TCP"
	case "tls", "TLS":
		return "TLS"
	}
	return t
}
