package lang

import "github.com/hashicorp/hcl/v2"

// attr decodes the attribute name, when present, into dst with dec and
// appends its diagnostics. An absent attribute leaves dst unset.
func attr[T any](attrs hcl.Attributes, name string, dec func(*hcl.Attribute) (T, hcl.Diagnostics), dst *T, diags *hcl.Diagnostics) {
	a, ok := attrs[name]
	if !ok {
		return
	}
	v, d := dec(a)
	*dst = v
	*diags = append(*diags, d...)
}

// refAttr decodes a reference attribute.
func refAttr(attrs hcl.Attributes, name string, dst *Ref, diags *hcl.Diagnostics) {
	attr(attrs, name, func(a *hcl.Attribute) (Ref, hcl.Diagnostics) { return decodeRef(a.Expr) }, dst, diags)
}

// condAttr decodes a CEL condition attribute.
func condAttr(attrs hcl.Attributes, name string, src []byte, dst *Cond, diags *hcl.Diagnostics) {
	attr(attrs, name, func(a *hcl.Attribute) (Cond, hcl.Diagnostics) { return decodeCond(a, src) }, dst, diags)
}
