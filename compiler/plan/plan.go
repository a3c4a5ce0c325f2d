package plan

import (
	"fmt"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Plan is everything that changes between two policies: the node changes
// and the decisions that change for the sample requests, plus any extra
// sections other producers attach (runtime drift, pinned calls).
type Plan struct {
	// Old and New name the policies compared (paths, or an admin URL).
	Old string `json:"old"`
	New string `json:"new"`
	// OldHash and NewHash are the graphs' source hashes.
	OldHash string `json:"old_hash,omitempty"`
	NewHash string `json:"new_hash,omitempty"`
	// Changes are the node changes in stable order.
	Changes []Change `json:"changes"`
	// Probes is how many sample requests were decided under both graphs.
	Probes int `json:"requests_checked"`
	// Decisions lists the sample requests whose decision changes.
	Decisions []DecisionChange `json:"decisions"`
	// Sections are further findings rendered after the decisions, such as
	// runtime overrides that drift from the policy or live calls pinned to
	// members the plan removes.
	Sections []Section `json:"sections,omitempty"`
}

// Section is a titled list of findings that is not a node diff. A producer
// appends one with a stable Key; renderers need no change for new keys.
type Section struct {
	// Key identifies the section in JSON output ("drift", "pinned_calls").
	Key string `json:"key"`
	// Title heads the section in human output.
	Title string        `json:"title"`
	Items []SectionItem `json:"items"`
	// Changes says whether the items count as changes for the exit code.
	Changes bool `json:"counts_as_change"`
}

// SectionItem is one finding of a section.
type SectionItem struct {
	Action  Action   `json:"action"`
	ID      graph.ID `json:"id,omitempty"`
	Text    string   `json:"text"`
	Details []string `json:"details,omitempty"`
}

// Summary counts a plan's changes.
type Summary struct {
	Add       int `json:"add"`
	Change    int `json:"change"`
	Destroy   int `json:"destroy"`
	Decisions int `json:"decisions"`
}

// Build diffs old against new and decides every probe under both. It
// fails only when a probe cannot be built; the diff itself cannot fail.
func Build(oldName string, old *graph.Graph, newName string, new *graph.Graph, probes []Probe) (*Plan, error) {
	decisions, err := Impact(old, new, probes)
	if err != nil {
		return nil, fmt.Errorf("deciding sample requests: %w", err)
	}
	return &Plan{
		Old: oldName, New: newName, OldHash: old.Hash, NewHash: new.Hash,
		Changes: Diff(old, new), Probes: len(probes), Decisions: decisions,
	}, nil
}

// Summary counts the changes by action and the changed decisions.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Add++
		case Update:
			s.Change++
		case Delete:
			s.Destroy++
		}
	}
	s.Decisions = len(p.Decisions)
	return s
}

// Empty reports whether the plan changes nothing: no node, no decision and
// no section that counts as a change. `sipfront plan` exits 0 then, 2
// otherwise.
func (p *Plan) Empty() bool {
	if len(p.Changes) > 0 || len(p.Decisions) > 0 {
		return false
	}
	for _, s := range p.Sections {
		if s.Changes && len(s.Items) > 0 {
			return false
		}
	}
	return true
}

// SummaryLine is the closing line of the human plan.
func (p *Plan) SummaryLine() string {
	s := p.Summary()
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy. %d %s change.",
		s.Add, s.Change, s.Destroy, s.Decisions, plural(s.Decisions, "decision", "decisions"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
