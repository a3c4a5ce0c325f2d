package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Change is what happens to one node between the old and the new policy.
type Change struct {
	ID     graph.ID `json:"id"`
	Kind   string   `json:"kind"`
	Name   string   `json:"name,omitempty"`
	Action Action   `json:"action"`
	// Pos is where the node is declared: in the new policy, or the old one
	// for a Delete.
	Pos graph.Pos `json:"-"`
	// Attrs lists the attributes that differ (Update), or every attribute
	// that is set (Create, Delete), in canonical order.
	Attrs []AttrChange `json:"attrs"`
	// Unchanged counts the attributes of an Update left out of Attrs.
	Unchanged int `json:"unchanged_attrs,omitempty"`
	// Rows lists the rows of a table that were added, removed or changed.
	Rows []RowChange `json:"rows,omitempty"`
	// Notes are warnings a reviewer should read (restart needed, runtime
	// state lost on rename).
	Notes []string `json:"notes,omitempty"`
}

// AttrChange is one attribute's old and new value; Old is nil for Create
// and New is nil for Delete.
type AttrChange struct {
	Name      string `json:"name"`
	Old       any    `json:"old"`
	New       any    `json:"new"`
	Sensitive bool   `json:"sensitive,omitempty"`
	old, new  Attr
}

// RowChange is one table row added, removed or changed, keyed by its
// prefix (or DID).
type RowChange struct {
	Action Action `json:"action"`
	Key    string `json:"key"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
}

// Diff compares every node of two graphs by ID and returns the changes in a
// stable order: the new policy's order, with each removed node placed after
// the node that preceded it in the old policy.
func Diff(old, new *graph.Graph) []Change {
	oldList, newList := Nodes(old), Nodes(new)
	oldNodes, newNodes := index(oldList), index(newList)
	oldRank, newRank := commonRanks(old, new), commonRanks(new, old)
	var changes []Change
	for _, id := range mergeOrder(ids(oldList), ids(newList)) {
		o, n := oldNodes[id], newNodes[id]
		var c Change
		switch {
		case o == nil:
			c = wholeChange(Create, n)
		case n == nil:
			c = wholeChange(Delete, o)
		default:
			c = updateChange(o, n, oldRank[id] != newRank[id])
		}
		if c.Action != NoOp {
			changes = append(changes, c)
		}
	}
	annotate(changes, old, new)
	return changes
}

// wholeChange lists every set attribute of a created or destroyed node.
func wholeChange(a Action, n *Node) Change {
	c := Change{ID: n.ID, Kind: n.Kind, Name: n.Name, Action: a, Pos: n.Pos}
	for _, at := range n.Attrs {
		if isUnset(at) {
			continue
		}
		ac := AttrChange{Name: at.Name, Sensitive: at.Sensitive}
		if a == Create {
			ac.new = at
		} else {
			ac.old = at
		}
		c.Attrs = append(c.Attrs, ac.export())
	}
	return c
}

// updateChange compares two views of the same node. Position only counts
// as changed when reordered is set: inserting a filter shifts the numbers
// of those after it without changing their relative order, which the
// Create already shows.
func updateChange(o, n *Node, reordered bool) Change {
	c := Change{ID: n.ID, Kind: n.Kind, Name: n.Name, Action: NoOp, Pos: n.Pos}
	for _, na := range n.Attrs {
		oa, _ := o.Attrs.Get(na.Name)
		same := oa.Text() == na.Text()
		if na.Name == positionAttr {
			same = !reordered
		}
		if same {
			c.Unchanged++
			continue
		}
		c.Attrs = append(c.Attrs, AttrChange{Name: na.Name, Sensitive: na.Sensitive || oa.Sensitive, old: oa, new: na}.export())
	}
	c.Rows = diffRows(o.Rows, n.Rows)
	if len(c.Attrs) > 0 || len(c.Rows) > 0 {
		c.Action = Update
	}
	return c
}

// export fills the JSON-facing Old and New from the attributes.
func (ac AttrChange) export() AttrChange {
	if ac.old.Name != "" {
		ac.Old = jsonValue(ac.old)
	}
	if ac.new.Name != "" {
		ac.New = jsonValue(ac.new)
	}
	return ac
}

// OldText and NewText render the values for humans ("null" when absent,
// "(sensitive)" when hidden).
func (ac AttrChange) OldText() string { return shownOrNull(ac.old) }

// NewText renders the new value; see OldText.
func (ac AttrChange) NewText() string { return shownOrNull(ac.new) }

func shownOrNull(a Attr) string {
	if a.Name == "" {
		return "null"
	}
	return a.shown()
}

func isUnset(a Attr) bool {
	t := a.Text()
	return t == "null" || t == "[]" || t == "{}"
}

// diffRows compares two tables sorted by key.
func diffRows(old, new []Row) []RowChange {
	var out []RowChange
	i, j := 0, 0
	for i < len(old) || j < len(new) {
		switch {
		case j == len(new) || (i < len(old) && old[i].Key < new[j].Key):
			out = append(out, RowChange{Action: Delete, Key: old[i].Key, Old: old[i].Value})
			i++
		case i == len(old) || new[j].Key < old[i].Key:
			out = append(out, RowChange{Action: Create, Key: new[j].Key, New: new[j].Value})
			j++
		default:
			if old[i].Value != new[j].Value {
				out = append(out, RowChange{Action: Update, Key: new[j].Key, Old: old[i].Value, New: new[j].Value})
			}
			i++
			j++
		}
	}
	return out
}

// commonRanks numbers the ordered nodes of g that other also has, per
// stage, so that a change of relative order can be told from a shift.
func commonRanks(g, other *graph.Graph) map[graph.ID]int {
	ranks := make(map[graph.ID]int)
	for _, stage := range orderedStages(g) {
		r := 0
		for _, id := range stage {
			if other.Node(id) != nil {
				ranks[id] = r
				r++
			}
		}
	}
	return ranks
}

func index(nodes []*Node) map[graph.ID]*Node {
	m := make(map[graph.ID]*Node, len(nodes))
	for _, n := range nodes {
		m[n.ID] = n
	}
	return m
}

func ids(nodes []*Node) []graph.ID {
	out := make([]graph.ID, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

// mergeOrder returns new's IDs with each ID only old has inserted after
// its nearest predecessor in old that new also has (or first, when none).
func mergeOrder(old, new []graph.ID) []graph.ID {
	inNew := make(map[graph.ID]bool, len(new))
	for _, id := range new {
		inNew[id] = true
	}
	// after[p] lists removed IDs that follow p; "" holds those before any.
	after := make(map[graph.ID][]graph.ID)
	var prev graph.ID
	for _, id := range old {
		if inNew[id] {
			prev = id
			continue
		}
		after[prev] = append(after[prev], id)
	}
	out := append([]graph.ID(nil), after[""]...)
	for _, id := range new {
		out = append(out, id)
		out = append(out, after[id]...)
	}
	return out
}

// restartAttrs are the proxy attributes the running proxy reads once, at
// start: its sockets, the address it puts in Via and Record-Route, and the
// admin API listener. A reload keeps the old values.
var restartAttrs = []string{"listen", "advertise", "admin"}

// annotate adds the notes a reviewer needs beyond the attributes: listener,
// advertise and admin changes need a restart, and a member or carrier that looks renamed (one
// removed, one created with the same URI) loses its runtime state.
func annotate(changes []Change, old, new *graph.Graph) {
	removedURI := make(map[string]graph.ID)
	for _, c := range changes {
		if c.Action == Delete {
			if uri := nodeURI(old, c.ID); uri != "" {
				removedURI[c.Kind+" "+uri] = c.ID
			}
		}
	}
	for i := range changes {
		c := &changes[i]
		if c.ID == ProxyID {
			var names []string
			for _, a := range c.Attrs {
				if slices.Contains(restartAttrs, a.Name) {
					names = append(names, a.Name)
				}
			}
			if len(names) > 0 {
				c.Notes = append(c.Notes, restartNote(names))
			}
		}
		if c.Action != Create {
			continue
		}
		if was, ok := removedURI[c.Kind+" "+nodeURI(new, c.ID)]; ok {
			c.Notes = append(c.Notes, fmt.Sprintf("same uri as %s: a rename loses its runtime state (health, call counts, overrides)", was))
		}
	}
}

// restartNote says that changes to the named proxy attributes wait for a
// restart: "listen and admin changes take effect only after ...".
func restartNote(names []string) string {
	list := names[0]
	if n := len(names); n > 1 {
		list = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return list + " changes take effect only after a restart, not a reload"
}

func nodeURI(g *graph.Graph, id graph.ID) string {
	switch n := g.Node(id).(type) {
	case *graph.Member:
		return n.URI
	case *graph.Carrier:
		return n.URI
	}
	return ""
}
