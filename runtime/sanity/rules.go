// Package sanity checks a raw SIP message before sipgo parses it: the
// grammar rules that protect the proxy (RFC 3261 §7, §18.3, §20, §25),
// size limits, and the answer to send when a message fails one of them.
// It works on the bytes the transport read: it never allocates on the path
// of a well-formed message and never panics on any input.
//
// The runtime calls Check on every datagram (and, through Stream, on every
// message framed from a connection); a Verdict says whether to pass the
// message on, answer it (AppendReply builds the answer from the message's
// own Via, From, To, Call-ID and CSeq) or drop it silently.
package sanity

import "github.com/sipfront/sipfront/compiler/graph"

// Action is what to do with a message.
type Action uint8

const (
	// Pass hands the message (its first Verdict.Len octets) to the parser.
	Pass Action = iota
	// Answer sends Verdict.Status with Verdict.Reason and does not pass
	// the message on.
	Answer
	// Drop discards the message without an answer: a response, an ACK,
	// or a request whose answer could not be addressed.
	Drop
)

func (a Action) String() string {
	switch a {
	case Pass:
		return "pass"
	case Answer:
		return "answer"
	}
	return "drop"
}

// Rule names one check; the runtime counts verdicts per rule.
type Rule uint8

// The rules, in the order docs/security.md lists them.
const (
	RuleNone Rule = iota
	RuleGarbage
	RuleMessageSize
	RuleBodySize
	RuleStartLine
	RuleVersion
	RuleRURILength
	RuleRURIScheme
	RuleRURIHeaders
	RuleControl
	RuleUTF8
	RuleHeaderSyntax
	RuleHeaderCount
	RuleHeaderLine
	RuleViaCount
	RuleVia
	RuleMissing
	RuleDuplicate
	RuleCSeq
	RuleCSeqMethod
	RuleMaxForwards
	RuleContentLength
	RuleLengthMismatch
	RuleExpires
	RuleQuoted
	RuleDisplayName
	RuleAddrSpec
	RuleEndOfHeaders
	RuleStatusLine
	numRules
)

// RuleInfo documents one rule: its metric name and the RFC section that
// requires it.
type RuleInfo struct {
	Name string
	RFC  string
}

var ruleInfo = [numRules]RuleInfo{
	RuleNone:           {"none", ""},
	RuleGarbage:        {"garbage", "RFC 3261 §7.1 (not a SIP start line; STUN, scans)"},
	RuleMessageSize:    {"message_size", "RFC 3261 §21.5.14 (513 Message Too Large)"},
	RuleBodySize:       {"body_size", "RFC 3261 §21.4.11 (413 Request Entity Too Large)"},
	RuleStartLine:      {"start_line", "RFC 3261 §7.1, §25.1 (single SP between elements)"},
	RuleVersion:        {"version", "RFC 3261 §8.2.2.1 is silent; §21.5.7 (505)"},
	RuleRURILength:     {"ruri_length", "RFC 3261 §21.4.12 (414 Request-URI Too Long)"},
	RuleRURIScheme:     {"ruri_scheme", "RFC 3261 §16.3 step 2, §21.4.13 (416)"},
	RuleRURIHeaders:    {"ruri_headers", "RFC 3261 §19.1.5 (no headers in a Request-URI)"},
	RuleControl:        {"control", "RFC 3261 §25.1 (no CTL outside the body; HT only as LWS)"},
	RuleUTF8:           {"utf8", "RFC 3261 §25.1 (UTF8-NONASCII; RFC 3629)"},
	RuleHeaderSyntax:   {"header_syntax", "RFC 3261 §7.3.1 (field-name: token, then ':')"},
	RuleHeaderCount:    {"header_count", "limit (policy limits.max_headers)"},
	RuleHeaderLine:     {"header_line", "limit (policy limits.max_header_line)"},
	RuleViaCount:       {"via_count", "limit (policy limits.max_via)"},
	RuleVia:            {"via", "RFC 3261 §20.42, §25.1 (via-parm: sent-protocol LWS sent-by)"},
	RuleMissing:        {"missing", "RFC 3261 §8.1.1 (To, From, CSeq, Call-ID, Via mandatory)"},
	RuleDuplicate:      {"duplicate", "RFC 3261 §7.3.1 (single-valued fields appear once)"},
	RuleCSeq:           {"cseq", "RFC 3261 §8.1.1.5, §20.16 (32-bit unsigned, < 2^31)"},
	RuleCSeqMethod:     {"cseq_method", "RFC 3261 §8.1.1.5 (CSeq method = request method)"},
	RuleMaxForwards:    {"max_forwards", "RFC 3261 §20.22 (integer 0-255)"},
	RuleContentLength:  {"content_length", "RFC 3261 §20.14 (1*DIGIT)"},
	RuleLengthMismatch: {"length_mismatch", "RFC 3261 §18.3 (Content-Length larger than the body)"},
	RuleExpires:        {"expires", "RFC 3261 §20.19 (delta-seconds, 0 to 2^32-1)"},
	RuleQuoted:         {"quoted_string", "RFC 3261 §25.1 (quoted-string terminated, quoted-pair)"},
	RuleDisplayName:    {"display_name", "RFC 3261 §20.10, §25.1 (display-name = *(token LWS) / quoted-string)"},
	RuleAddrSpec:       {"addr_spec", "RFC 3261 §20 (URI with ',', '?' or ';' enclosed in <>)"},
	RuleEndOfHeaders:   {"end_of_headers", "RFC 3261 §7 (empty line after the header fields)"},
	RuleStatusLine:     {"status_line", "RFC 3261 §7.2, §21 (Status-Code is 3DIGIT, 100-699)"},
}

// Info returns the documentation of r.
func (r Rule) Info() RuleInfo {
	if r >= numRules {
		return RuleInfo{Name: "unknown"}
	}
	return ruleInfo[r]
}

// String returns the rule's metric name.
func (r Rule) String() string { return r.Info().Name }

// Rules lists every rule except RuleNone, for docs and metrics.
func Rules() []Rule {
	rs := make([]Rule, 0, numRules-1)
	for r := RuleNone + 1; r < numRules; r++ {
		rs = append(rs, r)
	}
	return rs
}

// Limits bounds what a message may hold. A zero field takes its default
// (DefaultLimits).
type Limits struct {
	// MaxMessage bounds the whole message in octets (513 above it).
	MaxMessage int
	// MaxBody bounds the body in octets (413 above it).
	MaxBody int
	// MaxHeaders bounds the number of header fields.
	MaxHeaders int
	// MaxHeaderLine bounds one header field, folded lines included.
	MaxHeaderLine int
	// MaxRequestURI bounds the Request-URI in octets (414 above it).
	MaxRequestURI int
	// MaxVia bounds the number of Via values.
	MaxVia int
}

// Defaults of Limits: the policy's (docs/security.md explains each).
const (
	DefaultMaxMessage    = graph.DefaultMaxMessage
	DefaultMaxBody       = graph.DefaultMaxBody
	DefaultMaxHeaders    = graph.DefaultMaxHeaders
	DefaultMaxHeaderLine = graph.DefaultMaxHeaderLine
	DefaultMaxRequestURI = graph.DefaultMaxRequestURI
	DefaultMaxVia        = graph.DefaultMaxVia
)

// DefaultLimits returns the limits a policy that sets none gets.
func DefaultLimits() Limits {
	return Limits{MaxMessage: DefaultMaxMessage, MaxBody: DefaultMaxBody, MaxHeaders: DefaultMaxHeaders,
		MaxHeaderLine: DefaultMaxHeaderLine, MaxRequestURI: DefaultMaxRequestURI, MaxVia: DefaultMaxVia}
}

// withDefaults fills the zero fields of l.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	for _, f := range [...]struct{ v, def *int }{
		{&l.MaxMessage, &d.MaxMessage}, {&l.MaxBody, &d.MaxBody}, {&l.MaxHeaders, &d.MaxHeaders},
		{&l.MaxHeaderLine, &d.MaxHeaderLine}, {&l.MaxRequestURI, &d.MaxRequestURI}, {&l.MaxVia, &d.MaxVia},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return l
}

// Verdict is the outcome of Check.
type Verdict struct {
	Action Action
	// Rule is the rule that failed (RuleNone on Pass).
	Rule Rule
	// Status and Reason are the answer when Action is Answer (and what it
	// would have been for a Drop).
	Status int
	Reason string
	// Len is how many octets of the input form the message: a datagram's
	// octets past its Content-Length are ignored (RFC 3261 §18.3).
	Len int
}
