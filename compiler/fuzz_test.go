package compiler

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipfront/sipfront/compiler/graph"
)

// FuzzCompile compiles arbitrary bytes as a policy file next to the
// example's CSV tables: lang and the compiler must not panic on any input,
// and a policy that compiles must decide a request without panicking.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		"proxy {\n  listen = [\"udp:127.0.0.1:5060\"]\n}\npool \"p\" {\n  member \"m\" { uri = \"sip:10.0.0.1\" }\n}\nroute \"r\" { to = pool.p }\n",
		"trusted \"t\" { sources = [\"10.0.0.0/8\"] }\nflood { exempt = [trusted.t]\n action = \"filter\" }\nfilter \"f\" {\n  when = \"flooding()\"\n  drop = true\n}\n",
		"aliases \"a\" {\n  file = \"dids.csv\"\n}\nprefixes \"p\" {\n  file = \"did-owners.csv\"\n}\n",
		"limits { max_via = 10 }\nproxy { server_header = \"x\" }\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	copyExample(f, dir)
	for _, n := range []string{"edge.hcl", "pbx.hcl", "pstn.hcl", "routes.hcl", "platform.test.hcl"} {
		os.Remove(filepath.Join(dir, n))
	}
	req := &graph.Request{Method: "INVITE", RURI: graph.URI{Scheme: "sip", User: "+15551230001", Host: "example.com"},
		Source: graph.Source{IP: netip.MustParseAddr("192.0.2.1"), Port: 5060, Transport: "udp"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "fuzz.hcl"), data, 0o644); err != nil {
			t.Skip(err)
		}
		p, diags := Load(dir)
		if diags.HasErrors() || p.Graph == nil {
			return
		}
		p.Graph.Decide(req, graph.StaticState{}, nil)
	})
}

// FuzzCondition compiles arbitrary CEL and evaluates what compiles: no
// panic on any expression.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		"method == 'INVITE'", "user_agent.contains('friendly-scanner')", "flooding() && !source_in('asterisk')",
		"ruri.params['transport'] == 'tcp'", "header('X') == '' || has_header('Route')", "size(ruri.user) > 3",
		"ruri.user.matches('^[+][0-9]+$')", "1/0 == 1", "source.port + 1 > 0",
	} {
		f.Add(s)
	}
	g := &graph.Graph{Trusted: []*graph.Trusted{{ID: "trusted.asterisk", Name: "asterisk"}}}
	if err := g.Seal(); err != nil {
		f.Fatal(err)
	}
	req := &graph.Request{Method: "INVITE", Source: graph.Source{IP: netip.MustParseAddr("192.0.2.1")}}
	f.Fuzz(func(t *testing.T, src string) {
		cond, errs := graph.CompileCondition(src)
		if errs != nil {
			return
		}
		g2 := *g
		g2.Filters = []*graph.Filter{{ID: "filter.f", Name: "f", When: cond, Action: graph.FilterDrop}}
		if err := g2.Seal(); err != nil {
			return
		}
		g2.Decide(req, graph.StaticState{}, nil)
	})
}
