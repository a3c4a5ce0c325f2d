package lang

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Registrar is the registrar block.
type Registrar struct {
	Block
	MaxContacts Value[int]
	MaxExpires  Value[time.Duration]
	MinExpires  Value[time.Duration]
}

var registrarSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "max_contacts"}, {Name: "max_expires"}, {Name: "min_expires"}},
}

func (l *loader) decodeRegistrar(b *hcl.Block) hcl.Diagnostics {
	var prev *hcl.Range
	if l.cfg.Registrar != nil {
		prev = &l.cfg.Registrar.DeclRange
	}
	if d := singleton(b, prev); d != nil {
		return d
	}
	content, diags := b.Body.Content(registrarSchema)
	r := &Registrar{Block: blockOf(b)}
	attr(content.Attributes, "max_contacts", decodeInt, &r.MaxContacts, &diags)
	attr(content.Attributes, "max_expires", decodeDuration, &r.MaxExpires, &diags)
	attr(content.Attributes, "min_expires", decodeDuration, &r.MinExpires, &diags)
	l.cfg.Registrar = r
	return diags
}
