package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// ProxyID is the ID plan and graph output give the proxy block, which is
// not a decision node and so has no graph.ID of its own.
const ProxyID graph.ID = "proxy"

// Node is the canonical view of one graph node: what plan compares and
// what `sipfront graph --format json` prints.
type Node struct {
	ID graph.ID `json:"id"`
	// Kind is the block type: filter, trusted, credentials, auth, aliases,
	// registrar, pool, member, prefixes, carrier, route or proxy.
	Kind string `json:"kind"`
	// Name is the block label; empty for proxy and registrar.
	Name string    `json:"name,omitempty"`
	Pos  graph.Pos `json:"-"`
	// Attrs are the node's attributes in canonical order.
	Attrs Attrs `json:"attrs"`
	// Rows is the content of a table node (prefixes, aliases), sorted by
	// key; nil for other kinds.
	Rows []Row `json:"rows,omitempty"`
}

// Row is one row of a table node.
type Row struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Nodes returns the canonical view of every node of g in a stable order:
// the proxy block first, then graph.IDs order.
func Nodes(g *graph.Graph) []*Node {
	nodes := append([]*Node{proxyNode(g)}, securityNodes(g)...)
	pos := positions(g)
	for _, id := range g.IDs() {
		if n := view(g, id, pos); n != nil {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// View returns the canonical view of the node with that ID, or nil when g
// has no such node.
func View(g *graph.Graph, id graph.ID) *Node {
	if id == ProxyID {
		return proxyNode(g)
	}
	for _, n := range securityNodes(g) {
		if n.ID == id {
			return n
		}
	}
	return view(g, id, positions(g))
}

// view builds the view of a decision node; pos holds the positions of the
// ordered nodes (see positions).
func view(g *graph.Graph, id graph.ID, pos map[graph.ID]int) *Node {
	switch n := g.Node(id).(type) {
	case *graph.Filter:
		return filterNode(pos[n.ID], n)
	case *graph.Trusted:
		return &Node{ID: n.ID, Kind: string(n.Kind()), Name: n.Name, Pos: n.Pos, Attrs: Attrs{{Name: "sources", Value: prefixStrings(n)}}}
	case *graph.Credentials:
		return credentialsNode(n)
	case *graph.Auth:
		return authNode(pos[n.ID], n)
	case *graph.AliasTable:
		return aliasNode(pos[n.ID], n)
	case *graph.Registrar:
		return &Node{ID: n.ID, Kind: string(n.Kind()), Pos: n.Pos, Attrs: Attrs{
			{Name: "max_contacts", Value: n.MaxContacts},
			{Name: "max_expires", Value: durationOrNil(n.MaxExpires)},
			{Name: "min_expires", Value: durationOrNil(n.MinExpires)},
		}}
	case *graph.Pool:
		return poolNode(n)
	case *graph.Member:
		return memberNode(n)
	case *graph.PrefixTable:
		return prefixNode(n)
	case *graph.Carrier:
		return carrierNode(n)
	case *graph.Route:
		return routeNode(pos[n.ID], n)
	}
	return nil
}

func proxyNode(g *graph.Graph) *Node {
	p := g.Proxy
	listen := make([]string, len(p.Listen))
	for i, l := range p.Listen {
		listen[i] = l.Transport + ":" + l.Addr
	}
	return &Node{ID: ProxyID, Kind: "proxy", Attrs: Attrs{
		{Name: "listen", Value: listen},
		{Name: "advertise", Value: stringOrNil(p.Advertise)},
		{Name: "domains", Value: p.Domains},
		{Name: "admin", Value: stringOrNil(p.Admin)},
		{Name: "ring_timeout", Value: durationOrNil(p.RingTimeout)},
		{Name: "max_call_duration", Value: durationOrNil(p.MaxCallDuration)},
		{Name: "max_inflight", Value: intOrNil(p.MaxInflight)},
		{Name: "server_header", Value: stringOrNil(g.Security.ServerHeader)},
		{Name: "dialog_validation", Value: p.DialogValidation},
		{Name: "in_dialog_timeout", Value: durationOrNil(p.InDialogTimeout)},
		{Name: "topology_hiding", Value: p.TopologyHiding},
	}}
}

func filterNode(pos int, f *graph.Filter) *Node {
	action := map[graph.FilterAction]string{graph.FilterLog: "log", graph.FilterReply: "reply", graph.FilterDrop: "drop"}[f.Action]
	attrs := Attrs{
		{Name: "when", Value: conditionText(f.When)},
		{Name: "action", Value: action},
		{Name: "status", Value: intOrNil(f.Status)},
		{Name: "reason", Value: stringOrNil(f.Reason)},
		{Name: "log", Value: stringOrNil(f.Log)},
		{Name: positionAttr, Value: pos},
	}
	return &Node{ID: f.ID, Kind: string(f.Kind()), Name: f.Name, Pos: f.Pos, Attrs: attrs}
}

func credentialsNode(c *graph.Credentials) *Node {
	n := &Node{ID: c.ID, Kind: string(c.Kind()), Name: c.Name, Pos: c.Pos, Attrs: Attrs{
		{Name: "file", Value: stringOrNil(c.File)},
		{Name: "cache_ttl", Value: durationOrNil(c.CacheTTL)},
		{Name: "negative_ttl", Value: durationOrNil(c.NegativeTTL)},
		{Name: "entries", Value: len(c.Entries)},
		// The digests are secrets: compare a hash of them, never show them.
		{Name: "contents", Value: entriesDigest(c.Entries), Sensitive: true},
		{Name: "contents_sha256", Value: entriesDigest(c.EntriesSHA256), Sensitive: true},
	}}
	pg := c.Postgres
	if pg == nil {
		pg = &graph.Postgres{}
	}
	// The DSN may hold a password: compared, never shown.
	n.Attrs = append(n.Attrs,
		Attr{Name: "postgres.dsn", Value: stringOrNil(pg.DSN), Sensitive: true},
		Attr{Name: "postgres.query", Value: stringOrNil(pg.Query)},
		Attr{Name: "postgres.pool_size", Value: intOrNil(pg.PoolSize)})
	return n
}

func authNode(pos int, a *graph.Auth) *Node {
	trust := make([]Ref, len(a.Trust))
	for i, t := range a.Trust {
		trust[i] = Ref(t.ID)
	}
	var creds any
	if a.Credentials != nil {
		creds = Ref(a.Credentials.ID)
	}
	return &Node{ID: a.ID, Kind: string(a.Kind()), Name: a.Name, Pos: a.Pos, Attrs: Attrs{
		{Name: "when", Value: conditionText(a.When)},
		{Name: "trust", Value: trust},
		{Name: "credentials", Value: creds},
		{Name: "realm", Value: stringOrNil(a.Realm)},
		{Name: "check_from", Value: a.CheckFrom},
		{Name: "nonce_ttl", Value: durationOrNil(a.NonceTTL)},
		{Name: "algorithms", Value: a.Algorithms},
		{Name: "max_failures", Value: a.MaxFailures},
		{Name: "failure_window", Value: durationOrNil(a.FailureWindow)},
		{Name: "block", Value: durationOrNil(a.Block)},
		{Name: "block_drop", Value: a.BlockDrop},
		{Name: positionAttr, Value: pos},
	}}
}

func aliasNode(pos int, a *graph.AliasTable) *Node {
	rows := make([]Row, 0, len(a.Entries))
	for k, v := range a.Entries {
		rows = append(rows, Row{Key: k, Value: v})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key < rows[j].Key })
	return &Node{ID: a.ID, Kind: string(a.Kind()), Name: a.Name, Pos: a.Pos, Rows: rows, Attrs: Attrs{
		{Name: "file", Value: stringOrNil(a.File)},
		{Name: "when", Value: conditionText(a.When)},
		{Name: "rows", Value: len(rows)},
		{Name: positionAttr, Value: pos},
	}}
}

func poolNode(p *graph.Pool) *Node {
	members := make([]string, len(p.Members))
	for i, m := range p.Members {
		members[i] = m.Name
	}
	attrs := Attrs{
		{Name: "balance", Value: string(p.Balance)},
		{Name: "resource", Value: stringOrNil(p.Resource)},
		{Name: "affinity", Value: stringOrNil(p.Affinity)},
		{Name: "failover.on", Value: p.Failover.On},
		{Name: "failover.max_tries", Value: intOrNil(p.Failover.MaxTries)},
		{Name: "failover.timeout", Value: durationOrNil(p.Failover.Timeout)},
	}
	attrs = append(attrs, probeAttrs(p.Probe)...)
	attrs = append(attrs, Attr{Name: "members", Value: members})
	return &Node{ID: p.ID, Kind: string(p.Kind()), Name: p.Name, Pos: p.Pos, Attrs: attrs}
}

func probeAttrs(p *graph.Probe) Attrs {
	if p == nil {
		p = &graph.Probe{}
	}
	return Attrs{
		{Name: "probe.interval", Value: durationOrNil(p.Interval)},
		{Name: "probe.timeout", Value: durationOrNil(p.Timeout)},
		{Name: "probe.threshold", Value: intOrNil(p.DownAfter)},
		{Name: "probe.up_after", Value: intOrNil(p.UpAfter)},
		{Name: "probe.accept", Value: p.Accept},
	}
}

func memberNode(m *graph.Member) *Node {
	var capacity any
	if len(m.Capacity) > 0 {
		capacity = m.Capacity
	}
	return &Node{ID: m.ID, Kind: string(m.Kind()), Name: m.Name, Pos: m.Pos, Attrs: Attrs{
		{Name: "uri", Value: m.URI},
		{Name: "weight", Value: m.Weight},
		{Name: "capacity", Value: capacity},
	}}
}

func prefixNode(t *graph.PrefixTable) *Node {
	rows := make([]Row, len(t.Rows))
	for i, r := range t.Rows {
		rows[i] = Row{Key: r.Prefix, Value: r.Value}
	}
	return &Node{ID: t.ID, Kind: string(t.Kind()), Name: t.Name, Pos: t.Pos, Rows: rows, Attrs: Attrs{
		{Name: "file", Value: stringOrNil(t.File)},
		{Name: "rows", Value: len(rows)},
	}}
}

// carrierNode lists a carrier's settings as attributes and its prefixes
// as rows (prefix -> priority), so that plan shows a prefix table change
// row by row.
func carrierNode(c *graph.Carrier) *Node {
	rows := make([]Row, len(c.Prefixes))
	for i, p := range c.Prefixes {
		rows[i] = Row{Key: p.Prefix, Value: "priority " + strconv.Itoa(int(p.Priority))}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key < rows[j].Key })
	attrs := Attrs{
		{Name: "uri", Value: c.URI},
		{Name: "prefixes_file", Value: stringOrNil(c.PrefixesFile)},
		{Name: "rows", Value: len(rows)},
		{Name: "priority", Value: c.Priority},
		{Name: "weight", Value: c.Weight},
		{Name: "strip", Value: intOrNil(c.Strip)},
		{Name: "prepend", Value: stringOrNil(c.Prepend)},
		{Name: "exit", Value: listenOrNil(c.Exit)},
		{Name: "failover.on", Value: c.Failover.On},
		{Name: "failover.max_tries", Value: c.Failover.MaxTries},
		{Name: "failover.timeout", Value: durationOrNil(c.Failover.Timeout)},
		{Name: "limits.calls", Value: intOrNil(c.Limits.Calls)},
		{Name: "limits.cps", Value: intOrNil(c.Limits.CPS)},
	}
	q := c.Quality
	if q == nil {
		q = &graph.Quality{}
	}
	attrs = append(attrs,
		Attr{Name: "quality.min_asr", Value: floatOrNil(q.MinASR)},
		Attr{Name: "quality.warn_asr", Value: floatOrNil(q.WarnASR)},
		Attr{Name: "quality.min_samples", Value: intOrNil(q.MinSamples)},
		Attr{Name: "quality.max_pdd", Value: durationOrNil(q.MaxPDD)},
		Attr{Name: "quality.window", Value: durationOrNil(q.Window)})
	a := c.Auth
	if a == nil {
		a = &graph.CarrierAuth{}
	}
	attrs = append(attrs,
		Attr{Name: "auth.username", Value: stringOrNil(a.Username)},
		Attr{Name: "auth.password", Value: stringOrNil(a.Password), Sensitive: true},
		Attr{Name: "auth.register", Value: trueOrNil(a.Register)},
		Attr{Name: "auth.register_expires", Value: durationOrNil(a.RegisterExpires)})
	return &Node{ID: c.ID, Kind: string(c.Kind()), Name: c.Name, Pos: c.Pos, Attrs: attrs, Rows: rows}
}

func trueOrNil(b bool) any {
	if !b {
		return nil
	}
	return true
}

func listenOrNil(l graph.Listen) any {
	if l.Addr == "" {
		return nil
	}
	return l.Transport + ":" + l.Addr
}

func routeNode(pos int, r *graph.Route) *Node {
	var sel, fork any
	if r.Select != nil {
		sel = Ref(r.Select.ID)
	}
	if r.Fork != "" {
		fork = string(r.Fork)
	}
	return &Node{ID: r.ID, Kind: string(r.Kind()), Name: r.Name, Pos: r.Pos, Attrs: Attrs{
		{Name: "when", Value: conditionText(r.When)},
		{Name: "to", Value: RouteTarget(r)},
		{Name: "select", Value: sel},
		{Name: "fork", Value: fork},
		{Name: "fork_timeout", Value: durationOrNil(r.ForkTimeout)},
		{Name: positionAttr, Value: pos},
	}}
}

// RouteTarget returns the route's `to` as written in the policy.
func RouteTarget(r *graph.Route) Ref {
	switch r.Target {
	case graph.TargetPool:
		if r.Pool != nil {
			return Ref(r.Pool.ID)
		}
	case graph.TargetRegistrar:
		return "registrar"
	case graph.TargetCarriers:
		return "carriers"
	case graph.TargetCarrier:
		if r.Carrier != nil {
			return Ref(r.Carrier.ID)
		}
	}
	return Ref(fmt.Sprintf("target(%d)", r.Target))
}

// positionAttr is the 1-based place of an ordered node (filter, auth,
// aliases, route) in its stage: first match wins, so order is behaviour.
// positions computes it for a whole graph.
const positionAttr = "position"

// positions returns the 1-based index of every ordered node of g within
// its stage, in one pass over the stages.
func positions(g *graph.Graph) map[graph.ID]int {
	pos := make(map[graph.ID]int)
	for _, stage := range orderedStages(g) {
		for i, id := range stage {
			pos[id] = i + 1
		}
	}
	return pos
}

// orderedStages returns the IDs of each first-match-wins stage of g, in
// decision order (graph.Stages).
func orderedStages(g *graph.Graph) [][]graph.ID {
	out := make([][]graph.ID, len(graph.Stages))
	for i, st := range graph.Stages {
		for _, n := range g.StageNodes(st) {
			out[i] = append(out[i], n.NodeID())
		}
	}
	return out
}

func conditionText(c *graph.Condition) any {
	if c == nil {
		return nil
	}
	return c.Source
}

func prefixStrings(t *graph.Trusted) []string {
	out := make([]string, len(t.Sources))
	for i, p := range t.Sources {
		out[i] = p.String()
	}
	return out
}

func entriesDigest(m map[string]string) any {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\n", k, m[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func stringOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func intOrNil(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func floatOrNil(f float64) any {
	if f == 0 {
		return nil
	}
	return f
}

func durationOrNil(d time.Duration) any {
	if d == 0 {
		return nil
	}
	return d
}
