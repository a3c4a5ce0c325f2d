package lang

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Auth is an auth block: which requests are challenged, which sources skip
// the challenge, which credentials verify the answer, and the brute-force
// limits.
type Auth struct {
	Block
	When        Cond
	Trust       []Ref
	Credentials Ref
	Realm       Value[string]
	CheckFrom   Value[bool]
	NonceTTL    Value[time.Duration]
	Algorithms  List[string]
	// MaxFailures failed answers within FailureWindow block the source or
	// user for BlockFor (attribute block); BlockDrop drops its requests instead of 403.
	MaxFailures   Value[int]
	FailureWindow Value[time.Duration]
	BlockFor      Value[time.Duration]
	BlockDrop     Value[bool]
}

var authSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "when"}, {Name: "trust"}, {Name: "credentials", Required: true}, {Name: "realm", Required: true},
		{Name: "check_from"}, {Name: "nonce_ttl"}, {Name: "algorithms"},
		{Name: "max_failures"}, {Name: "failure_window"}, {Name: "block"}, {Name: "block_drop"},
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
	attr(a, "check_from", decodeBool, &au.CheckFrom, &diags)
	attr(a, "nonce_ttl", decodeDuration, &au.NonceTTL, &diags)
	attr(a, "algorithms", decodeStringList, &au.Algorithms, &diags)
	attr(a, "max_failures", decodeInt, &au.MaxFailures, &diags)
	attr(a, "failure_window", decodeDuration, &au.FailureWindow, &diags)
	attr(a, "block", decodeDuration, &au.BlockFor, &diags)
	attr(a, "block_drop", decodeBool, &au.BlockDrop, &diags)
	return au, diags
}
