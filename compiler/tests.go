package compiler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/lang"
)

// Test is a test block: a request and the expected decision.
type Test struct {
	Name    string
	Pos     graph.Pos
	Range   hcl.Range
	Request RequestFields
	Expect  Expect
}

// Expect is a test's expect block; only the set (non-zero) fields are
// compared.
type Expect struct {
	// Action is relay, reply, drop, challenge or register.
	Action string
	// By is the filter that replied or dropped.
	By graph.ID
	// Route is the matched route.
	Route graph.ID
	// Target is the member or carrier chosen, or "registrar".
	Target graph.ID
	// Status is the reply status.
	Status int
	// RURI is the R-URI user after DID mapping (expect { ruri_user = ... }).
	RURI string
	// Carriers is the expected failover order of the eligible carriers;
	// Number what the first receives.
	Carriers []graph.ID
	Number   string
}

// TestResult is the outcome of one test.
type TestResult struct {
	Test     *Test
	Decision graph.Decision
	// Failures lists each mismatch, such as "target: expected
	// pool.asterisk.member.ast2, decided pool.asterisk.member.ast1".
	Failures []string
}

// Passed reports whether the decision met every expectation.
func (r TestResult) Passed() bool { return len(r.Failures) == 0 }

// RunTest decides the test's request on g and compares the decision with
// the expectations.
func RunTest(g *graph.Graph, t *Test) TestResult {
	res := TestResult{Test: t}
	req, st, err := t.Request.Request()
	if err != nil {
		res.Failures = []string{"request: " + err.Error()}
		return res
	}
	d := g.Decide(req, st, nil)
	res.Decision = d
	e := t.Expect
	check := func(what, want, got string) {
		if want != "" && want != got {
			res.Failures = append(res.Failures, fmt.Sprintf("%s: expected %s, decided %s", what, want, orNone(got)))
		}
	}
	check("action", e.Action, d.Action.String())
	if d.Filter != nil {
		check("by", string(e.By), string(d.Filter.ID))
	} else {
		check("by", string(e.By), "")
	}
	route := ""
	if d.Route != nil {
		route = string(d.Route.ID)
	}
	check("route", string(e.Route), route)
	check("target", string(e.Target), string(d.Target()))
	if e.Status != 0 && e.Status != d.Status {
		res.Failures = append(res.Failures, fmt.Sprintf("status: expected %d, decided %s", e.Status, orNone(statusText(d.Status))))
	}
	check("ruri_user", e.RURI, req.RURI.User)
	if e.Carriers != nil {
		check("carriers", idList(e.Carriers), idList(eligible(d.Candidates)))
	}
	if d.Carrier != nil {
		check("number", e.Number, d.Carrier.Number(req.RURI.User))
	} else {
		check("number", e.Number, "")
	}
	return res
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func statusText(s int) string {
	if s == 0 {
		return ""
	}
	return fmt.Sprint(s)
}

var actions = []string{"relay", "reply", "drop", "challenge", "register"}

// tests converts the test blocks, checking their references against the
// sealed graph and their requests for parse errors.
func (c *compiler) tests() []*Test {
	var out []*Test
	for _, lt := range c.cfg.Tests {
		if lt.Request == nil || lt.Expect == nil {
			continue
		}
		t := &Test{Name: lt.Name, Pos: pos(lt.Block), Range: lt.DeclRange}
		c.testRequest(lt.Request, &t.Request)
		c.testExpect(lt.Expect, &t.Expect)
		out = append(out, t)
	}
	return out
}

func (c *compiler) testRequest(r *lang.TestRequest, f *RequestFields) {
	*f = RequestFields{Method: r.Method.Value, RURI: r.RURI.Value, From: r.From.Value, To: r.To.Value,
		UserAgent: r.UserAgent.Value, Source: r.Source.Value, CallID: r.CallID.Value, InDialog: r.InDialog.Value,
		Headers: r.Headers.Value, AuthUser: r.AuthUser.Value, Registered: r.Registered.Values()}
	for _, v := range []lang.Value[string]{r.RURI, r.From, r.To} {
		if _, err := ParseURI(v.Value); v.Set && err != nil {
			c.errorf(v.Range, "Invalid SIP URI", "%s. Write a SIP URI such as \"sip:+15551230001@example.com\".", lang.UpperFirst(err.Error()))
		}
	}
	if _, err := graph.ParseSource(r.Source.Value); r.Source.Set && err != nil {
		c.errorf(r.Source.Range, "Invalid Source", "%q is not a source address. Write ip:port, optionally with a transport, such as \"198.51.100.7:5060\" or \"tcp:10.0.0.11:5060\".", r.Source.Value)
	}
	for _, d := range r.AtLimit {
		if _, ok := c.g.Node(graph.ID(d.Path)).(*graph.Carrier); !ok {
			c.errorf(d.Range, "Unknown Carrier", "%s is not a carrier. Write carrier.NAME.", d.Path)
			continue
		}
		f.AtLimit = append(f.AtLimit, d.Path)
	}
	for _, d := range r.Down {
		switch c.g.Node(graph.ID(d.Path)).(type) {
		case *graph.Member, *graph.Carrier:
			f.Down = append(f.Down, d.Path)
		default:
			c.errorf(d.Range, "Unknown Member Or Carrier", "%s is neither a pool member nor a carrier. Write pool.NAME.member.NAME or carrier.NAME.", d.Path)
		}
	}
}

func (c *compiler) testExpect(e *lang.TestExpect, x *Expect) {
	x.Action, x.Status, x.RURI = e.Action.Value, e.Status.Value, e.RURIUser.Value
	if e.Action.Set && !slices.Contains(actions, e.Action.Value) {
		c.errorf(e.Action.Range, "Invalid Action", "%q is not a decision; use one of %s.%s", e.Action.Value, oneOf(actions), suggest(e.Action.Value, actions))
	}
	x.Number = e.Number.Value
	for _, r := range e.Carriers {
		if id := c.expectRef(r, "carrier.", "a carrier, such as carrier.acme"); id != "" {
			x.Carriers = append(x.Carriers, id)
		}
	}
	if len(e.Carriers) == 0 && e.Carriers != nil {
		x.Carriers = []graph.ID{}
	}
	x.By = c.expectRef(e.By, "filter.", "a filter, such as filter.scanners")
	x.Route = c.expectRef(e.Route, "route.", "a route, such as route.did")
	if e.Target.Set {
		switch c.g.Node(graph.ID(e.Target.Path)).(type) {
		case *graph.Member, *graph.Carrier, *graph.Registrar:
			x.Target = graph.ID(e.Target.Path)
		default:
			c.errorf(e.Target.Range, "Unknown Target", "%s is not a target. Write pool.NAME.member.NAME, carrier.NAME or registrar.", e.Target.Path)
		}
	}
}

// expectRef checks an expect reference names an existing node of a kind.
func (c *compiler) expectRef(r lang.Ref, prefix, what string) graph.ID {
	if !r.Set {
		return ""
	}
	if !strings.HasPrefix(r.Path, prefix) || c.g.Node(graph.ID(r.Path)) == nil {
		c.errorf(r.Range, "Unknown Node", "%s is not declared; this expectation names %s.", r.Path, what)
		return ""
	}
	return graph.ID(r.Path)
}

// eligible lists the candidates that could take the call, in order: the
// carriers a call tries on failover.
func eligible(list []graph.Candidate) []graph.ID {
	out := []graph.ID{}
	for i := range list {
		if list[i].Eligible() {
			out = append(out, list[i].Carrier.ID)
		}
	}
	return out
}

func idList(ids []graph.ID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return "[" + strings.Join(s, ", ") + "]"
}
