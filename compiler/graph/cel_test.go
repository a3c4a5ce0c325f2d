package graph

import (
	"net/netip"
	"testing"
)

func TestConditions(t *testing.T) {
	g := &Graph{
		Proxy:   Proxy{Domains: []string{"example.com"}, Advertise: "sip.example.com:5060"},
		Trusted: []*Trusted{{ID: "trusted.asterisk", Name: "asterisk", Sources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}},
	}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	req := &Request{
		Method:    "INVITE",
		RURI:      URI{Scheme: "sip", User: "+15551230001", Host: "example.com", Params: Params{{"transport", "tcp"}, {"lr", ""}}},
		From:      URI{User: "alice", Host: "192.0.2.1"},
		Source:    Source{IP: netip.MustParseAddr("10.0.0.12"), Port: 5060, Transport: "udp"},
		UserAgent: "friendly-scanner",
		Headers:   HeaderList{{"Route", "<sip:x>"}},
	}
	st := StaticState{Users: map[string]bool{"alice": true}}
	cases := []struct {
		expr string
		want bool
	}{
		{"method == 'INVITE'", true},
		{"!(method in ['INVITE', 'ACK'])", false},
		{"user_agent.contains('friendly-scanner')", true},
		{"from.host.matches('^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}')", true},
		{"!in_dialog && has_header('Route') && method != 'ACK'", true},
		{"has_header('Record-Route')", false},
		{"header('route') == '<sip:x>'", true},
		{"is_local(ruri.host)", true},
		{"is_local('sip.example.com')", true},
		{"is_local('evil.com')", false},
		{"registered(from.user)", true},
		{"registered(ruri.user)", false},
		{"source_in('asterisk')", true},
		{"source_in('carriers')", false},
		{"source.ip == '10.0.0.12' && source.port == 5060 && source.transport == 'udp'", true},
		{"ruri.params.transport == 'tcp' && 'lr' in ruri.params", true},
		{"ruri.port == 0 && ruri.scheme == 'sip'", true},
		{"ruri.user.startsWith('+')", true},
	}
	for _, c := range cases {
		cond, errs := CompileCondition(c.expr)
		if errs != nil {
			t.Fatalf("%s: %v", c.expr, errs)
		}
		got, err := cond.eval(&evalContext{req: req, graph: g, state: st})
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.expr, got, err, c.want)
		}
	}
}

func TestConditionErrors(t *testing.T) {
	cases := []struct {
		expr   string
		offset int
	}{
		{"ruri.usr == 'x'", 4},
		{"method", 0},
		{"method == 'INVITE' &&", 21},
		{"method ==\n  1", 7},
	}
	for _, c := range cases {
		_, errs := CompileCondition(c.expr)
		if len(errs) == 0 {
			t.Errorf("%q: no error", c.expr)
			continue
		}
		if errs[0].Offset != c.offset {
			t.Errorf("%q: offset %d (%s), want %d", c.expr, errs[0].Offset, errs[0].Message, c.offset)
		}
	}
}
