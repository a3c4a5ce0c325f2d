package runtime

import (
	"errors"
	"fmt"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Supported returns an error naming every block of g that this runtime does
// not serve yet (auth, credentials, aliases, registrar, carriers and the
// routes that target them, listeners and members other than udp and tcp),
// or nil. The
// compiler accepts these blocks; serve refuses them rather than ignoring
// them silently.
func Supported(g *graph.Graph) error {
	var errs []error
	no := func(kind, name string, pos graph.Pos) {
		block := kind
		if name != "" {
			block += fmt.Sprintf(" %q", name)
		}
		errs = append(errs, fmt.Errorf("%s (%s) is not served by this version of sipfront", block, posString(pos)))
	}
	for _, a := range g.Auth {
		no("auth", a.Name, a.Pos)
	}
	for _, c := range g.Credentials {
		no("credentials", c.Name, c.Pos)
	}
	for _, a := range g.Aliases {
		no("aliases", a.Name, a.Pos)
	}
	if g.Registrar != nil {
		no("registrar", "", g.Registrar.Pos)
	}
	for _, c := range g.Carriers {
		no("carrier", c.Name, c.Pos)
	}
	for _, r := range g.Routes {
		if r.Target != graph.TargetPool { // registrations or carriers
			no("route", r.Name, r.Pos)
		}
	}
	for _, p := range g.Pools {
		for _, m := range p.Members {
			if m.Transport != "udp" && m.Transport != "tcp" {
				errs = append(errs, fmt.Errorf("member %q of pool %q (%s) uses %s, which this version of sipfront cannot reach (udp and tcp only)",
					m.Name, p.Name, posString(m.Pos), m.Transport))
			}
		}
	}
	for _, l := range g.Proxy.Listen {
		if l.Transport != "udp" && l.Transport != "tcp" {
			errs = append(errs, fmt.Errorf("proxy.listen %s:%s is not served by this version of sipfront (udp and tcp only)", l.Transport, l.Addr))
		}
	}
	return errors.Join(errs...)
}

func posString(p graph.Pos) string {
	if p.File == "" {
		return "policy"
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}
