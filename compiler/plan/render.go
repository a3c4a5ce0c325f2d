package plan

import (
	"fmt"
	"io"

	"github.com/sipfront/sipfront/compiler/graph"
)

// RenderOptions tune human output.
type RenderOptions struct {
	// Color adds ANSI colours to symbols and headers.
	Color bool
	// MaxRows caps the table rows listed per change; the rest are counted.
	// Zero means DefaultMaxRows.
	MaxRows int
}

// DefaultMaxRows is how many changed rows of a table are listed before the
// rest are summarised.
const DefaultMaxRows = 20

// RenderHuman writes the plan the way terraform plan does: each change with
// its symbol and attributes old -> new, then the decision impact, then any
// sections, then the summary line.
func RenderHuman(w io.Writer, p *Plan, opts RenderOptions) error {
	r := &renderer{w: w, c: colorizer(opts.Color), maxRows: opts.MaxRows}
	if r.maxRows == 0 {
		r.maxRows = DefaultMaxRows
	}
	r.header(p)
	r.changes(p.Changes)
	r.decisions(p)
	for _, s := range p.Sections {
		r.section(s)
	}
	r.printf("%s\n", r.c.bold(p.SummaryLine()))
	return r.err
}

type renderer struct {
	w       io.Writer
	c       colorizer
	maxRows int
	err     error
}

func (r *renderer) printf(format string, args ...any) {
	if r.err != nil {
		return
	}
	_, r.err = fmt.Fprintf(r.w, format, args...)
}

func (r *renderer) header(p *Plan) {
	r.printf("Comparing %s (old) with %s (new).\n\n", p.Old, p.New)
	if len(p.Changes) == 0 {
		r.printf("No changes. Both policies compile to the same nodes.\n\n")
		return
	}
	r.printf("sipfront will perform the following actions:\n\n")
}

func (r *renderer) changes(changes []Change) {
	for _, c := range changes {
		r.change(c)
	}
}

func (r *renderer) change(c Change) {
	r.printf("  %s\n", r.c.bold(fmt.Sprintf("# %s %s%s", c.ID, c.Action.verb(), posSuffix(c.Pos))))
	for _, n := range c.Notes {
		r.printf("  %s\n", r.c.yellow("# (!) "+n))
	}
	r.printf("  %s %s {\n", r.c.symbol(c.Action), blockHeader(c))
	width := 0
	for _, a := range c.Attrs {
		width = max(width, len(a.Name))
	}
	for _, a := range c.Attrs {
		r.attr(c.Action, a, width)
	}
	r.rows(c.Rows)
	if c.Unchanged > 0 {
		r.printf("        %s\n", r.c.dim(fmt.Sprintf("# (%d unchanged %s hidden)", c.Unchanged, plural(c.Unchanged, "attribute", "attributes"))))
	}
	r.printf("    }\n\n")
}

func (r *renderer) attr(a Action, ac AttrChange, width int) {
	name := fmt.Sprintf("%-*s", width, ac.Name)
	switch a {
	case Create:
		r.printf("      %s %s = %s\n", r.c.symbol(Create), name, ac.NewText())
	case Delete:
		r.printf("      %s %s = %s\n", r.c.symbol(Delete), name, ac.OldText())
	default:
		switch {
		case ac.old.Name == "" || isUnset(ac.old):
			r.printf("      %s %s = %s\n", r.c.symbol(Create), name, ac.NewText())
		case ac.new.Name == "" || isUnset(ac.new):
			r.printf("      %s %s = %s %s null\n", r.c.symbol(Delete), name, ac.OldText(), r.c.dim("->"))
		case ac.Sensitive:
			r.printf("      %s %s = %s\n", r.c.symbol(Update), name, r.c.dim("(sensitive value changed)"))
		default:
			r.printf("      %s %s = %s %s %s\n", r.c.symbol(Update), name, ac.OldText(), r.c.dim("->"), ac.NewText())
		}
	}
}

func (r *renderer) rows(rows []RowChange) {
	for i, row := range rows {
		if i == r.maxRows {
			rest := len(rows) - i
			r.printf("        %s\n", r.c.dim(fmt.Sprintf("# ... and %d more %s", rest, plural(rest, "row change", "row changes"))))
			return
		}
		key := fmt.Sprintf("row %q", row.Key)
		switch row.Action {
		case Create:
			r.printf("      %s %s = %q\n", r.c.symbol(Create), key, row.New)
		case Delete:
			r.printf("      %s %s = %q\n", r.c.symbol(Delete), key, row.Old)
		default:
			r.printf("      %s %s = %q %s %q\n", r.c.symbol(Update), key, row.Old, r.c.dim("->"), row.New)
		}
	}
}

func (r *renderer) decisions(p *Plan) {
	if p.Probes == 0 {
		r.printf("Decision impact: no sample requests (add test blocks or --requests).\n\n")
		return
	}
	if len(p.Decisions) == 0 {
		r.printf("Decision impact: all %d sample %s decide the same way.\n\n", p.Probes, plural(p.Probes, "request", "requests"))
		return
	}
	r.printf("Decision impact: %d of %d sample %s decide differently:\n\n", len(p.Decisions), p.Probes, plural(p.Probes, "request", "requests"))
	for _, d := range p.Decisions {
		r.decision(d)
	}
}

func (r *renderer) decision(d DecisionChange) {
	label := fmt.Sprintf("%s %q", d.Probe.Origin, d.Probe.Name)
	if d.Probe.Origin == "requests" {
		label = "request " + d.Probe.Name
	}
	r.printf("  %s %s%s\n", r.c.symbol(Update), r.c.bold(label), posSuffix(d.Probe.Pos))
	r.printf("      request: %s\n", d.Probe.Summary)
	r.printf("      was:     %s\n", r.c.red(d.Old.String()))
	r.printf("      now:     %s\n", r.c.green(d.New.String()))
	r.printf("\n")
}

func (r *renderer) section(s Section) {
	r.printf("%s:\n\n", s.Title)
	if len(s.Items) == 0 {
		r.printf("  (none)\n\n")
		return
	}
	for _, it := range s.Items {
		id := ""
		if it.ID != "" {
			id = string(it.ID) + ": "
		}
		r.printf("  %s %s%s\n", r.c.symbol(it.Action), id, it.Text)
		for _, d := range it.Details {
			r.printf("      %s\n", d)
		}
	}
	r.printf("\n")
}

// blockHeader writes a change as the block a policy author would recognise:
// member "ast2", route "did", registrar.
func blockHeader(c Change) string {
	if c.Name == "" {
		return c.Kind
	}
	return fmt.Sprintf("%s %q", c.Kind, c.Name)
}

func posSuffix(p graph.Pos) string {
	if p.File == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", p.File, p.Line)
}

// colorizer wraps text in ANSI escapes when enabled.
type colorizer bool

func (c colorizer) wrap(code, s string) string {
	if !c || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (c colorizer) bold(s string) string   { return c.wrap("1", s) }
func (c colorizer) dim(s string) string    { return c.wrap("2", s) }
func (c colorizer) red(s string) string    { return c.wrap("31", s) }
func (c colorizer) green(s string) string  { return c.wrap("32", s) }
func (c colorizer) yellow(s string) string { return c.wrap("33", s) }

func (c colorizer) symbol(a Action) string {
	switch a {
	case Create:
		return c.green("+")
	case Delete:
		return c.red("-")
	case Update:
		return c.yellow("~")
	}
	return " "
}
