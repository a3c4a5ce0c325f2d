package runtime

import (
	"errors"
	"fmt"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Served is what this runtime serves: the node kinds, the route targets
// and the transports. The compiler accepts every block of the language;
// serve refuses, by name, what is not served here rather than ignoring it
// silently. A feature package declares itself served by adding its kinds
// and targets when the proxy wires it in (see DefaultServed).
type Served struct {
	Kinds      map[graph.Kind]bool
	Targets    map[graph.TargetKind]bool
	Transports map[string]bool
}

// DefaultServed returns what this version serves: filters, trusted groups,
// DID aliases (Decide rewrites the R-URI user), pools, members, prefix
// tables, the registrar, carriers and routes to pools, the registrar and
// carriers, over udp and tcp. Auth and credentials are served when
// Config.Auth is an AuthService (New adds them). A Server without a
// Config.Registrar does not serve the registrar (New takes it out).
func DefaultServed() Served {
	return Served{
		Kinds: map[graph.Kind]bool{
			graph.KindFilter: true, graph.KindTrusted: true, graph.KindAliases: true, graph.KindPool: true,
			graph.KindMember: true, graph.KindPrefixes: true, graph.KindRoute: true,
			graph.KindRegistrar: true, graph.KindCarrier: true,
		},
		Targets: map[graph.TargetKind]bool{graph.TargetPool: true, graph.TargetRegistrar: true,
			graph.TargetCarriers: true, graph.TargetCarrier: true},
		Transports: map[string]bool{"udp": true, "tcp": true},
	}
}

// Supported returns an error naming every block of g that DefaultServed
// does not cover, or nil.
func Supported(g *graph.Graph) error { return DefaultServed().Check(g) }

// Check returns an error naming every block of g that sv does not serve
// (nodes of other kinds, routes to other targets, listeners and members on
// other transports), or nil.
func (sv Served) Check(g *graph.Graph) error {
	var errs []error
	var pool *graph.Pool // Walk gives a pool's members right after it
	g.Walk(func(n graph.Node) bool {
		if p, ok := n.(*graph.Pool); ok {
			pool = p
		}
		if err := sv.checkNode(n, pool); err != nil {
			errs = append(errs, err)
		}
		return true
	})
	for _, l := range g.Proxy.Listen {
		if !sv.Transports[l.Transport] {
			errs = append(errs, fmt.Errorf("proxy.listen %s:%s is not served by this version of sipfront (%s only)",
				l.Transport, l.Addr, sv.transportList()))
		}
	}
	return errors.Join(errs...)
}

// checkNode checks one node; pool is the pool a member belongs to.
func (sv Served) checkNode(n graph.Node, pool *graph.Pool) error {
	switch n := n.(type) {
	case *graph.Route:
		if sv.Targets[n.Target] {
			return nil
		}
	case *graph.Member:
		if !sv.Transports[n.Transport] {
			return fmt.Errorf("member %q of pool %q (%s) uses %s, which this version of sipfront cannot reach (%s only)",
				n.Name, pool.Name, posString(n.Pos), n.Transport, sv.transportList())
		}
		return nil
	}
	if sv.Kinds[n.Kind()] {
		if _, route := n.(*graph.Route); !route {
			return nil
		}
	}
	block := string(n.Kind())
	if name := n.Label(); name != "" {
		block += fmt.Sprintf(" %q", name)
	}
	return fmt.Errorf("%s (%s) is not served by this version of sipfront", block, posString(n.Position()))
}

// transportList names the served transports in a stable order.
func (sv Served) transportList() string {
	s := ""
	for _, t := range []string{"udp", "tcp", "tls", "ws", "wss"} {
		if sv.Transports[t] {
			if s != "" {
				s += " and "
			}
			s += t
		}
	}
	return s
}

func posString(p graph.Pos) string {
	if p.File == "" {
		return "policy"
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}
