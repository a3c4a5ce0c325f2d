package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/compiler/plan"
)

// explanation is a decision with the trace that led to it, in the form
// both explain renderers (human and JSON) read.
type explanation struct {
	Request  string        `json:"request"`
	Steps    []explainStep `json:"steps"`
	Decision explainResult `json:"decision"`
}

// explainStep is one trace step with the stage it belongs to.
type explainStep struct {
	Stage   string   `json:"stage"`
	Node    graph.ID `json:"node,omitempty"`
	Expr    string   `json:"expr,omitempty"`
	Matched bool     `json:"matched"`
	Error   string   `json:"error,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// explainResult is the final decision.
type explainResult struct {
	plan.Outcome
	Reason      string       `json:"reason,omitempty"`
	TargetURI   string       `json:"target_uri,omitempty"`
	AuthUser    string       `json:"auth_user,omitempty"`
	AuthTrusted graph.ID     `json:"auth_trusted,omitempty"`
	AliasFrom   string       `json:"alias_from,omitempty"`
	Logged      []graph.ID   `json:"logged,omitempty"`
	Fork        *explainFork `json:"fork,omitempty"`
}

// newExplanation pairs each trace step with its stage; notes inherit the
// stage of the condition step before them.
func newExplanation(g *graph.Graph, summary string, req *graph.Request, tr *graph.Trace, d graph.Decision) explanation {
	e := explanation{Request: summary, Steps: []explainStep{}}
	stage := ""
	for _, s := range tr.Steps {
		if s.Expr != "" {
			stage = stageOf(g, s.Node)
		}
		st := stage
		if st == "" {
			st = "routes"
		}
		e.Steps = append(e.Steps, explainStep{Stage: st, Node: s.Node, Expr: s.Expr, Matched: s.Matched, Error: s.Err, Note: s.Note})
	}
	e.Decision = explainResult{Outcome: plan.NewOutcome(d, req), Reason: d.Reason, AuthUser: d.AuthUser, AliasFrom: d.AliasFrom}
	switch {
	case d.Member != nil:
		e.Decision.TargetURI = d.Member.URI
	case d.Carrier != nil:
		e.Decision.TargetURI = d.Carrier.URI
	}
	if d.AuthTrusted != nil {
		e.Decision.AuthTrusted = d.AuthTrusted.ID
	}
	for _, f := range d.Logged {
		e.Decision.Logged = append(e.Decision.Logged, f.ID)
	}
	return e
}

// stageOf names the stage a checked node belongs to (graph.Kind.Stage);
// the nodes a route reads count as routes.
func stageOf(g *graph.Graph, id graph.ID) string {
	if n, ok := g.Node(id).(graph.Node); ok && n.Kind().Stage() != graph.StageNone {
		return string(n.Kind().Stage())
	}
	return string(graph.StageRoutes)
}

var stageTitles = map[string]string{
	string(graph.StageFilters): "Filters (first match wins)",
	string(graph.StageAuth):    "Auth",
	string(graph.StageAliases): "Aliases (DID mapping)",
	string(graph.StageRoutes):  "Routes (first match wins)",
}

// writeExplanation renders the path a request takes, stage by stage:
// every condition with its result, the notes of what each node did, then
// the decision.
func writeExplanation(w io.Writer, e explanation) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Request: %s\n", e.Request)
	width := 0
	for _, s := range e.Steps {
		width = max(width, len(s.Node))
	}
	stage, last := "", graph.ID("")
	for _, s := range e.Steps {
		if s.Stage != stage {
			stage = s.Stage
			fmt.Fprintf(&b, "\n%s\n", stageTitles[stage])
		}
		if s.Expr != "" {
			fmt.Fprintf(&b, "  %-8s  %-*s  %s\n", matchWord(s), width, s.Node, s.Expr)
			if s.Error != "" {
				fmt.Fprintf(&b, "  %-8s  %-*s  error: %s (counts as no match)\n", "", width, "", s.Error)
			}
			last = s.Node
			continue
		}
		note := s.Note
		if s.Node != "" && s.Node != last {
			note = string(s.Node) + ": " + note
		}
		fmt.Fprintf(&b, "  %-8s  %-*s  -> %s\n", "", width, "", note)
	}
	writeFork(&b, e.Decision.Fork)
	fmt.Fprintf(&b, "\nDecision: %s\n", decisionText(e.Decision))
	_, err := io.WriteString(w, b.String())
	return err
}

func matchWord(s explainStep) string {
	if s.Matched {
		return "match"
	}
	return "no match"
}

func decisionText(r explainResult) string {
	s := r.Outcome.String()
	if r.Reason != "" {
		s += fmt.Sprintf(" (%s)", r.Reason)
	}
	if r.TargetURI != "" {
		s += " at " + r.TargetURI
	}
	if r.AliasFrom != "" {
		s += fmt.Sprintf("; R-URI user %s -> %s", r.AliasFrom, r.RURI)
	}
	if r.AuthUser != "" {
		s += "; authenticated as " + r.AuthUser
	}
	if r.AuthTrusted != "" {
		s += "; trusted by " + string(r.AuthTrusted)
	}
	if len(r.Logged) > 0 {
		ids := make([]string, len(r.Logged))
		for i, id := range r.Logged {
			ids[i] = string(id)
		}
		s += "; logged by " + strings.Join(ids, ", ")
	}
	return s
}

// requestSummary describes a request in one line for explain and plan:
// "INVITE sip:+15551230001@example.com from udp:198.51.100.7:5060".
func requestSummary(r *graph.Request) string {
	s := r.Method + " " + uriText(r.RURI)
	if r.Source.IP.IsValid() {
		s += fmt.Sprintf(" from %s:%s:%d", r.Source.Transport, r.Source.IP, r.Source.Port)
	}
	if r.UserAgent != "" {
		s += fmt.Sprintf(" (User-Agent %q)", r.UserAgent)
	}
	return s
}

func uriText(u graph.URI) string {
	scheme := u.Scheme
	if scheme == "" {
		scheme = "sip"
	}
	s := scheme + ":"
	if u.User != "" {
		s += u.User + "@"
	}
	s += u.Host
	if u.Port != 0 {
		s += fmt.Sprintf(":%d", u.Port)
	}
	return s
}
