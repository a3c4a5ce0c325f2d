package lang

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Carrier is a carrier block: a PSTN trunk for least-cost routing.
type Carrier struct {
	Block
	URI Value[string]
	// Prefixes are written inline; PrefixesFile names a CSV of
	// prefix,priority rows (read into PrefixRows) for tables too large
	// to write inline.
	Prefixes     List[string]
	PrefixesFile Value[string]
	PrefixRows   []CarrierPrefix
	Priority     Value[int]
	Weight       Value[int]
	Strip        Value[int]
	Prepend      Value[string]
	// Exit overrides the proxy's exit socket for this carrier.
	Exit Value[string]
	// Sources lists the addresses the carrier sends from (inbound calls).
	Sources List[string]
	// Failover, Probe, Limits, Quality and Auth are nil when their block
	// is absent.
	Failover *Failover
	Probe    *Probe
	Limits   *Limits
	Quality  *Quality
	Auth     *CarrierAuth
}

// Limits is a carrier's limits block.
type Limits struct {
	Block
	Calls Value[int]
	CPS   Value[int]
}

// Quality is a carrier's quality block (qrouting's warn and critical
// thresholds).
type Quality struct {
	Block
	MinASR     Value[float64]
	WarnASR    Value[float64]
	MinSamples Value[int]
	MaxPDD     Value[time.Duration]
	Window     Value[time.Duration]
}

// CarrierAuth is a carrier's auth block: the credentials sipfront answers
// the carrier's challenges with, and its outbound registration.
type CarrierAuth struct {
	Block
	Username        Value[string]
	Password        Value[string]
	Register        Value[bool]
	RegisterExpires Value[time.Duration]
}

var carrierSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "uri", Required: true}, {Name: "prefixes"}, {Name: "prefixes_file"}, {Name: "priority"},
		{Name: "weight"}, {Name: "strip"}, {Name: "prepend"}, {Name: "exit"}, {Name: "sources"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "failover"}, {Type: "probe"}, {Type: "limits"}, {Type: "quality"}, {Type: "auth"},
	},
}

var limitsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "calls"}, {Name: "cps"}}}

var qualitySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "min_asr", Required: true}, {Name: "warn_asr"}, {Name: "min_samples"}, {Name: "max_pdd"}, {Name: "window"},
	},
}

var carrierAuthSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "username", Required: true}, {Name: "password", Required: true},
		{Name: "register"}, {Name: "register_expires"},
	},
}

func (l *loader) decodeCarrier(b *hcl.Block) (*Carrier, hcl.Diagnostics) {
	content, diags := b.Body.Content(carrierSchema)
	c := &Carrier{Block: blockOf(b)}
	a := content.Attributes
	attr(a, "uri", decodeString, &c.URI, &diags)
	attr(a, "prefixes", decodeStringList, &c.Prefixes, &diags)
	attr(a, "prefixes_file", decodeString, &c.PrefixesFile, &diags)
	attr(a, "priority", decodeInt, &c.Priority, &diags)
	attr(a, "weight", decodeInt, &c.Weight, &diags)
	attr(a, "strip", decodeInt, &c.Strip, &diags)
	attr(a, "prepend", decodeString, &c.Prepend, &diags)
	attr(a, "exit", decodeString, &c.Exit, &diags)
	attr(a, "sources", decodeStringList, &c.Sources, &diags)
	if c.PrefixesFile.Set {
		var d hcl.Diagnostics
		c.PrefixRows, d = l.readCarrierPrefixes(c.PrefixesFile)
		diags = append(diags, d...)
	}
	nested(content, "failover", decodeFailover, &c.Failover, &diags)
	nested(content, "probe", decodeProbe, &c.Probe, &diags)
	nested(content, "limits", decodeLimits, &c.Limits, &diags)
	nested(content, "quality", decodeQuality, &c.Quality, &diags)
	nested(content, "auth", decodeCarrierAuth, &c.Auth, &diags)
	return c, diags
}

// nested decodes the block of type typ that may appear once in content
// into dst (left nil when the block is absent).
func nested[T any](content *hcl.BodyContent, typ string, dec func(*hcl.Block) (*T, hcl.Diagnostics), dst **T, diags *hcl.Diagnostics) {
	b, d := nestedOne(content, typ)
	if b == nil {
		return
	}
	*diags = append(*diags, d...)
	v, d := dec(b)
	*diags = append(*diags, d...)
	*dst = v
}

func decodeLimits(b *hcl.Block) (*Limits, hcl.Diagnostics) {
	content, diags := b.Body.Content(limitsSchema)
	l := &Limits{Block: blockOf(b)}
	attr(content.Attributes, "calls", decodeInt, &l.Calls, &diags)
	attr(content.Attributes, "cps", decodeInt, &l.CPS, &diags)
	return l, diags
}

func decodeQuality(b *hcl.Block) (*Quality, hcl.Diagnostics) {
	content, diags := b.Body.Content(qualitySchema)
	q := &Quality{Block: blockOf(b)}
	a := content.Attributes
	attr(a, "min_asr", decodeFloat, &q.MinASR, &diags)
	attr(a, "warn_asr", decodeFloat, &q.WarnASR, &diags)
	attr(a, "min_samples", decodeInt, &q.MinSamples, &diags)
	attr(a, "max_pdd", decodeDuration, &q.MaxPDD, &diags)
	attr(a, "window", decodeDuration, &q.Window, &diags)
	return q, diags
}

func decodeCarrierAuth(b *hcl.Block) (*CarrierAuth, hcl.Diagnostics) {
	content, diags := b.Body.Content(carrierAuthSchema)
	a := &CarrierAuth{Block: blockOf(b)}
	at := content.Attributes
	attr(at, "username", decodeString, &a.Username, &diags)
	attr(at, "password", decodeString, &a.Password, &diags)
	attr(at, "register", decodeBool, &a.Register, &diags)
	attr(at, "register_expires", decodeDuration, &a.RegisterExpires, &diags)
	return a, diags
}
