package lang

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Carrier is a carrier block: a PSTN trunk for least-cost routing.
type Carrier struct {
	Block
	URI      Value[string]
	Prefixes List[string]
	Priority Value[int]
	Weight   Value[int]
	// Limits, Quality and Auth are nil when their block is absent.
	Limits  *Limits
	Quality *Quality
	Auth    *CarrierAuth
}

// Limits is a carrier's limits block.
type Limits struct {
	Block
	Calls Value[int]
	CPS   Value[int]
}

// Quality is a carrier's quality block.
type Quality struct {
	Block
	MinASR Value[float64]
	Window Value[time.Duration]
}

// CarrierAuth is a carrier's auth block.
type CarrierAuth struct {
	Block
	Username Value[string]
	Password Value[string]
}

var carrierSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "uri", Required: true}, {Name: "prefixes"}, {Name: "priority"}, {Name: "weight"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "limits"}, {Type: "quality"}, {Type: "auth"}},
}

var limitsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "calls"}, {Name: "cps"}}}

var qualitySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "min_asr", Required: true}, {Name: "window"}},
}

var carrierAuthSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "username", Required: true}, {Name: "password", Required: true}},
}

func decodeCarrier(b *hcl.Block) (*Carrier, hcl.Diagnostics) {
	content, diags := b.Body.Content(carrierSchema)
	c := &Carrier{Block: blockOf(b)}
	a := content.Attributes
	attr(a, "uri", decodeString, &c.URI, &diags)
	attr(a, "prefixes", decodeStringList, &c.Prefixes, &diags)
	attr(a, "priority", decodeInt, &c.Priority, &diags)
	attr(a, "weight", decodeInt, &c.Weight, &diags)
	if lb, d := nestedOne(content, "limits"); lb != nil {
		diags = append(diags, d...)
		c.Limits, d = decodeLimits(lb)
		diags = append(diags, d...)
	}
	if qb, d := nestedOne(content, "quality"); qb != nil {
		diags = append(diags, d...)
		c.Quality, d = decodeQuality(qb)
		diags = append(diags, d...)
	}
	if ab, d := nestedOne(content, "auth"); ab != nil {
		diags = append(diags, d...)
		c.Auth, d = decodeCarrierAuth(ab)
		diags = append(diags, d...)
	}
	return c, diags
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
	attr(content.Attributes, "min_asr", decodeFloat, &q.MinASR, &diags)
	attr(content.Attributes, "window", decodeDuration, &q.Window, &diags)
	return q, diags
}

func decodeCarrierAuth(b *hcl.Block) (*CarrierAuth, hcl.Diagnostics) {
	content, diags := b.Body.Content(carrierAuthSchema)
	a := &CarrierAuth{Block: blockOf(b)}
	attr(content.Attributes, "username", decodeString, &a.Username, &diags)
	attr(content.Attributes, "password", decodeString, &a.Password, &diags)
	return a, diags
}
