package plan

import (
	"fmt"
	"strconv"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Probe is a sample request that plan decides under both graphs: a test
// block of either policy or a line of a --requests file.
type Probe struct {
	// Name is the test name, or "FILE:LINE" for a requests file.
	Name string `json:"name"`
	// Origin says where the probe comes from: "test", "requests".
	Origin string `json:"origin"`
	// Pos is the test block or requests line.
	Pos graph.Pos `json:"-"`
	// Summary is a one-line description of the request
	// ("INVITE sip:+15551230001@example.com from 198.51.100.7:5060").
	Summary string `json:"request"`
	// Build returns a fresh request and its state; it is called once per
	// graph because a decision may rewrite the request (DID mapping).
	Build func() (*graph.Request, graph.StaticState, error) `json:"-"`
}

// Outcome is the part of a decision that plan compares.
type Outcome struct {
	Action string   `json:"action"`
	Status int      `json:"status,omitempty"`
	Filter graph.ID `json:"filter,omitempty"`
	Route  graph.ID `json:"route,omitempty"`
	Target graph.ID `json:"target,omitempty"`
	// RURI is the R-URI user after DID mapping.
	RURI string `json:"ruri_user,omitempty"`
}

// NewOutcome extracts the compared fields of d; req is the request after
// the decision.
func NewOutcome(d graph.Decision, req *graph.Request) Outcome {
	o := Outcome{Action: d.Action.String(), Status: d.Status, Target: d.Target(), RURI: req.RURI.User}
	if d.Filter != nil {
		o.Filter = d.Filter.ID
	}
	if d.Route != nil {
		o.Route = d.Route.ID
	}
	return o
}

// String renders the outcome in one line, as the human plan shows it:
// "relay via route.did to pool.asterisk.member.ast2".
func (o Outcome) String() string {
	s := o.Action
	if o.Status != 0 {
		s += " " + strconv.Itoa(o.Status)
	}
	if o.Filter != "" {
		s += " by " + string(o.Filter)
	}
	if o.Route != "" {
		s += " via " + string(o.Route)
	}
	if o.Target != "" {
		s += " to " + string(o.Target)
	}
	return s
}

// fields lists the compared fields by name, in display order.
func (o Outcome) fields() []Attr {
	return []Attr{
		{Name: "action", Value: o.Action},
		{Name: "status", Value: o.Status},
		{Name: "filter", Value: o.Filter},
		{Name: "route", Value: o.Route},
		{Name: "target", Value: o.Target},
		{Name: "ruri_user", Value: o.RURI},
	}
}

// DecisionChange is a probe whose decision differs between the graphs.
type DecisionChange struct {
	Probe Probe   `json:"probe"`
	Old   Outcome `json:"old"`
	New   Outcome `json:"new"`
	// Fields names the fields that differ, in display order.
	Fields []string `json:"fields"`
}

// Impact decides every probe under both graphs and returns the probes whose
// outcome changes, in probe order. A probe that cannot be built is an error.
func Impact(old, new *graph.Graph, probes []Probe) ([]DecisionChange, error) {
	var out []DecisionChange
	for _, p := range probes {
		o, err := decide(old, p)
		if err != nil {
			return nil, err
		}
		n, err := decide(new, p)
		if err != nil {
			return nil, err
		}
		if fields := differingFields(o, n); len(fields) > 0 {
			out = append(out, DecisionChange{Probe: p, Old: o, New: n, Fields: fields})
		}
	}
	return out, nil
}

func decide(g *graph.Graph, p Probe) (Outcome, error) {
	req, st, err := p.Build()
	if err != nil {
		return Outcome{}, fmt.Errorf("request %s: %w", p.Name, err)
	}
	d := g.Decide(req, st, nil)
	return NewOutcome(d, req), nil
}

func differingFields(o, n Outcome) []string {
	var out []string
	nf := n.fields()
	for i, f := range o.fields() {
		if f.Text() != nf[i].Text() {
			out = append(out, f.Name)
		}
	}
	return out
}

// FieldText returns the old and new value of a differing field for display;
// an empty value shows as "(none)".
func (dc DecisionChange) FieldText(name string) (old, new string) {
	get := func(o Outcome) string {
		for _, f := range o.fields() {
			if f.Name == name {
				if s := fmt.Sprint(f.Value); s != "" && s != "0" {
					return s
				}
			}
		}
		return "(none)"
	}
	return get(dc.Old), get(dc.New)
}
