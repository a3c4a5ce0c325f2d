package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/compiler/plan"
)

// maxEdgeLabel bounds condition text on edges; the full text is in the
// JSON output and in explain.
const maxEdgeLabel = 42

// writeDOT renders g for Graphviz: one cluster per stage in the order a
// request meets them (filters, auth, aliases, routes, targets), with the
// first-match-wins chains as "else" edges and each condition on the edge
// it guards.
func writeDOT(w io.Writer, g *graph.Graph) error {
	d := &dotWriter{}
	d.line(`digraph sipfront {`)
	d.line(`  graph [compound=true, rankdir=TB, fontname="Helvetica", fontsize=11, labeljust=l, nodesep=0.3, ranksep=0.35];`)
	d.line(`  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", fontsize=10];`)
	d.line(`  edge [fontname="Helvetica", fontsize=9, color="#555555"];`)
	d.line(`  request [shape=circle, label="request", fillcolor="#dddddd"];`)
	// The chain follows graph.Stages; each stage has its own drawing.
	chain := map[graph.Stage]func(*graph.Graph, string) string{
		graph.StageFilters: d.filters, graph.StageAuth: d.auth, graph.StageAliases: d.aliases,
		graph.StageRoutes: d.routes,
	}
	prev := "request"
	for _, st := range graph.Stages {
		prev = chain[st](g, prev)
	}
	d.targets(g)
	d.line(`}`)
	_, err := io.WriteString(w, d.b.String())
	return err
}

type dotWriter struct {
	b strings.Builder
}

func (d *dotWriter) line(format string, args ...any) {
	fmt.Fprintf(&d.b, format+"\n", args...)
}

func (d *dotWriter) node(id, label, attrs string) {
	if attrs != "" {
		attrs = ", " + attrs
	}
	d.line(`    %s [label=%s%s];`, dotID(id), dotString(label), attrs)
}

func (d *dotWriter) edge(from, to, label, attrs string) {
	var parts []string
	if label != "" {
		parts = append(parts, "label="+dotString(label))
	}
	if attrs != "" {
		parts = append(parts, attrs)
	}
	suffix := ""
	if len(parts) > 0 {
		suffix = " [" + strings.Join(parts, ", ") + "]"
	}
	d.line(`  %s -> %s%s;`, dotID(from), dotID(to), suffix)
}

func (d *dotWriter) cluster(name, label, color string, body func()) {
	d.line(`  subgraph %s {`, dotID("cluster_"+name))
	d.line(`    label=%s; style="rounded,filled"; fillcolor=%s; color="#999999";`, dotString(label), dotString(color))
	body()
	d.line(`  }`)
}

// filters draws the filter chain and returns the node a request reaches
// when no filter stops it.
func (d *dotWriter) filters(g *graph.Graph, prev string) string {
	if len(g.Filters) == 0 {
		return prev
	}
	d.cluster("filters", "1. filters (first match wins)", "#fdecea", func() {
		for _, f := range g.Filters {
			d.node(string(f.ID), "filter "+f.Name, "")
			if f.Action != graph.FilterLog {
				d.node(string(f.ID)+".out", filterOutcome(f), `shape=octagon, fillcolor="#f8b4b4"`)
			}
		}
	})
	for i, f := range g.Filters {
		label := "else"
		if i == 0 {
			label = ""
		}
		d.edge(prev, string(f.ID), label, "")
		if f.Action != graph.FilterLog {
			d.edge(string(f.ID), string(f.ID)+".out", shorten(condText(f.When)), `color="#c0392b"`)
		}
		prev = string(f.ID)
	}
	return prev
}

func filterOutcome(f *graph.Filter) string {
	if f.Action == graph.FilterDrop {
		return "drop"
	}
	return fmt.Sprintf("reply %d %s", f.Status, f.Reason)
}

func (d *dotWriter) auth(g *graph.Graph, prev string) string {
	if len(g.Auth) == 0 {
		return prev
	}
	d.cluster("auth", "2. auth", "#fef5e7", func() {
		for _, a := range g.Auth {
			d.node(string(a.ID), fmt.Sprintf("auth %s\nrealm %s", a.Name, a.Realm), "")
			d.node(string(a.ID)+".challenge", "challenge 401/407", `shape=octagon, fillcolor="#f9e79f"`)
			for _, t := range a.Trust {
				d.node(string(t.ID), "trusted "+t.Name+"\n"+strings.Join(prefixTexts(t), "\n"), `shape=note`)
			}
		}
	})
	for _, a := range g.Auth {
		d.edge(prev, string(a.ID), "else", "")
		d.edge(string(a.ID), string(a.ID)+".challenge", "no credentials", `color="#b9770e"`)
		for _, t := range a.Trust {
			d.edge(string(t.ID), string(a.ID), "skips challenge", `style=dashed, arrowhead=none`)
		}
		prev = string(a.ID)
	}
	return prev
}

func prefixTexts(t *graph.Trusted) []string {
	out := make([]string, len(t.Sources))
	for i, p := range t.Sources {
		out[i] = p.String()
	}
	return out
}

func (d *dotWriter) aliases(g *graph.Graph, prev string) string {
	if len(g.Aliases) == 0 {
		return prev
	}
	d.cluster("aliases", "3. aliases (DID mapping)", "#eaf2f8", func() {
		for _, a := range g.Aliases {
			d.node(string(a.ID), fmt.Sprintf("aliases %s\n%d entries", a.Name, len(a.Entries)), "")
		}
	})
	for _, a := range g.Aliases {
		d.edge(prev, string(a.ID), shorten(condText(a.When)), "")
		prev = string(a.ID)
	}
	return prev
}

// routes draws the route chain: each route's condition on the edge into
// it, its target on the edge out, and 404 when the last one can fail.
func (d *dotWriter) routes(g *graph.Graph, prev string) string {
	d.cluster("routes", "4. routes (first match wins)", "#e9f7ef", func() {
		for _, r := range g.Routes {
			d.node(string(r.ID), "route "+r.Name, "")
		}
		if n := len(g.Routes); n == 0 || g.Routes[n-1].When != nil {
			d.node("notfound", "reply 404 Not Found", `shape=octagon, fillcolor="#f8b4b4"`)
		}
	})
	for i, r := range g.Routes {
		label := shorten(condText(r.When))
		switch {
		case i > 0 && r.When == nil:
			label = "else"
		case i > 0:
			label = "else if " + label
		}
		d.edge(prev, string(r.ID), label, "")
		d.routeTarget(r)
		prev = string(r.ID)
	}
	if n := len(g.Routes); n == 0 || g.Routes[n-1].When != nil {
		d.edge(prev, "notfound", "else", "")
	}
	return prev
}

func (d *dotWriter) routeTarget(r *graph.Route) {
	from := string(r.ID)
	attrs := `penwidth=1.5, color="#1e8449"`
	switch r.Target {
	case graph.TargetPool:
		if r.Pool == nil || len(r.Pool.Members) == 0 {
			return
		}
		lhead := fmt.Sprintf("lhead=%s, ", dotID("cluster_"+string(r.Pool.ID)))
		if r.Select != nil {
			d.edge(from, string(r.Select.ID), "select", attrs)
			from, attrs = string(r.Select.ID), `style=dashed, color="#1e8449"`
		}
		d.edge(from, string(r.Pool.Members[0].ID), "balance "+string(r.Pool.Balance), lhead+attrs)
	case graph.TargetRegistrar:
		label := ""
		if r.Fork != "" {
			label = "fork " + string(r.Fork)
		}
		if r.ForkTimeout > 0 {
			label += ", " + plan.FormatDuration(r.ForkTimeout)
			if r.Fork == graph.ForkSerial {
				label += " per q"
			}
		}
		d.edge(from, "registrar", label, attrs)
	case graph.TargetCarriers:
		d.edge(from, "lcr", "", attrs)
	case graph.TargetCarrier:
		if r.Carrier != nil {
			d.edge(from, string(r.Carrier.ID), "", attrs)
		}
	}
}

// targets draws pools (with members), prefix tables, the registrar and
// the carriers behind least-cost routing.
func (d *dotWriter) targets(g *graph.Graph) {
	d.cluster("targets", "5. targets", "#f4f6f6", func() {
		d.registrar(g.Registrar)
		for _, p := range g.Prefixes {
			d.node(string(p.ID), fmt.Sprintf("prefixes %s\n%d rows", p.Name, len(p.Rows)), `shape=folder`)
		}
		for _, p := range g.Pools {
			d.pool(p)
		}
		if len(g.Carriers) > 0 {
			d.node("lcr", "carriers (LCR)", `shape=diamond`)
			for _, c := range g.Carriers {
				d.node(string(c.ID), fmt.Sprintf("carrier %s\n%s", c.Name, c.URI), `shape=component`)
			}
		}
	})
	for _, c := range g.Carriers {
		d.edge("lcr", string(c.ID), carrierEdge(c), `style=dotted`)
	}
}

func (d *dotWriter) pool(p *graph.Pool) {
	d.line(`    subgraph %s {`, dotID("cluster_"+string(p.ID)))
	d.line(`      label=%s; style="rounded,filled"; fillcolor="#d6eaf8";`, dotString(fmt.Sprintf("pool %s (%s)", p.Name, p.Balance)))
	for _, m := range p.Members {
		label := fmt.Sprintf("%s\n%s", m.Name, m.URI)
		if m.Weight > 1 {
			label += fmt.Sprintf("\nweight %d", m.Weight)
		}
		d.node(string(m.ID), label, `shape=box3d`)
	}
	d.line(`    }`)
}

func condText(c *graph.Condition) string {
	if c == nil {
		return "always"
	}
	return c.Source
}

// shorten keeps edge labels readable: one line, at most maxEdgeLabel runes.
func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxEdgeLabel {
		return string(r[:maxEdgeLabel-1]) + "…"
	}
	return s
}

// dotID quotes an ID for DOT; graph IDs contain dots and dashes.
func dotID(s string) string { return dotString(s) }

// dotString quotes s as a DOT string; "\n" becomes a centred line break.
func dotString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	s = strings.ReplaceAll(s, "\n", `\n`)
	return `"` + s + `"`
}

// graphJSON is the JSON form of a graph: every node with its canonical
// attributes, the same view plan compares.
type graphJSON struct {
	Hash  string       `json:"hash"`
	Nodes []*plan.Node `json:"nodes"`
}

// registrar draws the registrar with its limits: what a phone may register.
func (d *dotWriter) registrar(r *graph.Registrar) {
	label := "registrar"
	if r != nil {
		label += fmt.Sprintf("\nexpires %s..%s\n%d contacts", plan.FormatDuration(r.MinExpires), plan.FormatDuration(r.MaxExpires), r.MaxContacts)
	}
	d.node("registrar", label, "shape=cylinder")
}

// carrierEdge labels the LCR edge to a carrier with the prefixes it serves
// (the first few of a large table, then a count), its priority and weight.
func carrierEdge(c *graph.Carrier) string {
	const shown = 4
	var b strings.Builder
	for i, p := range c.Prefixes {
		if i == shown {
			fmt.Fprintf(&b, " +%d more", len(c.Prefixes)-shown)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Prefix)
		if int(p.Priority) != c.Priority {
			fmt.Fprintf(&b, "(%d)", p.Priority)
		}
	}
	fmt.Fprintf(&b, " prio %d", c.Priority)
	if c.Weight != 1 {
		fmt.Fprintf(&b, " weight %d", c.Weight)
	}
	return b.String()
}
