package graph

import (
	"net/netip"
	"testing"
)

// blockedSet is a Flooding with a fixed set of blocked sources.
type blockedSet map[netip.Addr]bool

func (b blockedSet) Flooding(ip netip.Addr) bool { return b[ip] }

func TestFloodingFunction(t *testing.T) {
	g := &Graph{}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	flooder, other := netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("198.51.100.1")
	cond, errs := CompileCondition("flooding() && method == 'REGISTER'")
	if errs != nil {
		t.Fatal(errs)
	}
	withFlood := WithFlooding(StaticState{}, blockedSet{flooder: true})
	for _, tc := range []struct {
		name  string
		src   netip.Addr
		state State
		want  bool
	}{
		{"blocked source", flooder, withFlood, true},
		{"other source", other, withFlood, false},
		{"no flood state (test, plan)", flooder, StaticState{}, false},
		{"no source", netip.Addr{}, withFlood, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &Request{Method: "REGISTER", Source: Source{IP: tc.src}}
			got, err := cond.eval(&evalContext{req: req, graph: g, state: tc.state})
			if err != nil || got != tc.want {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, wrapped := WithFlooding(StaticState{}, nil).(withFlooding); wrapped {
		t.Error("WithFlooding(s, nil) is not s")
	}
	if _, errs := CompileCondition("flooding('x')"); errs == nil {
		t.Error("flooding takes no argument")
	}
}
