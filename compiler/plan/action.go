// Package plan computes what changes between two compiled policies: the
// nodes added, removed and changed (attribute by attribute, keyed by stable
// node IDs) and the decisions that change for a set of sample requests.
//
// Computing a plan is separate from rendering it: Build returns a *Plan
// value, and RenderHuman and the JSON encoding of Plan present the same
// model. Later producers (runtime drift from a live proxy, calls pinned to
// removed members) add Sections without touching the diff.
package plan

// Action is what a plan does to a node, written as its plan symbol.
type Action rune

// Plan actions.
const (
	// NoOp means the node is unchanged; it never appears in a Plan.
	NoOp Action = 0
	// Create adds a node that only the new policy has.
	Create Action = '+'
	// Update changes attributes of a node both policies have.
	Update Action = '~'
	// Delete removes a node that only the old policy has.
	Delete Action = '-'
)

// String returns the action's name, as used in JSON output.
func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return "no-op"
}

// Symbol returns the one-character symbol shown in front of a change.
func (a Action) Symbol() string {
	if a == NoOp {
		return " "
	}
	return string(a)
}

// verb returns the phrase used in a change's header comment.
func (a Action) verb() string {
	switch a {
	case Create:
		return "will be created"
	case Update:
		return "will be updated in place"
	case Delete:
		return "will be destroyed"
	}
	return "is unchanged"
}

// MarshalText encodes the action by name, so JSON output reads "update"
// rather than a code point.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }
