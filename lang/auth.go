package lang

import "github.com/hashicorp/hcl/v2"

// Auth is an auth block: which requests are challenged, which sources skip
// the challenge and which credentials verify the answer.
type Auth struct {
	Block
	When        Cond
	Trust       []Ref
	Credentials Ref
	Realm       Value[string]
}

var authSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "when"}, {Name: "trust"}, {Name: "credentials", Required: true}, {Name: "realm", Required: true},
	},
}

func decodeAuth(b *hcl.Block, src []byte) (*Auth, hcl.Diagnostics) {
	content, diags := b.Body.Content(authSchema)
	au := &Auth{Block: blockOf(b)}
	a := content.Attributes
	condAttr(a, "when", src, &au.When, &diags)
	attr(a, "trust", decodeRefList, &au.Trust, &diags)
	refAttr(a, "credentials", &au.Credentials, &diags)
	attr(a, "realm", decodeString, &au.Realm, &diags)
	return au, diags
}
