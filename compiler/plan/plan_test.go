package plan

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// testGraph builds a small sealed platform graph; mutate edits it before
// sealing so each case can express one policy edit.
func testGraph(t *testing.T, mutate func(g *graph.Graph)) *graph.Graph {
	t.Helper()
	cond := func(src string) *graph.Condition {
		c, errs := graph.CompileCondition(src)
		if errs != nil {
			t.Fatalf("%s: %v", src, errs)
		}
		return c
	}
	pool := &graph.Pool{ID: "pool.asterisk", Name: "asterisk", Balance: graph.BalanceRoundRobin,
		Failover: graph.Failover{On: []int{503}, MaxTries: 2}}
	for _, m := range []struct{ name, uri string }{{"ast1", "sip:10.0.0.11:5060"}, {"ast2", "sip:10.0.0.12:5060"}} {
		pool.Members = append(pool.Members, &graph.Member{ID: graph.ID("pool.asterisk.member." + m.name), Name: m.name, URI: m.uri, Weight: 1})
	}
	owners := graph.NewPrefixTable("prefixes.did-owners", "did-owners", graph.Pos{}, "did-owners.csv",
		[]graph.PrefixRow{{Prefix: "+1555123", Value: "ast2"}, {Prefix: "+1555124", Value: "ast1"}})
	g := &graph.Graph{
		Proxy: graph.Proxy{Domains: []string{"example.com"}, Listen: []graph.Listen{{Transport: "udp", Addr: "0.0.0.0:5060"}}},
		Filters: []*graph.Filter{
			{ID: "filter.methods", Name: "methods", When: cond("!(method in ['INVITE', 'ACK', 'BYE'])"), Action: graph.FilterReply, Status: 405, Reason: "Method not allowed"},
			{ID: "filter.scanners", Name: "scanners", When: cond("user_agent.contains('friendly-scanner')"), Action: graph.FilterDrop},
		},
		Trusted:  []*graph.Trusted{{ID: "trusted.asterisk", Name: "asterisk", Sources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}},
		Pools:    []*graph.Pool{pool},
		Prefixes: []*graph.PrefixTable{owners},
		Carriers: []*graph.Carrier{{ID: "carrier.acme", Name: "acme", URI: "sip:gw1.acme.example", Prefixes: []graph.CarrierPrefix{{Prefix: "+1", Priority: 1}}, Priority: 1,
			Auth: &graph.CarrierAuth{Username: "trunk01", Password: "s3cret"}}},
		Routes: []*graph.Route{
			{ID: "route.pstn", Name: "pstn", When: cond("source_in('asterisk')"), Target: graph.TargetCarriers},
			{ID: "route.did", Name: "did", When: cond("ruri.user.startsWith('+')"), Target: graph.TargetPool, Pool: pool, Select: owners},
			{ID: "route.default", Name: "default", Target: graph.TargetPool, Pool: pool},
		},
	}
	if mutate != nil {
		mutate(g)
	}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	return g
}

func member(g *graph.Graph, name string) *graph.Member { return g.Pools[0].Member(name) }

// summarise renders changes compactly: "~pool.asterisk.member.ast2 weight: 1 -> 3".
func summarise(changes []Change) []string {
	var out []string
	for _, c := range changes {
		s := c.Action.Symbol() + string(c.ID)
		for _, a := range c.Attrs {
			if c.Action == Update {
				s += " " + a.Name + ": " + a.OldText() + " -> " + a.NewText()
			} else {
				s += " " + a.Name
			}
		}
		for _, r := range c.Rows {
			s += " row" + r.Action.Symbol() + r.Key
		}
		out = append(out, s)
	}
	return out
}

func TestDiff(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(g *graph.Graph)
		want   []string
	}{
		{"no change", nil, nil},
		{"member weight and uri", func(g *graph.Graph) {
			g.Pools[0].Members[1].Weight = 3
			g.Pools[0].Members[1].URI = "sip:10.0.0.22:5060"
		}, []string{`~pool.asterisk.member.ast2 uri: "sip:10.0.0.12:5060" -> "sip:10.0.0.22:5060" weight: 1 -> 3`}},
		{"member added", func(g *graph.Graph) {
			g.Pools[0].Members = append(g.Pools[0].Members, &graph.Member{ID: "pool.asterisk.member.ast3", Name: "ast3", URI: "sip:10.0.0.13", Weight: 2, Capacity: map[string]int{"pstn": 100}})
		}, []string{
			`~pool.asterisk members: ["ast1", "ast2"] -> ["ast1", "ast2", "ast3"]`,
			`+pool.asterisk.member.ast3 uri weight capacity`,
		}},
		{"member removed stays in place", func(g *graph.Graph) {
			g.Pools[0].Members = g.Pools[0].Members[:1]
			g.Prefixes[0] = graph.NewPrefixTable("prefixes.did-owners", "did-owners", graph.Pos{}, "did-owners.csv",
				[]graph.PrefixRow{{Prefix: "+1555124", Value: "ast1"}})
		}, []string{
			`~pool.asterisk members: ["ast1", "ast2"] -> ["ast1"]`,
			`-pool.asterisk.member.ast2 uri weight`,
			`~prefixes.did-owners rows: 2 -> 1 row-+1555123`,
		}},
		{"filter swap shows positions", func(g *graph.Graph) {
			g.Filters[0], g.Filters[1] = g.Filters[1], g.Filters[0]
		}, []string{`~filter.scanners position: 2 -> 1`, `~filter.methods position: 1 -> 2`}},
		{"filter inserted first shifts without reorder", func(g *graph.Graph) {
			g.Filters = append([]*graph.Filter{{ID: "filter.new", Name: "new", Action: graph.FilterDrop}}, g.Filters...)
		}, []string{`+filter.new action position`}},
		{"route swap", func(g *graph.Graph) {
			g.Routes[0], g.Routes[1] = g.Routes[1], g.Routes[0]
		}, []string{`~route.did position: 2 -> 1`, `~route.pstn position: 1 -> 2`}},
		{"prefix rows", func(g *graph.Graph) {
			g.Prefixes[0] = graph.NewPrefixTable("prefixes.did-owners", "did-owners", graph.Pos{}, "did-owners.csv",
				[]graph.PrefixRow{{Prefix: "+1555123", Value: "ast1"}, {Prefix: "+1555125", Value: "ast2"}})
			g.Routes[1].Select = g.Prefixes[0]
		}, []string{`~prefixes.did-owners row~+1555123 row-+1555124 row++1555125`}},
		{"password is compared but hidden", func(g *graph.Graph) {
			g.Carriers[0].Auth.Password = "n3w"
		}, []string{`~carrier.acme auth.password: (sensitive) -> (sensitive)`}},
		{"listen needs restart", func(g *graph.Graph) {
			g.Proxy.Listen = append(g.Proxy.Listen, graph.Listen{Transport: "tcp", Addr: "0.0.0.0:5060"})
		}, []string{`~proxy listen: ["udp:0.0.0.0:5060"] -> ["udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"]`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := summarise(Diff(testGraph(t, nil), testGraph(t, tc.mutate)))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestDiffNotes(t *testing.T) {
	renamed := func(g *graph.Graph) {
		m := g.Pools[0].Members[1]
		m.ID, m.Name = "pool.asterisk.member.ast2b", "ast2b"
	}
	changes := Diff(testGraph(t, nil), testGraph(t, renamed))
	var notes []string
	for _, c := range changes {
		notes = append(notes, c.Notes...)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "same uri as pool.asterisk.member.ast2") {
		t.Errorf("notes = %q, want one rename note", notes)
	}
	listen := func(g *graph.Graph) { g.Proxy.Listen = nil }
	changes = Diff(testGraph(t, nil), testGraph(t, listen))
	if len(changes) != 1 || len(changes[0].Notes) != 1 || !strings.Contains(changes[0].Notes[0], "restart") {
		t.Errorf("listen change notes = %+v", changes)
	}
	restart := []struct {
		name   string
		mutate func(*graph.Graph)
		note   string
	}{
		{"advertise", func(g *graph.Graph) { g.Proxy.Advertise = "sbc.example.com:5060" },
			"advertise changes take effect only after a restart, not a reload"},
		{"admin", func(g *graph.Graph) { g.Proxy.Admin = "127.0.0.1:9090" },
			"admin changes take effect only after a restart, not a reload"},
		{"all three", func(g *graph.Graph) {
			g.Proxy.Listen, g.Proxy.Advertise, g.Proxy.Admin = nil, "sbc.example.com", "127.0.0.1:9090"
		}, "listen, advertise and admin changes take effect only after a restart, not a reload"},
		{"ring_timeout reloads", func(g *graph.Graph) { g.Proxy.RingTimeout = 7 * time.Second }, ""},
		{"max_inflight reloads", func(g *graph.Graph) { g.Proxy.MaxInflight = 5 }, ""},
	}
	for _, r := range restart {
		changes := Diff(testGraph(t, nil), testGraph(t, r.mutate))
		if len(changes) != 1 || changes[0].ID != ProxyID {
			t.Errorf("%s: changes = %+v, want one proxy change", r.name, changes)
			continue
		}
		if got := strings.Join(changes[0].Notes, "|"); got != r.note {
			t.Errorf("%s: notes = %q, want %q", r.name, got, r.note)
		}
	}
}

func TestMergeOrder(t *testing.T) {
	got := mergeOrder([]graph.ID{"a", "b", "c", "d"}, []graph.ID{"x", "a", "c", "y"})
	want := "x a b c d y"
	if s := joinIDs(got); s != want {
		t.Errorf("mergeOrder = %s, want %s", s, want)
	}
	got = mergeOrder([]graph.ID{"gone", "a"}, []graph.ID{"a"})
	if s := joinIDs(got); s != "gone a" {
		t.Errorf("mergeOrder = %s, want removed head first", s)
	}
}

func joinIDs(ids []graph.ID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, " ")
}

func probe(name string, req graph.Request, st graph.StaticState) Probe {
	return Probe{Name: name, Origin: "test", Summary: req.Method, Build: func() (*graph.Request, graph.StaticState, error) {
		r := req
		return &r, st, nil
	}}
}

func TestImpact(t *testing.T) {
	did := graph.Request{Method: "INVITE", RURI: graph.URI{User: "+15551230001", Host: "example.com"},
		Source: graph.Source{IP: netip.MustParseAddr("198.51.100.7"), Port: 5060}}
	scanner := graph.Request{Method: "INVITE", UserAgent: "friendly-scanner", Source: did.Source}
	probes := []Probe{probe("did", did, graph.StaticState{}), probe("scanner", scanner, graph.StaticState{})}
	old := testGraph(t, nil)
	moved := testGraph(t, func(g *graph.Graph) {
		g.Prefixes[0] = graph.NewPrefixTable("prefixes.did-owners", "did-owners", graph.Pos{}, "", []graph.PrefixRow{{Prefix: "+1555123", Value: "ast1"}})
		g.Routes[1].Select = g.Prefixes[0]
	})
	changes, err := Impact(old, moved, probes)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Probe.Name != "did" || strings.Join(changes[0].Fields, ",") != "target" {
		t.Fatalf("impact = %+v, want the did probe's target to change", changes)
	}
	if o, n := changes[0].FieldText("target"); o != "pool.asterisk.member.ast2" || n != "pool.asterisk.member.ast1" {
		t.Errorf("target %s -> %s", o, n)
	}
	none, err := Impact(old, testGraph(t, nil), probes)
	if err != nil || len(none) != 0 {
		t.Errorf("same graphs: %+v, %v", none, err)
	}
}

func TestPlanRenderAndExit(t *testing.T) {
	old := testGraph(t, nil)
	p, err := Build("old", old, "new", testGraph(t, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() || p.SummaryLine() != "Plan: 0 to add, 0 to change, 0 to destroy. 0 decisions change." {
		t.Errorf("empty plan: empty=%v %q", p.Empty(), p.SummaryLine())
	}
	p.Sections = append(p.Sections, Section{Key: "drift", Title: "Runtime drift", Changes: true,
		Items: []SectionItem{{Action: Update, ID: "pool.asterisk.member.ast1", Text: "disabled by override"}}})
	if p.Empty() {
		t.Error("a section that counts as change must make the plan non-empty")
	}
	var buf bytes.Buffer
	if err := RenderHuman(&buf, p, RenderOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Runtime drift:") || !strings.Contains(buf.String(), "\x1b[33m~\x1b[0m") {
		t.Errorf("human output lacks section or colour:\n%s", buf.String())
	}
	buf.Reset()
	if err := RenderJSON(&buf, p); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["changes"].([]any); !ok || doc["sections"] == nil || doc["summary"] == nil {
		t.Errorf("json lacks changes list, sections or summary: %s", buf.String())
	}
}

func TestRowSummary(t *testing.T) {
	var rows []RowChange
	for i := 0; i < 25; i++ {
		rows = append(rows, RowChange{Action: Create, Key: string(rune('a' + i)), New: "x"})
	}
	p := &Plan{Old: "o", New: "n", Changes: []Change{{ID: "prefixes.t", Kind: "prefixes", Name: "t", Action: Update, Rows: rows}}}
	var buf bytes.Buffer
	if err := RenderHuman(&buf, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, `+ row "`) != 20 || !strings.Contains(out, "# ... and 5 more row changes") {
		t.Errorf("want 20 rows and a summary:\n%s", out)
	}
}

func TestFormat(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{"a\"b", `"a\"b"`},
		{Ref("pool.asterisk"), "pool.asterisk"},
		{[]int{408, 503}, "[408, 503]"},
		{[]string{"+1"}, `["+1"]`},
		{map[string]int{"vm": 1, "pstn": 100}, "{ pstn = 100, vm = 1 }"},
		{0.3, "0.3"},
		{int64(3600e9), "3600000000000"},
	}
	for _, c := range cases {
		if got := Format(c.v); got != c.want {
			t.Errorf("Format(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
	for d, want := range map[string]string{"1h": "1h", "90m": "90m", "5s": "5s", "250ms": "250ms", "1500ms": "1500ms"} {
		dd, _ := time.ParseDuration(d)
		if got := FormatDuration(dd); got != want {
			t.Errorf("FormatDuration(%s) = %s", d, got)
		}
	}
}
