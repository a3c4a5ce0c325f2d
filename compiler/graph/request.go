package graph

import (
	"net/netip"
	"strings"
)

// Request is the view of a SIP request that conditions and decisions read.
// The runtime fills one per request from the parsed message (reusing its
// buffers); `sipfront test`, `explain` and `plan` fill one from a test block.
type Request struct {
	Method    string
	RURI      URI
	From      URI
	To        URI
	Source    Source
	UserAgent string
	CallID    string
	// InDialog is true when the To header carries a tag.
	InDialog bool
	// Headers gives access to any header; nil means no headers beyond the
	// fields above.
	Headers HeaderReader
	// AuthUser is the digest user this request proved it is, filled by the
	// runtime after a successful digest check or by a test's `auth_user`.
	AuthUser string

	// ctx is the CEL activation of this request, kept here so that a
	// decision does not allocate one.
	ctx evalContext
	// lcr holds a decision's carrier candidates, so that least-cost
	// routing does not allocate them.
	lcr [lcrInline]Candidate
	// lcrTouch keeps the LCR table's early reads (LCRTable.touch).
	lcrTouch uint64
}

// HeaderReader reads header values by case-insensitive name.
type HeaderReader interface {
	// Header returns the first value of the named header.
	Header(name string) (string, bool)
}

// URI is a parsed SIP URI as CEL sees it (ruri, from, to).
type URI struct {
	Scheme string
	User   string
	Host   string
	Port   int
	Params Params
}

// Params are URI parameters in order. A slice, not a map, so that the runtime
// can fill it without building a map per request.
type Params []Param

// Param is one URI parameter; Value is empty for a flag such as ";lr".
type Param struct {
	Name  string
	Value string
}

// Get returns the value of the first parameter with that name (parameter
// names compare case-insensitively, RFC 3261 §19.1.4).
func (p Params) Get(name string) (string, bool) {
	for _, kv := range p {
		if strings.EqualFold(kv.Name, name) {
			return kv.Value, true
		}
	}
	return "", false
}

// Source is where a request came from.
type Source struct {
	IP        netip.Addr
	Port      int
	Transport string
}

// ParseSource parses "ip:port" with an optional "transport:" prefix
// ("tcp:198.51.100.7:5060"); the transport defaults to udp.
func ParseSource(s string) (Source, error) {
	transport := "udp"
	if i := strings.Index(s, ":"); i > 0 {
		switch strings.ToLower(s[:i]) {
		case "udp", "tcp", "tls", "ws", "wss":
			transport, s = strings.ToLower(s[:i]), s[i+1:]
		}
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		addr, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return Source{}, err
		}
		return Source{IP: addr, Port: 5060, Transport: transport}, nil
	}
	return Source{IP: ap.Addr().Unmap(), Port: int(ap.Port()), Transport: transport}, nil
}

// HeaderList is a HeaderReader over a fixed list of "Name: value" pairs,
// used by tests and explain.
type HeaderList []Param

// Header implements HeaderReader.
func (h HeaderList) Header(name string) (string, bool) { return Params(h).Get(name) }
