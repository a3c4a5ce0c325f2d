package lang

import "github.com/hashicorp/hcl/v2"

// Filter is a filter block: when the condition holds, reply, drop or log.
type Filter struct {
	Block
	When   Cond
	Reply  Value[int]
	Reason Value[string]
	Drop   Value[bool]
	Log    Value[string]
}

var filterSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "when", Required: true}, {Name: "reply"}, {Name: "reason"}, {Name: "drop"}, {Name: "log"},
	},
}

func decodeFilter(b *hcl.Block, src []byte) (*Filter, hcl.Diagnostics) {
	content, diags := b.Body.Content(filterSchema)
	f := &Filter{Block: blockOf(b)}
	a := content.Attributes
	condAttr(a, "when", src, &f.When, &diags)
	attr(a, "reply", decodeInt, &f.Reply, &diags)
	attr(a, "reason", decodeString, &f.Reason, &diags)
	attr(a, "drop", decodeBool, &f.Drop, &diags)
	attr(a, "log", decodeString, &f.Log, &diags)
	return f, diags
}
