// Package intake is the first step of every request sipgo parsed: RFC
// 3261 §16.3 validation and the graph's read-only view of a request (the
// raw checks before parsing, the Content-Length framing included, are
// runtime/sanity's, run by runtime/edge). Everything here is a function of
// the message (and of the proxy's loop check); nothing sends.
package intake

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Validator applies RFC 3261 §16.3 to requests. It is built once and
// shared; it holds no per-request state.
type Validator struct {
	// IsLoop reports whether a request already passed through this proxy
	// unchanged (§16.3 step 4); nil means no loop detection.
	IsLoop func(*sip.Request) bool
}

// Validate applies RFC 3261 §16.3; it returns 0 when the request may go on,
// or the status and reason to answer. A request without Max-Forwards
// passes (§16.3 step 3); the forwarded copy gets one (§16.6 step 3).
func (v *Validator) Validate(req *sip.Request) (int, string) {
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
	case !SameMethod(req.CSeq().MethodName, req.Method):
		return 400, "CSeq method does not match the request method"
	case len(req.Recipient.Headers) > 0:
		// RFC 3261 §19.1.5: headers of a SIP URI are for building a
		// request, never allowed in a Request-URI.
		return 400, "Request-URI must not carry headers"
	case !KnownScheme(req.Recipient.Scheme):
		return 416, "Unsupported URI Scheme"
	}
	hs := ScanHeaders(req)
	switch {
	case hs.Repeated != "":
		return 400, "Multiple " + hs.Repeated + " headers"
	case hs.MaxForwards != nil && hs.MaxForwards.Val() == 0:
		return 483, "Too Many Hops"
	case hs.ProxyRequire != nil:
		// RFC 3261 §16.3 step 5: this proxy supports no extension that
		// a Proxy-Require could name. NewResponse adds Unsupported.
		return 420, "Bad Extension"
	case v.IsLoop != nil && v.IsLoop(req):
		return 482, "Loop Detected"
	}
	return 0, ""
}

// SameMethod compares the CSeq method with the request method. sipgo
// upper-cases the method of the request line, not the CSeq's, so the case
// is ignored: methods are case-sensitive (RFC 3261 §7.1), but the request
// line's original case is lost before the proxy sees it.
func SameMethod(cseq, line sip.RequestMethod) bool {
	return cseq == line || strings.EqualFold(string(cseq), string(line))
}

// KnownScheme reports whether the proxy can route a Request-URI with this
// scheme (RFC 3261 §16.3 step 2: otherwise 416). sipgo lower-cases it.
func KnownScheme(scheme string) bool {
	switch scheme {
	case "sip", "sips", "tel":
		return true
	}
	return false
}

// HeaderScan is what Validate learns from one pass over the headers.
type HeaderScan struct {
	// Repeated names the first single-value header that appears twice.
	Repeated     string
	MaxForwards  *sip.MaxForwardsHeader
	ProxyRequire sip.Header
}

// ScanHeaders walks the headers once, allocating nothing.
func ScanHeaders(req *sip.Request) HeaderScan {
	var hs HeaderScan
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
			if hs.MaxForwards != nil && hs.Repeated == "" {
				hs.Repeated = "Max-Forwards"
			}
			hs.MaxForwards = h
		case *sip.ViaHeader, *sip.RouteHeader, *sip.RecordRouteHeader, *sip.ContactHeader:
		default:
			if strings.EqualFold(h.Name(), "Proxy-Require") {
				hs.ProxyRequire = h
			}
		}
	}
	if hs.Repeated == "" {
		switch {
		case from > 1:
			hs.Repeated = "From"
		case to > 1:
			hs.Repeated = "To"
		case cid > 1:
			hs.Repeated = "Call-ID"
		case cseq > 1:
			hs.Repeated = "CSeq"
		case cl > 1:
			hs.Repeated = "Content-Length"
		}
	}
	return hs
}

// Unsupported lists the option tags of every Proxy-Require header of req,
// for the Unsupported header of a 420 (RFC 3261 §8.2.2.3).
func Unsupported(req *sip.Request) string {
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

// NewResponse builds the answer to a request that failed validation (or
// any local answer): a 505 carries our version, a 420 the Unsupported
// header (RFC 3261 §8.2.2.3).
func NewResponse(req *sip.Request, code int, reason string) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	switch code {
	case 505:
		res.SipVersion = "SIP/2.0" // sipgo copies the request's version
	case 420:
		res.AppendHeader(sip.NewHeader("Unsupported", Unsupported(req)))
	}
	return res
}
