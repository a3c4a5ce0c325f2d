package lang

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Flood is the flood block: per-source-IP rate limiting.
type Flood struct {
	Block
	Window      Value[time.Duration]
	MaxRequests Value[int]
	BlockFor    Value[time.Duration]
	Action      Value[string]
	Exempt      []Ref
	ExemptRange hcl.Range
	MaxSources  Value[int]
}

var floodSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "window"}, {Name: "max_requests"}, {Name: "block"}, {Name: "action"},
		{Name: "exempt"}, {Name: "max_sources"},
	},
}

func (l *loader) decodeFlood(b *hcl.Block) hcl.Diagnostics {
	var prev *hcl.Range
	if l.cfg.Flood != nil {
		prev = &l.cfg.Flood.DeclRange
	}
	if d := singleton(b, prev); d != nil {
		return d
	}
	content, diags := b.Body.Content(floodSchema)
	f := &Flood{Block: blockOf(b)}
	a := content.Attributes
	attr(a, "window", decodeDuration, &f.Window, &diags)
	attr(a, "max_requests", decodeInt, &f.MaxRequests, &diags)
	attr(a, "block", decodeDuration, &f.BlockFor, &diags)
	attr(a, "action", decodeString, &f.Action, &diags)
	attr(a, "max_sources", decodeInt, &f.MaxSources, &diags)
	if ex, ok := a["exempt"]; ok {
		f.ExemptRange = ex.Expr.Range()
		refs, d := decodeRefList(ex)
		f.Exempt = refs
		diags = append(diags, d...)
	}
	l.cfg.Flood = f
	return diags
}

// EdgeLimits is the limits block: message and connection bounds.
type EdgeLimits struct {
	Block
	MaxMessageUDP     Value[int]
	MaxMessageTCP     Value[int]
	MaxBody           Value[int]
	MaxHeaders        Value[int]
	MaxHeaderLine     Value[int]
	MaxRequestURI     Value[int]
	MaxVia            Value[int]
	TCPMaxConnections Value[int]
	TCPMaxPerSource   Value[int]
	TCPIdleTimeout    Value[time.Duration]
	TCPMessageTimeout Value[time.Duration]
}

var edgeLimitsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "max_message_udp"}, {Name: "max_message_tcp"}, {Name: "max_body"}, {Name: "max_headers"},
		{Name: "max_header_line"}, {Name: "max_request_uri"}, {Name: "max_via"},
		{Name: "tcp_max_connections"}, {Name: "tcp_max_per_source"},
		{Name: "tcp_idle_timeout"}, {Name: "tcp_message_timeout"},
	},
}

func (l *loader) decodeLimits(b *hcl.Block) hcl.Diagnostics {
	var prev *hcl.Range
	if l.cfg.Limits != nil {
		prev = &l.cfg.Limits.DeclRange
	}
	if d := singleton(b, prev); d != nil {
		return d
	}
	content, diags := b.Body.Content(edgeLimitsSchema)
	lm := &EdgeLimits{Block: blockOf(b)}
	a := content.Attributes
	for _, f := range []struct {
		name string
		dst  *Value[int]
	}{
		{"max_message_udp", &lm.MaxMessageUDP}, {"max_message_tcp", &lm.MaxMessageTCP}, {"max_body", &lm.MaxBody},
		{"max_headers", &lm.MaxHeaders}, {"max_header_line", &lm.MaxHeaderLine}, {"max_request_uri", &lm.MaxRequestURI},
		{"max_via", &lm.MaxVia}, {"tcp_max_connections", &lm.TCPMaxConnections}, {"tcp_max_per_source", &lm.TCPMaxPerSource},
	} {
		attr(a, f.name, decodeInt, f.dst, &diags)
	}
	attr(a, "tcp_idle_timeout", decodeDuration, &lm.TCPIdleTimeout, &diags)
	attr(a, "tcp_message_timeout", decodeDuration, &lm.TCPMessageTimeout, &diags)
	l.cfg.Limits = lm
	return diags
}
