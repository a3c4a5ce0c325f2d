package graph

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fastConditions are conditions of every shape the fast path compiles
// (native) and of shapes it leaves to cel-go.
var fastConditions = []struct {
	expr   string
	native bool
}{
	{"true", true},
	{"false", true},
	{"in_dialog", true},
	{"method == 'INVITE'", true},
	{"method != 'ACK'", true},
	{"'INVITE' == method", true},
	{"method == ruri.user", true},
	{"from.user != to.user", true},
	{"method < 'M'", true},
	{"ruri.user >= '+1555'", true},
	{"ruri.host > from.host", true},
	{"user_agent <= ''", true},
	{"method in ['INVITE', 'ACK', 'CANCEL', 'REGISTER', 'OPTIONS', 'BYE']", true},
	{"!(method in ['INVITE', 'ACK'])", true},
	{"method in []", true},
	{"ruri.port in [0, 5060, 5061]", true},
	{"'lr' in ruri.params", true},
	{"'LR' in to.params", true},
	{"method in from.params", true},
	{"user_agent.contains('friendly-scanner')", true},
	{"user_agent.contains('')", true},
	{"ruri.user.startsWith('+')", true},
	{"ruri.host.endsWith('.com')", true},
	{"from.host.contains(ruri.host)", true},
	{"call_id.startsWith(auth_user)", true},
	{"from.host.matches('^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}')", true},
	{"ruri.user.matches('^[+][0-9]+$')", true},
	{"matches(ruri.user, '^[0-9]{3}$')", true},
	{"user_agent.matches('(?i)scanner|sipvicious')", true},
	{"ruri.user.matches('é+')", true},
	{"source.ip == '10.0.0.12'", true},
	{"source.ip.startsWith('10.')", true},
	{"source.ip == 'invalid IP'", true},
	{"source.port == 5060 && source.transport == 'udp'", true},
	{"ruri.port != 0", true},
	{"ruri.port < 1024", true},
	{"source.port >= ruri.port", true},
	{"to.port > 5060", true},
	{"from.port <= -1", true},
	{"ruri.scheme == 'sips'", true},
	{"in_dialog == false", true},
	{"in_dialog != has_header('Route')", true},
	{"!in_dialog && has_header('Route') && method != 'ACK'", true},
	{"!in_dialog && method in ['INVITE', 'REGISTER']", true},
	{"has_header('route')", true},
	{"header('Route') == '<sip:x>'", true},
	{"header('User-Agent') == user_agent", true},
	{"header('call-id').contains('@')", true},
	{"header(header('X-Indirect')) != ''", true},
	{"is_local(ruri.host) && registered(ruri.user)", true},
	{"is_local('sip.example.com')", true},
	{"registered(from.user) || registered(to.user)", true},
	{"source_in('asterisk')", true},
	{"source_in('nobody')", true},
	{"source_in('asterisk') && ruri.user.startsWith('+')", true},
	{"ruri.user.matches('^[+][0-9]+$') && !source_in('asterisk')", true},
	{"flooding()", true},
	{"flooding() && method == 'REGISTER'", true},
	{"in_dialog ? method == 'BYE' : method == 'INVITE'", true},
	{"(method == 'A' || method == 'B') && !(ruri.user == '' || in_dialog)", true},
	{"auth_user == '' || auth_user == from.user", true},

	// Left to cel-go: they may fail (absent parameter), or use what the
	// fast path does not know.
	{"ruri.params.transport == 'tcp'", false},
	{"ruri.params['transport'] == 'tcp' || method == 'INVITE'", false},
	{"method == 'INVITE' && ruri.params.lr == ''", false},
	{"has(ruri.user)", false},
	{"size(ruri.user) > 3", false},
	{"dyn(ruri.port) == 5060u", false},
	{"dyn(ruri.port) == 5060.0", false},
	{"dyn(method) == 1 || true", false},
	{"int(ruri.user) > 5", false},
	{"ruri.user + '@' + ruri.host == 'bob@example.com'", false},
	{"['INVITE', 'ACK'].exists(m, m == method)", false},
	{"ruri.user.matches(from.user)", false},
	{"method in ['INVITE', 1]", false},
	{"ruri.params.size() == 2", false},
	{"1 / (ruri.port - ruri.port) == 0 || true", false},
	{"source.ip == '10.0.0.12' && ruri.params.x == 'y'", false},
}

// fastRequests cover absent fields, unicode, invalid UTF-8, IPv6, an
// absent source and parameters in several cases.
func fastRequests() []Request {
	return []Request{
		{},
		{
			Method:    "INVITE",
			RURI:      URI{Scheme: "sip", User: "+15551230001", Host: "example.com", Params: Params{{"transport", "tcp"}, {"lr", ""}}},
			From:      URI{Scheme: "sip", User: "alice", Host: "192.0.2.1", Port: 5060},
			To:        URI{Scheme: "sip", User: "+15551230001", Host: "example.com", Params: Params{{"LR", ""}}},
			Source:    Source{IP: netip.MustParseAddr("10.0.0.12"), Port: 5060, Transport: "udp"},
			UserAgent: "friendly-scanner",
			CallID:    "abc@10.0.0.12",
			Headers:   HeaderList{{"Route", "<sip:x>"}, {"X-Indirect", "Route"}},
		},
		{
			Method:   "BYE",
			RURI:     URI{Scheme: "sips", User: "bob", Host: "sip.example.com", Port: 5061},
			From:     URI{User: "bob", Host: "example.com", Params: Params{{"BYE", "1"}}},
			To:       URI{User: "bob", Host: "example.com", Port: 5062},
			Source:   Source{IP: netip.MustParseAddr("2001:db8::1"), Port: 5062, Transport: "tls"},
			InDialog: true,
			AuthUser: "bob",
			CallID:   "bob",
		},
		{
			Method:    "REGISTER",
			RURI:      URI{User: "ééé", Host: "例え.jp"},
			From:      URI{User: "\xff\xfe", Host: "1.2.3"},
			Source:    Source{IP: netip.MustParseAddr("198.51.100.7"), Port: 1, Transport: "tcp"},
			UserAgent: "SIPVicious",
			Headers:   HeaderList{{"route", ""}},
		},
		{
			Method: "A",
			RURI:   URI{User: "123", Host: "evil.com", Port: -1},
			From:   URI{User: "123", Port: -1},
			Source: Source{IP: netip.MustParseAddr("10.0.0.255"), Transport: "ws"},
		},
	}
}

// fastGraphAndStates is the graph and the states the conditions run in.
func fastGraphAndStates(t testing.TB) (*Graph, []State) {
	g := &Graph{
		Proxy:   Proxy{Domains: []string{"example.com"}, Advertise: "sip.example.com:5060"},
		Trusted: []*Trusted{{ID: "trusted.asterisk", Name: "asterisk", Sources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}},
	}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	users := StaticState{Users: map[string]bool{"alice": true, "bob": true, "+15551230001": true}}
	return g, []State{nil, StaticState{}, users,
		WithFlooding(users, blockedSet{netip.MustParseAddr("198.51.100.7"): true, netip.MustParseAddr("10.0.0.12"): true})}
}

// agree checks that cond gives the same value and error-ness on the fast
// path as on cel-go for every request and state.
func agree(t testing.TB, cond *Condition, g *Graph, states []State) {
	t.Helper()
	for i, req := range fastRequests() {
		for j, st := range states {
			ctx := &evalContext{req: &req, graph: g, state: st}
			want, werr := cond.evalCEL(ctx)
			got, gerr := cond.eval(ctx)
			if got != want || (gerr != nil) != (werr != nil) || (gerr != nil && gerr.Error() != werr.Error()) {
				t.Errorf("%s, request %d, state %d: got %v, %v; cel-go says %v, %v", cond.Source, i, j, got, gerr, want, werr)
			}
		}
	}
}

// TestFastPathAgreesWithCEL checks that the fast path takes the shapes it
// should, leaves the others to cel-go, and gives cel-go's result.
func TestFastPathAgreesWithCEL(t *testing.T) {
	g, states := fastGraphAndStates(t)
	for _, c := range fastConditions {
		cond, errs := CompileCondition(c.expr)
		if errs != nil {
			t.Fatalf("%s: %v", c.expr, errs)
		}
		if native := cond.fast != nil; native != c.native {
			t.Errorf("%s: on the fast path %v, want %v", c.expr, native, c.native)
		}
		agree(t, cond, g, states)
	}
}

// TestFastPathRandomConditions combines the conditions above with !, &&,
// || and ?: at random (a bounded count): a combination is native exactly
// when all its parts are, and agrees with cel-go either way, including
// CEL's error rules for && and || when a part fails.
func TestFastPathRandomConditions(t *testing.T) {
	g, states := fastGraphAndStates(t)
	rng := rand.New(rand.NewPCG(11, 1))
	var gen func(depth int) (string, bool)
	gen = func(depth int) (string, bool) {
		if depth == 0 || rng.IntN(3) == 0 {
			c := fastConditions[rng.IntN(len(fastConditions))]
			return "(" + c.expr + ")", c.native
		}
		a, na := gen(depth - 1)
		b, nb := gen(depth - 1)
		switch rng.IntN(4) {
		case 0:
			return "!" + a, na
		case 1:
			return a + " && " + b, na && nb
		case 2:
			return a + " || " + b, na && nb
		}
		c, nc := gen(depth - 1)
		return "(" + a + " ? " + b + " : " + c + ")", na && nb && nc
	}
	for range 400 {
		expr, native := gen(3)
		cond, errs := CompileCondition(expr)
		if errs != nil {
			t.Fatalf("%s: %v", expr, errs)
		}
		if (cond.fast != nil) != native {
			t.Errorf("%s: on the fast path %v, want %v", expr, cond.fast != nil, native)
		}
		agree(t, cond, g, states)
	}
}

// whenRE finds the conditions written in policies: when = "..." in HCL
// files and in the hcl blocks of the docs.
var whenRE = regexp.MustCompile(`\bwhen\s*=\s*("(?:[^"\\]|\\.)*")`)

// docFenceRE and docSpanRE find the other places the docs show a
// condition: the lines of fenced blocks and inline code spans (most are
// not conditions; those do not compile and are passed over).
var (
	docFenceRE = regexp.MustCompile("(?ms)^```[a-z]*\n(.*?)^```")
	docSpanRE  = regexp.MustCompile("`([^`]+)`")
)

// policyConditions returns the conditions written in src: when = "..."
// everywhere, and in docs also code lines and spans.
func policyConditions(src string, doc bool) []string {
	var out []string
	for _, m := range whenRE.FindAllStringSubmatch(src, -1) {
		if expr, err := strconv.Unquote(m[1]); err == nil { // else an HCL escape Go does not share; none today
			out = append(out, expr)
		}
	}
	if !doc {
		return out
	}
	for _, m := range docFenceRE.FindAllStringSubmatch(src, -1) {
		for _, line := range strings.Split(m[1], "\n") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	for _, m := range docSpanRE.FindAllStringSubmatch(docFenceRE.ReplaceAllString(src, ""), -1) {
		out = append(out, strings.Join(strings.Fields(m[1]), " ")) // a span may break across lines
	}
	return out
}

// TestFastPathOnExamplesAndDocs runs every condition of examples/, docs/
// and the README on both paths; those of examples/ must all be on the fast path,
// which is what the decision benchmarks measure.
func TestFastPathOnExamplesAndDocs(t *testing.T) {
	g, states := fastGraphAndStates(t)
	examples, _ := filepath.Glob("../../examples/*/*.hcl")
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append(docs, "../../README.md")
	total, native := 0, 0
	for _, file := range append(examples, docs...) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		isDoc := strings.HasSuffix(file, ".md")
		for _, expr := range policyConditions(string(src), isDoc) {
			cond, errs := CompileCondition(expr)
			if errs != nil { // prose, or a condition shown as invalid on purpose
				continue
			}
			total++
			if cond.fast != nil {
				native++
			} else if !isDoc {
				t.Errorf("%s: %s is not on the fast path", file, expr)
			}
			agree(t, cond, g, states)
		}
	}
	t.Logf("%d conditions in examples/ and docs/, %d on the fast path", total, native)
	if total < 30 {
		t.Errorf("found %d conditions in examples/ and docs/, expected more", total)
	}
}

// TestDecideSameWithoutFastPath runs whole decisions, with their traces,
// on the fast path and again with every condition on cel-go: the
// decisions and the explain steps must be the same.
func TestDecideSameWithoutFastPath(t *testing.T) {
	g := benchGraph(t)
	var conds []*Condition
	for _, f := range g.Filters {
		conds = append(conds, f.When)
	}
	for _, r := range g.Routes {
		if r.When != nil {
			conds = append(conds, r.When)
		}
	}
	requests := append(fastRequests(), benchRequest())
	scanner := benchRequest()
	scanner.UserAgent = "friendly-scanner"
	requests = append(requests, scanner)
	decide := func(req Request) (Decision, []Step) {
		var tr Trace
		d := g.Decide(&req, StaticState{}, &tr)
		return d, tr.Steps
	}
	for i, req := range requests {
		fastD, fastSteps := decide(req)
		saved := make([]boolFn, len(conds))
		for j, c := range conds {
			if c.fast == nil {
				t.Fatalf("%s is not on the fast path", c.Source)
			}
			saved[j], c.fast = c.fast, nil
		}
		celD, celSteps := decide(req)
		for j, c := range conds {
			c.fast = saved[j]
		}
		if fastD.Action != celD.Action || fastD.Status != celD.Status || fastD.Filter != celD.Filter ||
			fastD.Route != celD.Route || fastD.Target() != celD.Target() {
			t.Errorf("request %d: fast path decided %v %v %q, cel-go %v %v %q", i,
				fastD.Action, fastD.Status, fastD.Target(), celD.Action, celD.Status, celD.Target())
		}
		if !slices.Equal(fastSteps, celSteps) {
			t.Errorf("request %d: trace\n%v\nwith cel-go\n%v", i, fastSteps, celSteps)
		}
	}
}
