package lang

import (
	"github.com/hashicorp/hcl/v2"
)

// Test is a test block: a request and the decision expected for it.
type Test struct {
	Block
	Request *TestRequest
	Expect  *TestExpect
}

// TestRequest is a test's request block.
type TestRequest struct {
	Block
	Method     Value[string]
	RURI       Value[string]
	From       Value[string]
	To         Value[string]
	UserAgent  Value[string]
	Source     Value[string]
	CallID     Value[string]
	InDialog   Value[bool]
	Headers    Value[map[string]string]
	AuthUser   Value[string]
	Registered List[string]
	// Down lists members and carriers that are unavailable, written as
	// references (pool.asterisk.member.ast2) or strings.
	Down []Ref
	// AtLimit lists carriers at their calls or cps limit.
	AtLimit []Ref
}

// TestExpect is a test's expect block; only the attributes written are
// compared.
type TestExpect struct {
	Block
	Action   Value[string]
	By       Ref
	Route    Ref
	Target   Ref
	Status   Value[int]
	RURIUser Value[string]
	// Carriers is the least-cost order of the carriers that can take the
	// call (the failover order); Number the number the first one receives.
	Carriers []Ref
	Number   Value[string]
}

var testSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "request"}, {Type: "expect"}},
}

var testRequestSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "method", Required: true}, {Name: "ruri", Required: true}, {Name: "from"}, {Name: "to"},
		{Name: "user_agent"}, {Name: "source"}, {Name: "call_id"}, {Name: "in_dialog"}, {Name: "headers"},
		{Name: "auth_user"}, {Name: "registered"}, {Name: "down"}, {Name: "at_limit"},
	},
}

var testExpectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "action"}, {Name: "by"}, {Name: "route"}, {Name: "target"}, {Name: "status"}, {Name: "ruri_user"},
		{Name: "carriers"}, {Name: "number"},
	},
}

func decodeTest(b *hcl.Block) (*Test, hcl.Diagnostics) {
	content, diags := b.Body.Content(testSchema)
	t := &Test{Block: blockOf(b)}
	rb, d := nestedOne(content, "request")
	diags = append(diags, d...)
	eb, d := nestedOne(content, "expect")
	diags = append(diags, d...)
	if rb == nil || eb == nil {
		return t, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incomplete Test",
			Detail:   "A test block needs one request block and one expect block.",
			Subject:  b.DefRange.Ptr(),
		})
	}
	t.Request, d = decodeTestRequest(rb)
	diags = append(diags, d...)
	t.Expect, d = decodeTestExpect(eb)
	return t, append(diags, d...)
}

func decodeTestRequest(b *hcl.Block) (*TestRequest, hcl.Diagnostics) {
	content, diags := b.Body.Content(testRequestSchema)
	r := &TestRequest{Block: blockOf(b)}
	a := content.Attributes
	attr(a, "method", decodeString, &r.Method, &diags)
	attr(a, "ruri", decodeString, &r.RURI, &diags)
	attr(a, "from", decodeString, &r.From, &diags)
	attr(a, "to", decodeString, &r.To, &diags)
	attr(a, "user_agent", decodeString, &r.UserAgent, &diags)
	attr(a, "source", decodeString, &r.Source, &diags)
	attr(a, "call_id", decodeString, &r.CallID, &diags)
	attr(a, "in_dialog", decodeBool, &r.InDialog, &diags)
	attr(a, "headers", decodeStringMap, &r.Headers, &diags)
	attr(a, "auth_user", decodeString, &r.AuthUser, &diags)
	attr(a, "registered", decodeStringList, &r.Registered, &diags)
	attr(a, "down", decodeRefOrStringList, &r.Down, &diags)
	attr(a, "at_limit", decodeRefOrStringList, &r.AtLimit, &diags)
	return r, diags
}

func decodeTestExpect(b *hcl.Block) (*TestExpect, hcl.Diagnostics) {
	content, diags := b.Body.Content(testExpectSchema)
	e := &TestExpect{Block: blockOf(b)}
	a := content.Attributes
	attr(a, "action", decodeString, &e.Action, &diags)
	attr(a, "by", decodeRefOrString, &e.By, &diags)
	attr(a, "route", decodeRefOrString, &e.Route, &diags)
	attr(a, "target", decodeRefOrString, &e.Target, &diags)
	attr(a, "status", decodeInt, &e.Status, &diags)
	attr(a, "ruri_user", decodeString, &e.RURIUser, &diags)
	attr(a, "carriers", decodeRefOrStringList, &e.Carriers, &diags)
	attr(a, "number", decodeString, &e.Number, &diags)
	return e, diags
}
