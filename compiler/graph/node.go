package graph

// Kind is the block type of a node: what plan, graph output and serve's
// support check call it.
type Kind string

// Node kinds, one per block type of the policy language.
const (
	KindFilter      Kind = "filter"
	KindTrusted     Kind = "trusted"
	KindCredentials Kind = "credentials"
	KindAuth        Kind = "auth"
	KindAliases     Kind = "aliases"
	KindRegistrar   Kind = "registrar"
	KindPool        Kind = "pool"
	KindMember      Kind = "member"
	KindPrefixes    Kind = "prefixes"
	KindCarrier     Kind = "carrier"
	KindRoute       Kind = "route"
)

// Stage is a first-match-wins step of a decision; nodes that are not a
// step of their own (pools, members, tables a route reads) have none.
type Stage string

// Decision stages.
const (
	StageNone    Stage = ""
	StageFilters Stage = "filters"
	StageAuth    Stage = "auth"
	StageAliases Stage = "aliases"
	StageRoutes  Stage = "routes"
)

// Stages lists the decision stages in the order a request meets them.
var Stages = []Stage{StageFilters, StageAuth, StageAliases, StageRoutes}

// Stage returns the decision stage nodes of kind k belong to.
func (k Kind) Stage() Stage {
	switch k {
	case KindFilter:
		return StageFilters
	case KindAuth:
		return StageAuth
	case KindAliases:
		return StageAliases
	case KindRoute:
		return StageRoutes
	}
	return StageNone
}

// Node is what every node of the graph has in common. The method is
// NodeID, not ID, because every node type has an exported ID field.
type Node interface {
	// NodeID returns the node's stable ID.
	NodeID() ID
	// Kind returns the node's block type.
	Kind() Kind
	// Position returns where the policy declares the node.
	Position() Pos
	// Label returns the block's label (its name field), "" for the
	// registrar, which has none.
	Label() string
}

var (
	_ Node = (*Filter)(nil)
	_ Node = (*Trusted)(nil)
	_ Node = (*Credentials)(nil)
	_ Node = (*Auth)(nil)
	_ Node = (*AliasTable)(nil)
	_ Node = (*Registrar)(nil)
	_ Node = (*Pool)(nil)
	_ Node = (*Member)(nil)
	_ Node = (*PrefixTable)(nil)
	_ Node = (*Carrier)(nil)
	_ Node = (*Route)(nil)
)

// Walk calls fn for every node of g in the one stable order the tools
// share: filters, trusted, credentials, auth, aliases, registrar, pools
// (each followed by its members), prefixes, carriers, routes, each kind in
// declaration order. The decision stages come in decision order. Walk
// stops when fn returns false. It allocates nothing.
func (g *Graph) Walk(fn func(Node) bool) {
	if !walk(g.Filters, fn) || !walk(g.Trusted, fn) || !walk(g.Credentials, fn) ||
		!walk(g.Auth, fn) || !walk(g.Aliases, fn) {
		return
	}
	if g.Registrar != nil && !fn(g.Registrar) {
		return
	}
	for _, p := range g.Pools {
		if !fn(p) || !walk(p.Members, fn) {
			return
		}
	}
	if !walk(g.Prefixes, fn) || !walk(g.Carriers, fn) {
		return
	}
	walk(g.Routes, fn)
}

func walk[T Node](nodes []T, fn func(Node) bool) bool {
	for _, n := range nodes {
		if !fn(n) {
			return false
		}
	}
	return true
}

// StageNodes returns the nodes of stage st in decision order.
func (g *Graph) StageNodes(st Stage) []Node {
	var out []Node
	g.Walk(func(n Node) bool {
		if n.Kind().Stage() == st {
			out = append(out, n)
		}
		return true
	})
	return out
}

// Count returns how many nodes of kind k g holds.
func (g *Graph) Count(k Kind) int {
	n := 0
	g.Walk(func(x Node) bool {
		if x.Kind() == k {
			n++
		}
		return true
	})
	return n
}

// NodeID implements Node.
func (f *Filter) NodeID() ID { return f.ID }

// Label implements Node.
func (f *Filter) Label() string { return f.Name }

// Kind implements Node.
func (f *Filter) Kind() Kind { return KindFilter }

// Position implements Node.
func (f *Filter) Position() Pos { return f.Pos }

// NodeID implements Node.
func (t *Trusted) NodeID() ID { return t.ID }

// Label implements Node.
func (t *Trusted) Label() string { return t.Name }

// Kind implements Node.
func (t *Trusted) Kind() Kind { return KindTrusted }

// Position implements Node.
func (t *Trusted) Position() Pos { return t.Pos }

// NodeID implements Node.
func (c *Credentials) NodeID() ID { return c.ID }

// Label implements Node.
func (c *Credentials) Label() string { return c.Name }

// Kind implements Node.
func (c *Credentials) Kind() Kind { return KindCredentials }

// Position implements Node.
func (c *Credentials) Position() Pos { return c.Pos }

// NodeID implements Node.
func (a *Auth) NodeID() ID { return a.ID }

// Label implements Node.
func (a *Auth) Label() string { return a.Name }

// Kind implements Node.
func (a *Auth) Kind() Kind { return KindAuth }

// Position implements Node.
func (a *Auth) Position() Pos { return a.Pos }

// NodeID implements Node.
func (a *AliasTable) NodeID() ID { return a.ID }

// Label implements Node.
func (a *AliasTable) Label() string { return a.Name }

// Kind implements Node.
func (a *AliasTable) Kind() Kind { return KindAliases }

// Position implements Node.
func (a *AliasTable) Position() Pos { return a.Pos }

// NodeID implements Node.
func (r *Registrar) NodeID() ID { return r.ID }

// Label implements Node: the registrar block has no label.
func (r *Registrar) Label() string { return "" }

// Kind implements Node.
func (r *Registrar) Kind() Kind { return KindRegistrar }

// Position implements Node.
func (r *Registrar) Position() Pos { return r.Pos }

// NodeID implements Node.
func (p *Pool) NodeID() ID { return p.ID }

// Label implements Node.
func (p *Pool) Label() string { return p.Name }

// Kind implements Node.
func (p *Pool) Kind() Kind { return KindPool }

// Position implements Node.
func (p *Pool) Position() Pos { return p.Pos }

// NodeID implements Node.
func (m *Member) NodeID() ID { return m.ID }

// Label implements Node.
func (m *Member) Label() string { return m.Name }

// Kind implements Node.
func (m *Member) Kind() Kind { return KindMember }

// Position implements Node.
func (m *Member) Position() Pos { return m.Pos }

// NodeID implements Node.
func (t *PrefixTable) NodeID() ID { return t.ID }

// Label implements Node.
func (t *PrefixTable) Label() string { return t.Name }

// Kind implements Node.
func (t *PrefixTable) Kind() Kind { return KindPrefixes }

// Position implements Node.
func (t *PrefixTable) Position() Pos { return t.Pos }

// NodeID implements Node.
func (c *Carrier) NodeID() ID { return c.ID }

// Label implements Node.
func (c *Carrier) Label() string { return c.Name }

// Kind implements Node.
func (c *Carrier) Kind() Kind { return KindCarrier }

// Position implements Node.
func (c *Carrier) Position() Pos { return c.Pos }

// NodeID implements Node.
func (r *Route) NodeID() ID { return r.ID }

// Label implements Node.
func (r *Route) Label() string { return r.Name }

// Kind implements Node.
func (r *Route) Kind() Kind { return KindRoute }

// Position implements Node.
func (r *Route) Position() Pos { return r.Pos }
