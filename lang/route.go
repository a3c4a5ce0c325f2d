package lang

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Route is a route block: a condition, a target and how to pick within it.
type Route struct {
	Block
	// When is unset for an unconditional route.
	When   Cond
	To     Ref
	Select Ref
	Fork   Value[string]
	// ForkTimeout is how long a contact rings in a serial fork, or the whole
	// set in a parallel one.
	ForkTimeout Value[time.Duration]
}

var routeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "when"}, {Name: "to", Required: true}, {Name: "select"}, {Name: "fork"}, {Name: "fork_timeout"},
	},
}

func decodeRoute(b *hcl.Block, src []byte) (*Route, hcl.Diagnostics) {
	content, diags := b.Body.Content(routeSchema)
	r := &Route{Block: blockOf(b)}
	a := content.Attributes
	condAttr(a, "when", src, &r.When, &diags)
	refAttr(a, "to", &r.To, &diags)
	refAttr(a, "select", &r.Select, &diags)
	attr(a, "fork", decodeString, &r.Fork, &diags)
	attr(a, "fork_timeout", decodeDuration, &r.ForkTimeout, &diags)
	return r, diags
}
