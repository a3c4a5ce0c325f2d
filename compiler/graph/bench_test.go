package graph

import (
	"net/netip"
	"testing"
)

// benchGraph is a small policy in the shape of the reference platform:
// four filters, one pool selected by prefix, a default route.
func benchGraph(tb testing.TB) *Graph {
	cond := func(src string) *Condition {
		c, errs := CompileCondition(src)
		if errs != nil {
			tb.Fatalf("%s: %v", src, errs)
		}
		return c
	}
	pool := &Pool{ID: "pool.asterisk", Name: "asterisk", Balance: BalanceRoundRobin, Members: []*Member{
		{ID: "pool.asterisk.member.ast1", Name: "ast1", Host: "10.0.0.11", Port: 5060},
		{ID: "pool.asterisk.member.ast2", Name: "ast2", Host: "10.0.0.12", Port: 5060},
	}}
	owners := NewPrefixTable("prefixes.did-owners", "did-owners", Pos{}, "", []PrefixRow{{Prefix: "+1555123", Value: "ast2"}})
	g := &Graph{
		Proxy: Proxy{Domains: []string{"example.com"}},
		Filters: []*Filter{
			{ID: "filter.methods", When: cond("!(method in ['INVITE', 'ACK', 'CANCEL', 'REGISTER', 'OPTIONS', 'BYE'])"), Action: FilterReply, Status: 405},
			{ID: "filter.scanners", When: cond("user_agent.contains('friendly-scanner')"), Action: FilterDrop},
			{ID: "filter.ip-in-from", When: cond("from.host.matches('^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}')"), Action: FilterReply, Status: 403},
			{ID: "filter.preloaded-route", When: cond("!in_dialog && has_header('Route') && method != 'ACK'"), Action: FilterReply, Status: 403},
		},
		Trusted:  []*Trusted{{ID: "trusted.asterisk", Name: "asterisk", Sources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}},
		Pools:    []*Pool{pool},
		Prefixes: []*PrefixTable{owners},
		Routes: []*Route{
			{ID: "route.did", When: cond("ruri.user.matches('^[+][0-9]+$') && !source_in('asterisk')"), Target: TargetPool, Pool: pool, Select: owners},
			{ID: "route.default", Target: TargetPool, Pool: pool},
		},
	}
	if err := g.Seal(); err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestDecideDID(t *testing.T) {
	g := benchGraph(t)
	req := benchRequest()
	d := g.Decide(&req, StaticState{}, nil)
	if d.Action != ActionRelay || d.Route.ID != "route.did" || d.Target() != "pool.asterisk.member.ast2" {
		t.Fatalf("decided %v %v %v", d.Action, d.Route, d.Target())
	}
	req = benchRequest()
	d = g.Decide(&req, StaticState{Down: map[ID]bool{"pool.asterisk.member.ast2": true}}, nil)
	if d.Target() != "pool.asterisk.member.ast1" || d.Owner.ID != "pool.asterisk.member.ast2" {
		t.Fatalf("owner down: decided %v (owner %v)", d.Target(), d.Owner)
	}
	req = benchRequest()
	req.UserAgent = "friendly-scanner"
	var tr Trace
	d = g.Decide(&req, StaticState{}, &tr)
	if d.Action != ActionDrop || d.Filter.ID != "filter.scanners" || len(tr.Steps) != 2 {
		t.Fatalf("scanner: %v %v, %d steps", d.Action, d.Filter, len(tr.Steps))
	}
}

func benchRequest() Request {
	return Request{
		Method:    "INVITE",
		RURI:      URI{Scheme: "sip", User: "+15551230001", Host: "example.com"},
		From:      URI{Scheme: "sip", User: "bob", Host: "example.com"},
		To:        URI{Scheme: "sip", User: "+15551230001", Host: "example.com"},
		Source:    Source{IP: netip.MustParseAddr("198.51.100.7"), Port: 5060, Transport: "udp"},
		UserAgent: "Zoiper",
		CallID:    "abc@host",
		Headers:   HeaderList{{"Contact", "<sip:bob@198.51.100.7>"}},
	}
}

// BenchmarkDecide measures one full decision (4 filters, a prefix-selected
// route, a target) against BenchmarkDecideBaseline, a graph with no
// conditions, in the same run.
func BenchmarkDecide(b *testing.B) {
	g := benchGraph(b)
	st := StaticState{}
	base := benchRequest()
	req := new(Request)
	b.ReportAllocs()
	for b.Loop() {
		*req = base
		g.Decide(req, st, nil)
	}
}

// BenchmarkDecideBaseline is a decision through a single unconditional route.
func BenchmarkDecideBaseline(b *testing.B) {
	pool := &Pool{ID: "pool.asterisk", Name: "asterisk", Balance: BalanceRoundRobin, Members: []*Member{
		{ID: "pool.asterisk.member.ast1", Name: "ast1", Host: "10.0.0.11", Port: 5060},
	}}
	g := &Graph{Pools: []*Pool{pool}, Routes: []*Route{{ID: "route.default", Target: TargetPool, Pool: pool}}}
	if err := g.Seal(); err != nil {
		b.Fatal(err)
	}
	st := StaticState{}
	base := benchRequest()
	req := new(Request)
	b.ReportAllocs()
	for b.Loop() {
		*req = base
		g.Decide(req, st, nil)
	}
}
