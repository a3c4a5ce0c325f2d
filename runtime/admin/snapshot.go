package admin

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/state"
)

// Snapshot is what `sipfront plan NEW --against ADMIN_URL` needs from the
// running proxy: its policy, its runtime overrides and its live calls.
type Snapshot struct {
	// URL is the admin API the snapshot came from.
	URL string `json:"url"`
	// Hash identifies the running policy.
	Hash string `json:"hash"`
	// Nodes are the running graph's nodes (canonical view, as plan
	// compares them).
	Nodes []GraphNode `json:"nodes"`
	// Members are the running members with their live state, removed
	// members still holding calls included.
	Members []MemberView `json:"members"`
	// Overrides are the runtime overrides: drift from the policy.
	Overrides []OverrideView `json:"overrides"`
	// Calls are the active dialogs.
	Calls []state.Dialog `json:"calls"`
}

// FetchSnapshot reads a snapshot from the admin API at url. token may be
// "" when the API needs none.
func FetchSnapshot(ctx context.Context, url, token string) (*Snapshot, error) {
	c := NewClient(url, token)
	g, err := c.Graph(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", url, err)
	}
	pools, err := c.Pools(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", url, err)
	}
	ovs, err := c.Overrides(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", url, err)
	}
	calls, err := c.Calls(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", url, err)
	}
	s := &Snapshot{URL: url, Hash: g.Hash, Nodes: g.Nodes, Overrides: ovs.Overrides, Calls: calls.Calls}
	for _, p := range pools.Pools {
		s.Members = append(s.Members, p.Members...)
	}
	s.Members = append(s.Members, pools.Removed...)
	return s, nil
}

// MemberIDs returns the IDs of the members the running policy declares.
func (s *Snapshot) MemberIDs() []graph.ID {
	var ids []graph.ID
	for _, n := range s.Nodes {
		if n.Kind == "member" {
			ids = append(ids, n.ID)
		}
	}
	return ids
}

// Drift is what a new policy would meet on the running proxy beyond the
// structural diff: overrides that stay in force, and live calls on members
// the new policy removes.
type Drift struct {
	Overrides []OverrideDrift `json:"overrides"`
	Pinned    []PinnedCalls   `json:"pinned_calls"`
}

// OverrideDrift is one override and what the new policy does to its member.
type OverrideDrift struct {
	OverrideView
	// InNew is false when the new policy does not declare the member.
	InNew bool `json:"in_new"`
	// Notes explain interactions, e.g. a weight override hiding a new
	// declared weight.
	Notes []string `json:"notes,omitempty"`
}

// PinnedCalls are the live calls of a member the new policy removes.
type PinnedCalls struct {
	Member graph.ID       `json:"member"`
	Calls  []state.Dialog `json:"calls"`
}

// Drift compares the snapshot with the graph about to be applied.
func (s *Snapshot) Drift(next *graph.Graph) Drift {
	d := Drift{Overrides: []OverrideDrift{}, Pinned: []PinnedCalls{}}
	for _, o := range s.Overrides {
		m, _ := next.Node(o.Member).(*graph.Member)
		od := OverrideDrift{OverrideView: o, InNew: m != nil}
		if m != nil {
			od.Notes = overrideNotes(o.Override, m)
		}
		d.Overrides = append(d.Overrides, od)
	}
	byMember := make(map[graph.ID][]state.Dialog)
	for _, c := range s.Calls {
		if _, ok := next.Node(c.Member).(*graph.Member); !ok {
			byMember[c.Member] = append(byMember[c.Member], c)
		}
	}
	for id, calls := range byMember {
		d.Pinned = append(d.Pinned, PinnedCalls{Member: id, Calls: calls})
	}
	sort.Slice(d.Pinned, func(i, j int) bool { return d.Pinned[i].Member < d.Pinned[j].Member })
	return d
}

// overrideNotes says where an override hides what the new policy declares.
func overrideNotes(o state.Override, m *graph.Member) []string {
	var notes []string
	if o.Weight != nil && *o.Weight != m.Weight {
		notes = append(notes, fmt.Sprintf("the new policy declares weight %d; the override keeps %d", m.Weight, *o.Weight))
	}
	for r, c := range o.Capacity {
		if decl, ok := m.Capacity[r]; ok && decl != c {
			notes = append(notes, fmt.Sprintf("the new policy declares capacity %s=%d; the override keeps %d", r, decl, c))
		}
	}
	sort.Strings(notes)
	return notes
}

// maxCallsListed bounds the calls printed per member; the count is exact.
const maxCallsListed = 5

// Lines renders the drift as text ready to print under the plan.
func (d Drift) Lines() []string {
	var out []string
	if len(d.Overrides) > 0 {
		out = append(out, "Runtime overrides (drift from the policy; they survive the reload, `sipfront ctl clear MEMBER` removes one):")
	}
	for _, o := range d.Overrides {
		line := fmt.Sprintf("  ~ %s: %s", o.Member, overrideText(o.Override))
		if !o.InNew {
			line += " (the new policy does not declare this member; the override waits for it)"
		}
		out = append(out, line)
		for _, n := range o.Notes {
			out = append(out, "      # "+n)
		}
	}
	if len(d.Pinned) > 0 {
		out = append(out, "Live calls on members the new policy removes (they continue until they end; the member takes no new calls):")
	}
	for _, p := range d.Pinned {
		out = append(out, fmt.Sprintf("  ! %s: %d live %s", p.Member, len(p.Calls), plural(len(p.Calls), "call", "calls")))
		for i, c := range p.Calls {
			if i == maxCallsListed {
				out = append(out, fmt.Sprintf("      ... and %d more", len(p.Calls)-maxCallsListed))
				break
			}
			out = append(out, fmt.Sprintf("      %s  %s -> %s  since %s", c.CallID, c.Caller, c.Callee, c.Started.UTC().Format("15:04:05")))
		}
	}
	if len(out) == 0 {
		out = append(out, "No runtime overrides and no live calls on removed members.")
	}
	return out
}

// Text is Lines joined with newlines, ending in one.
func (d Drift) Text() string { return strings.Join(d.Lines(), "\n") + "\n" }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
