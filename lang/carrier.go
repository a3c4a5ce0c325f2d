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
		lc, d := lb.Body.Content(limitsSchema)
		diags = append(diags, d...)
		c.Limits = &Limits{Block: blockOf(lb)}
		attr(lc.Attributes, "calls", decodeInt, &c.Limits.Calls, &diags)
		attr(lc.Attributes, "cps", decodeInt, &c.Limits.CPS, &diags)
	}
	if qb, d := nestedOne(content, "quality"); qb != nil {
		diags = append(diags, d...)
		qc, d := qb.Body.Content(qualitySchema)
		diags = append(diags, d...)
		c.Quality = &Quality{Block: blockOf(qb)}
		attr(qc.Attributes, "min_asr", decodeFloat, &c.Quality.MinASR, &diags)
		attr(qc.Attributes, "window", decodeDuration, &c.Quality.Window, &diags)
	}
	if ab, d := nestedOne(content, "auth"); ab != nil {
		diags = append(diags, d...)
		ac, d := ab.Body.Content(carrierAuthSchema)
		diags = append(diags, d...)
		c.Auth = &CarrierAuth{Block: blockOf(ab)}
		attr(ac.Attributes, "username", decodeString, &c.Auth.Username, &diags)
		attr(ac.Attributes, "password", decodeString, &c.Auth.Password, &diags)
	}
	return c, diags
}
