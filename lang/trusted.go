package lang

import "github.com/hashicorp/hcl/v2"

// Trusted is a trusted block: an IP-auth group of CIDRs or addresses.
type Trusted struct {
	Block
	Sources List[string]
}

var trustedSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "sources", Required: true}},
}

func decodeTrusted(b *hcl.Block) (*Trusted, hcl.Diagnostics) {
	content, diags := b.Body.Content(trustedSchema)
	t := &Trusted{Block: blockOf(b)}
	attr(content.Attributes, "sources", decodeStringList, &t.Sources, &diags)
	return t, diags
}
