package sanity

import (
	"bytes"
	"unicode/utf8"
)

// Transport tells Check how the message was framed.
type Transport uint8

const (
	// Datagram is a UDP datagram: octets past Content-Length are ignored
	// and Content-Length may be absent (RFC 3261 §18.3).
	Datagram Transport = iota
	// Streamed is one message cut from a stream by Framer: Content-Length
	// is mandatory and frames the body exactly.
	Streamed
)

// Checker applies one set of Limits. It is immutable and safe for
// concurrent use; the runtime builds a new one when the policy changes.
type Checker struct{ lim Limits }

// NewChecker returns a Checker for l (zero fields take their defaults).
func NewChecker(l Limits) *Checker { return &Checker{lim: l.withDefaults()} }

// Limits returns the limits in force, defaults filled in.
func (c *Checker) Limits() Limits { return c.lim }

// header kinds Check knows; everything else is kindOther.
type kind uint8

const (
	kindOther kind = iota
	kindVia
	kindFrom
	kindTo
	kindCallID
	kindCSeq
	kindMaxForwards
	kindContentLength
	kindContentType
	kindExpires
	kindContact
	numKinds
)

var kindNames = [numKinds]string{"", "Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards",
	"Content-Length", "Content-Type", "Expires", "Contact"}

// single marks the kinds that may appear once (RFC 3261 §7.3.1, §20).
var single = [numKinds]bool{kindFrom: true, kindTo: true, kindCallID: true, kindCSeq: true,
	kindMaxForwards: true, kindContentLength: true, kindContentType: true, kindExpires: true}

// Reason phrases are constants so that a failing check allocates nothing.
var (
	dupReason = [numKinds]string{kindFrom: "Multiple From headers", kindTo: "Multiple To headers",
		kindCallID: "Multiple Call-ID headers", kindCSeq: "Multiple CSeq headers",
		kindMaxForwards: "Multiple Max-Forwards headers", kindContentLength: "Multiple Content-Length headers",
		kindContentType: "Multiple Content-Type headers", kindExpires: "Multiple Expires headers"}
	missingReason = [numKinds]string{kindFrom: "Missing From header", kindTo: "Missing To header",
		kindCallID: "Missing Call-ID header", kindCSeq: "Missing CSeq header"}
)

// scan is the state of one Check.
type scan struct {
	msg      []byte
	t        Transport
	lim      *Limits
	method   []byte
	response bool
	count    [numKinds]int
	headers  int
	vias     int
	cl       int
}

// fail is a failed check: the rule, the status and the reason.
type fail struct {
	rule   Rule
	status int
	reason string
}

func bad(r Rule, reason string) *fail { return &fail{rule: r, status: 400, reason: reason} }

// Preallocated failures: returning one allocates nothing.
var (
	failStartLine    = bad(RuleStartLine, "Malformed Request-Line")
	failVersion      = &fail{RuleVersion, 505, "Version Not Supported"}
	failRURILength   = &fail{RuleRURILength, 414, "Request-URI Too Long"}
	failRURIBytes    = bad(RuleControl, "Invalid character in Request-URI")
	failRURISyntax   = bad(RuleStartLine, "Malformed Request-URI")
	failScheme       = &fail{RuleRURIScheme, 416, "Unsupported URI Scheme"}
	failRURIHeaders  = bad(RuleRURIHeaders, "Request-URI must not carry headers")
	failControl      = bad(RuleControl, "Control character in header field")
	failUTF8         = bad(RuleUTF8, "Invalid UTF-8 in header field")
	failHeaderSyntax = bad(RuleHeaderSyntax, "Malformed header field")
	failHeaderCount  = bad(RuleHeaderCount, "Too many header fields")
	failHeaderLine   = bad(RuleHeaderLine, "Header field too long")
	failViaCount     = bad(RuleViaCount, "Too many Via header field values")
	failVia          = bad(RuleVia, "Malformed Via header field")
	failMissingVia   = bad(RuleMissing, "Missing Via header")
	failCSeq         = bad(RuleCSeq, "Bad CSeq number")
	failCSeqMethod   = bad(RuleCSeqMethod, "CSeq method does not match the request method")
	failMaxForwards  = bad(RuleMaxForwards, "Bad Max-Forwards")
	failCL           = bad(RuleContentLength, "Bad Content-Length")
	failCLMissing    = bad(RuleContentLength, "Missing Content-Length on a stream")
	failCLMismatch   = bad(RuleLengthMismatch, "Content-Length does not match the body")
	failExpires      = bad(RuleExpires, "Bad Expires")
	failCallID       = bad(RuleHeaderSyntax, "Bad Call-ID")
	failQuoted       = bad(RuleQuoted, "Unterminated quoted string")
	failDisplayName  = bad(RuleDisplayName, "Invalid display name")
	failAddrSpec     = bad(RuleAddrSpec, "Malformed name-addr or addr-spec")
	failEndOfHeaders = bad(RuleEndOfHeaders, "Missing empty line after the header fields")
	failMessageSize  = &fail{RuleMessageSize, 513, "Message Too Large"}
	failBodySize     = &fail{RuleBodySize, 413, "Request Entity Too Large"}
	failStatusLine   = bad(RuleStatusLine, "Malformed Status-Line")
	failDuplicate    [numKinds]*fail
	failMissing      [numKinds]*fail
)

func init() {
	for k := range numKinds {
		if dupReason[k] != "" {
			failDuplicate[k] = bad(RuleDuplicate, dupReason[k])
		}
		if missingReason[k] != "" {
			failMissing[k] = bad(RuleMissing, missingReason[k])
		}
	}
}

// Check decides what to do with one message: msg is a whole datagram, or
// one message Framer cut from a stream.
func (c *Checker) Check(msg []byte, t Transport) Verdict {
	if isKeepalive(msg) {
		return Verdict{Action: Pass, Len: len(msg)}
	}
	if !isToken(msg[0]) {
		// Not a SIP start line: STUN, TLS on the plain port, line noise.
		return Verdict{Action: Drop, Rule: RuleGarbage, Len: len(msg)}
	}
	s := scan{msg: msg, t: t, lim: &c.lim}
	n, f := s.run()
	if f == nil {
		return Verdict{Action: Pass, Len: n}
	}
	v := Verdict{Action: Answer, Rule: f.rule, Status: f.status, Reason: f.reason, Len: len(msg)}
	if s.response || bytes.Equal(s.method, []byte("ACK")) || f.rule == RuleVia || !Answerable(msg) {
		// A response or an ACK is never answered (RFC 3261 §17.1.1.3,
		// §17.2.1); an answer needs a readable Via to go to.
		v.Action = Drop
	}
	return v
}

// isKeepalive reports whether msg is a CRLF keepalive (RFC 5626 §3.5.1).
func isKeepalive(msg []byte) bool {
	for _, b := range msg {
		if b != '\r' && b != '\n' {
			return false
		}
	}
	return true
}

// run checks the message and returns its length or the first failure.
func (s *scan) run() (int, *fail) {
	if len(s.msg) > s.lim.MaxMessage {
		return 0, failMessageSize
	}
	line, i, ok := nextLine(s.msg, 0)
	if !ok {
		return 0, failEndOfHeaders
	}
	if f := s.startLine(line); f != nil {
		return 0, f
	}
	body := -1
	for start := i; ; {
		line, next, ok := nextLine(s.msg, i)
		if !ok {
			return 0, failEndOfHeaders
		}
		// A field ends where the next line does not start with LWS
		// (RFC 3261 §7.3.1: folded lines continue the field).
		folds := len(line) > 0 && (line[0] == ' ' || line[0] == '\t')
		if folds && i == start {
			return 0, failHeaderSyntax // a continuation with no field
		}
		if !folds && i > start {
			if f := s.header(s.msg[start:lineEnd(s.msg, i)]); f != nil {
				return 0, f
			}
			start = i
		}
		if len(line) == 0 {
			body = next
			break
		}
		i = next
	}
	return s.finish(body)
}

// lineEnd returns the end of the content of the line before index i (the
// CRLF or LF that ends it excluded).
func lineEnd(msg []byte, i int) int {
	e := i - 1 // the LF
	if e > 0 && msg[e-1] == '\r' {
		e--
	}
	return e
}

// nextLine returns the line starting at i without its line end, and the
// index after the line end; ok is false when no LF ends the line.
func nextLine(msg []byte, i int) (line []byte, next int, ok bool) {
	j := bytes.IndexByte(msg[i:], '\n')
	if j < 0 {
		return msg[i:], len(msg), false
	}
	line = msg[i : i+j]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, i + j + 1, true
}

// finish applies the checks that need every header: presence, the body
// and Content-Length.
func (s *scan) finish(body int) (int, *fail) {
	if s.count[kindVia] == 0 {
		return 0, failMissingVia
	}
	for _, k := range [...]kind{kindFrom, kindTo, kindCallID, kindCSeq} {
		if s.count[k] == 0 {
			return 0, failMissing[k]
		}
	}
	n := len(s.msg)
	bodyLen := n - body
	switch {
	case s.count[kindContentLength] == 0 && s.t == Streamed:
		return 0, failCLMissing
	case s.count[kindContentLength] == 0:
	case s.cl > bodyLen:
		return 0, failCLMismatch
	default:
		bodyLen = s.cl
		n = body + s.cl
	}
	if bodyLen > s.lim.MaxBody {
		return 0, failBodySize
	}
	return n, nil
}

// startLine checks a Request-Line (RFC 3261 §7.1) or a Status-Line (§7.2).
func (s *scan) startLine(line []byte) *fail {
	if f := checkBytes(line); f != nil {
		return f
	}
	if len(line) >= 4 && bytes.EqualFold(line[:4], []byte("SIP/")) {
		s.response = true
		return statusLine(line)
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || !allToken(line[:sp]) {
		return failStartLine
	}
	s.method = line[:sp]
	rest := line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return failStartLine
	}
	uri, version := rest[:sp], rest[sp+1:]
	switch {
	case len(uri) == 0 || bytes.IndexByte(version, ' ') >= 0 || len(version) == 0:
		return failStartLine // extra SP: RFC 4475 lwsstart, lwsruri, trws
	case len(uri) > s.lim.MaxRequestURI:
		return failRURILength
	case !bytes.EqualFold(version, []byte("SIP/2.0")):
		if len(version) > 4 && bytes.EqualFold(version[:4], []byte("SIP/")) {
			return failVersion
		}
		return failStartLine
	}
	return requestURI(uri)
}

// requestURI checks the Request-URI's octets and scheme.
func requestURI(uri []byte) *fail {
	for _, b := range uri {
		if b <= ' ' || b >= 0x7f {
			return failRURIBytes // NUL, CTL and raw non-ASCII must be escaped
		}
	}
	colon := bytes.IndexByte(uri, ':')
	if colon <= 0 || !isAlpha(uri[0]) {
		return failRURISyntax // e.g. <sip:...> (RFC 4475 ltgtruri)
	}
	scheme := uri[:colon]
	for _, b := range scheme {
		if !isAlpha(b) && !isDigit(b) && b != '+' && b != '-' && b != '.' {
			return failRURISyntax
		}
	}
	switch {
	case bytes.EqualFold(scheme, []byte("sip")), bytes.EqualFold(scheme, []byte("sips")):
		// The user part may hold '?' (user-unreserved); headers follow
		// the host.
		if bytes.IndexByte(uri[bytes.LastIndexByte(uri, '@')+1:], '?') >= 0 {
			return failRURIHeaders
		}
		if colon+1 == len(uri) {
			return failRURISyntax
		}
	case bytes.EqualFold(scheme, []byte("tel")):
	default:
		return failScheme
	}
	return nil
}

// statusLine checks "SIP/2.0 3DIGIT SP Reason-Phrase".
func statusLine(line []byte) *fail {
	if len(line) < 11 || !bytes.EqualFold(line[:8], []byte("SIP/2.0 ")) {
		return failStatusLine
	}
	c := line[8:11]
	if !isDigit(c[0]) || !isDigit(c[1]) || !isDigit(c[2]) || c[0] < '1' || c[0] > '6' {
		return failStatusLine
	}
	if len(line) > 11 && line[11] != ' ' {
		return failStatusLine // a fourth digit: RFC 4475 bigcode
	}
	return nil
}

// checkBytes rejects control characters and invalid UTF-8. HT is LWS, a
// CRLF (or LF) is allowed only where it folds a line, and a quoted-pair
// inside a quoted string may escape any octet but CR and LF (RFC 3261
// §25.1; RFC 4475 intmeth escapes BEL, NUL and DEL).
func checkBytes(b []byte) *fail {
	quoted := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			quoted = !quoted
		case c == '\\' && quoted && i+1 < len(b) && b[i+1] != '\r' && b[i+1] != '\n' && b[i+1] < 0x80:
			i++
		case c >= ' ' && c < 0x7f, c == '\t':
		case c == '\r':
			if i+2 >= len(b) || b[i+1] != '\n' || (b[i+2] != ' ' && b[i+2] != '\t') {
				return failControl
			}
		case c == '\n':
			if i+1 >= len(b) || (b[i+1] != ' ' && b[i+1] != '\t') {
				return failControl
			}
		case c >= 0x80:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				return failUTF8
			}
			i += n - 1
		default:
			return failControl
		}
	}
	return nil
}
