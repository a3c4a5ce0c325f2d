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
	Reason      string   `json:"reason,omitempty"`
	TargetURI   string   `json:"target_uri,omitempty"`
	AuthUser    string   `json:"auth_user,omitempty"`
	AuthTrusted graph.ID `json:"auth_trusted,omitempty"`
	// AuthOutcome is the auth step's verdict ("trusted", "ok",
	// "challenge", "stale", "forbidden", "throttled", "unavailable") and
	// AuthReason why, when an auth stage applied.
	AuthOutcome string `json:"auth_outcome,omitempty"`
	AuthReason  string `json:"auth_reason,omitempty"`
	AliasFrom   string `json:"alias_from,omitempty"`
	// Number and Exit are what the chosen carrier receives and the
	// socket the call leaves from; Candidates the least-cost order.
	Number     string             `json:"number,omitempty"`
	Exit       string             `json:"exit,omitempty"`
	Candidates []explainCandidate `json:"candidates,omitempty"`
	Logged     []graph.ID         `json:"logged,omitempty"`
	Fork       *explainFork       `json:"fork,omitempty"`
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
		e.Decision.Number = d.Carrier.Number(req.RURI.User)
		e.Decision.Exit = exitText(d.Carrier.Exit)
	}
	for i := range d.Candidates {
		e.Decision.Candidates = append(e.Decision.Candidates, newExplainCandidate(&d.Candidates[i], d.Carrier, req.RURI.User))
	}
	if d.AuthTrusted != nil {
		e.Decision.AuthTrusted = d.AuthTrusted.ID
	}
	e.Decision.AuthOutcome, e.Decision.AuthReason = authOutcomeText(d)
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

// authOutcomeText names the auth step's outcome for explain: trusted
// source, authenticated, or what the caller gets instead.
func authOutcomeText(d graph.Decision) (outcome, reason string) {
	switch {
	case d.Auth == nil:
		return "", ""
	case d.AuthTrusted != nil:
		return "trusted", ""
	}
	return d.AuthVerdict.Outcome.String(), d.AuthVerdict.Reason
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
	if r.Number != "" {
		s += fmt.Sprintf("; sends %s from %s", r.Number, r.Exit)
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
	switch r.AuthOutcome {
	case "", "ok", "trusted":
	case "challenge":
		s += fmt.Sprintf(" (%s)", r.AuthReason)
	default:
		s += fmt.Sprintf("; auth %s: %s", r.AuthOutcome, r.AuthReason)
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

// explainCandidate is one carrier of the least-cost order, as explain
// --format json shows it.
type explainCandidate struct {
	Carrier  graph.ID `json:"carrier"`
	Prefix   string   `json:"prefix"`
	Priority int32    `json:"priority"`
	Weight   int      `json:"weight"`
	Taken    bool     `json:"taken"`
	Skipped  string   `json:"skipped,omitempty"`
	Quality  string   `json:"quality"`
	Number   string   `json:"number"`
	Exit     string   `json:"exit"`
}

func newExplainCandidate(c *graph.Candidate, taken *graph.Carrier, user string) explainCandidate {
	ec := explainCandidate{Carrier: c.Carrier.ID, Prefix: c.Prefix, Priority: c.Priority, Weight: c.Carrier.Weight,
		Taken: c.Carrier == taken, Quality: c.Status.Quality.String(), Number: c.Carrier.Number(user), Exit: exitText(c.Carrier.Exit)}
	if !c.Eligible() {
		ec.Skipped = c.Status.Skip.String()
	}
	return ec
}

// exitText names the socket a carrier's traffic leaves from.
func exitText(l graph.Listen) string {
	if l.Addr == "" {
		return "the listener"
	}
	return l.Transport + ":" + l.Addr
}
