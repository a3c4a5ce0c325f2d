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
		s.obs.Request(string(req.Method), DecidedIntake)
		if !req.IsAck() { // an ACK is never answered
			s.reply(tx, req, code, reason)
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
		s.reply(tx, req, 481, "Call/Transaction Does Not Exist")
	case toTag(req) != "":
		s.obs.Request(string(req.Method), DecidedInDialog)
		s.inDialog(g, req, tx)
	case req.Method == sip.OPTIONS && s.forUs(req):
		s.obs.Request(string(req.Method), DecidedIntake)
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
// or the status and reason to answer. A request without Max-Forwards
// passes (§16.3 step 3); relayCopy gives the forwarded copy one (§16.6
// step 3).
func (s *Server) validate(req *sip.Request) (int, string) {
	switch {
	case req.SipVersion != "SIP/2.0":
		return 505, "Version Not Supported"
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
	case !sameMethod(req.CSeq().MethodName, req.Method):
		return 400, "CSeq method does not match the request method"
	case len(req.Recipient.Headers) > 0:
		// RFC 3261 §19.1.5: headers of a SIP URI are for building a
		// request, never allowed in a Request-URI.
		return 400, "Request-URI must not carry headers"
	case !knownScheme(req.Recipient.Scheme):
		return 416, "Unsupported URI Scheme"
	}
	hs := scanHeaders(req)
	switch {
	case hs.badContentLength:
		return 400, "Content-Length does not match the body"
	case hs.repeated != "":
		return 400, "Multiple " + hs.repeated + " headers"
	case hs.maxForwards != nil && hs.maxForwards.Val() == 0:
		return 483, "Too Many Hops"
	case hs.proxyRequire != nil:
		// RFC 3261 §16.3 step 5: this proxy supports no extension that
		// a Proxy-Require could name. reply adds Unsupported.
		return 420, "Bad Extension"
	case s.self.isLoop(req):
		return 482, "Loop Detected"
	}
	return 0, ""
}

// sameMethod compares the CSeq method with the request method. sipgo
// upper-cases the method of the request line, not the CSeq's, so the case
// is ignored: methods are case-sensitive (RFC 3261 §7.1), but the request
// line's original case is lost before the proxy sees it.
func sameMethod(cseq, line sip.RequestMethod) bool {
	return cseq == line || strings.EqualFold(string(cseq), string(line))
}

// knownScheme reports whether the proxy can route a Request-URI with this
// scheme (RFC 3261 §16.3 step 2: otherwise 416). sipgo lower-cases it.
func knownScheme(scheme string) bool {
	switch scheme {
	case "sip", "sips", "tel":
		return true
	}
	return false
}

// headerScan is what validate learns from one pass over the headers.
type headerScan struct {
	// repeated names the first single-value header that appears twice.
	repeated         string
	maxForwards      *sip.MaxForwardsHeader
	proxyRequire     sip.Header
	badContentLength bool
}

// scanHeaders walks the headers once, allocating nothing.
func scanHeaders(req *sip.Request) headerScan {
	var hs headerScan
	var from, to, cid, cseq, cl int
	for _, h := range req.Headers() {
		switch h := h.(type) {
		case *sip.FromHeader:
			from++
		case *sip.ToHeader:
			to++
		case *sip.CallIDHeader:
			cid++
		case *sip.CSeqHeader:
			cseq++
		case *sip.ContentLengthHeader:
			cl++
		case *sip.MaxForwardsHeader:
			if hs.maxForwards != nil && hs.repeated == "" {
				hs.repeated = "Max-Forwards"
			}
			hs.maxForwards = h
		case *sip.ViaHeader, *sip.RouteHeader, *sip.RecordRouteHeader, *sip.ContactHeader:
		default:
			switch name := h.Name(); {
			case strings.EqualFold(name, "Proxy-Require"):
				hs.proxyRequire = h
			case strings.EqualFold(name, badContentLength):
				hs.badContentLength = true
			}
		}
	}
	if hs.repeated == "" {
		switch {
		case from > 1:
			hs.repeated = "From"
		case to > 1:
			hs.repeated = "To"
		case cid > 1:
			hs.repeated = "Call-ID"
		case cseq > 1:
			hs.repeated = "CSeq"
		case cl > 1:
			hs.repeated = "Content-Length"
		}
	}
	return hs
}

// unsupported lists the option tags of every Proxy-Require header of req,
// for the Unsupported header of a 420 (RFC 3261 §8.2.2.3).
func unsupported(req *sip.Request) string {
	var tags []string
	for _, h := range req.Headers() {
		if !strings.EqualFold(h.Name(), "Proxy-Require") {
			continue
		}
		for _, t := range strings.Split(h.Value(), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return strings.Join(tags, ", ")
}

// reply answers req on its server transaction and reports the final code.
func (s *Server) reply(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	switch code {
	case 505:
		res.SipVersion = "SIP/2.0" // sipgo copies the request's version
	case 420:
		res.AppendHeader(sip.NewHeader("Unsupported", unsupported(req)))
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("reply failed", "code", code, "call_id", callID(req), "error", err)
		return
	}
	if code >= 200 {
		s.obs.Response(code)
	}
}

// contentLengthFilter runs on every UDP datagram before parsing. Octets
// after the body that Content-Length announces are cut off (RFC 3261
// §18.3: a datagram's extra octets are ignored). A Content-Length larger
// than the body, negative or not a number would make sipgo drop the
// message silently; instead the length is corrected and the datagram is
// marked, so that validate answers 400. Streams are left alone: there
// Content-Length is the framing.
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
	n, err := strconv.Atoi(string(bytes.TrimSpace(data[start:stop])))
	switch {
	case err == nil && n == body:
		return data, nil
	case err == nil && n >= 0 && n < body:
		return data[:end+4+n], nil
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
