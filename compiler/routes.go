package compiler

import (
	"strings"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/lang"
)

// maxRowDiags caps the per-row diagnostics of one prefix table check, so a
// wrong pool does not print 100,000 errors.
const maxRowDiags = 10

func (c *compiler) routes() {
	var catchAll *lang.Route
	for _, r := range c.cfg.Routes {
		gr := &graph.Route{ID: graph.ID("route." + r.Name), Name: r.Name, Pos: pos(r.Block), When: c.cond(r.When)}
		if catchAll != nil {
			c.warnf(r.NameRange, "Unreachable Route",
				"Route %q can never match: route %q before it (%s) matches every request. Move this route above it, or give %q a when condition.",
				r.Name, catchAll.Name, catchAll.DeclRange.String(), catchAll.Name)
		}
		if !r.When.Set || strings.TrimSpace(r.When.Source) == "true" {
			catchAll = r
		}
		c.target(r, gr)
		c.routeOptions(r, gr)
		c.g.Routes = append(c.g.Routes, gr)
	}
}

// target resolves `to`: registrar, carriers, pool.NAME or carrier.NAME.
func (c *compiler) target(r *lang.Route, gr *graph.Route) {
	if !r.To.Set {
		return
	}
	kind, name, _ := strings.Cut(r.To.Path, ".")
	switch {
	case r.To.Path == "registrar":
		gr.Target = graph.TargetRegistrar
		if c.cfg.Registrar == nil {
			c.errorf(r.To.Range, "Reference To Undeclared Block", "Route %q sends to the registrar, but the policy declares no registrar block. Add registrar {} (its settings have defaults).", r.Name)
		}
	case r.To.Path == "carriers":
		gr.Target = graph.TargetCarriers
		if len(c.cfg.Carriers) == 0 {
			c.errorf(r.To.Range, "Reference To Undeclared Block", "Route %q sends to the carriers, but the policy declares no carrier block. Add carrier blocks or change the target.", r.Name)
		}
	case kind == "pool":
		gr.Target = graph.TargetPool
		gr.Pool = resolve(c, r.To, "pool", c.pool)
	case kind == "carrier":
		gr.Target = graph.TargetCarrier
		gr.Carrier = resolve(c, r.To, "carrier", c.carrier)
	default:
		c.errorf(r.To.Range, "Invalid Route Target",
			"%s is not a route target. A route sends to registrar, carriers, pool.NAME or carrier.NAME.%s",
			r.To.Path, suggest(name, []string{"registrar", "carriers", "pool", "carrier"})+suggest(kind, []string{"registrar", "carriers", "pool", "carrier"}))
	}
}

// routeOptions checks select (pool routes) and fork (registrar routes).
func (c *compiler) routeOptions(r *lang.Route, gr *graph.Route) {
	if r.Select.Set {
		if gr.Target != graph.TargetPool {
			c.errorf(r.Select.Range, "Select Without Pool", "select picks a member of a pool by prefix, but route %q does not send to a pool. Remove select or send to pool.NAME.", r.Name)
		} else if t := resolve(c, r.Select, "prefixes", c.prefix); t != nil {
			gr.Select = t
			if gr.Pool != nil {
				c.checkOwners(c.prefixL[t.Name], gr.Pool, r)
			}
		}
	}
	if gr.Target == graph.TargetRegistrar {
		gr.Fork = graph.ForkParallel
	}
	c.fork(r, gr)
	c.forkTimeout(r, gr)
}

// fork checks the fork mode of a registrar route.
func (c *compiler) fork(r *lang.Route, gr *graph.Route) {
	if !r.Fork.Set {
		return
	}
	switch {
	case gr.Target != graph.TargetRegistrar:
		c.errorf(r.Fork.Range, "Fork Without Registrar", "fork says how to ring several registered contacts, so it only applies to routes with to = registrar.")
	case r.Fork.Value == string(graph.ForkParallel) || r.Fork.Value == string(graph.ForkSerial):
		gr.Fork = graph.Fork(r.Fork.Value)
	default:
		c.errorf(r.Fork.Range, "Invalid Fork", "%q is not a fork mode; use \"parallel\" (ring all contacts) or \"serial\" (one after the other).%s",
			r.Fork.Value, suggest(r.Fork.Value, []string{"parallel", "serial"}))
	}
}

// forkTimeout checks fork_timeout: the per-group ring time of a serial fork
// (default 20s), or the ring time of all contacts of a parallel one (no
// default: each branch's Timer C bounds it).
func (c *compiler) forkTimeout(r *lang.Route, gr *graph.Route) {
	if gr.Fork == graph.ForkSerial {
		gr.ForkTimeout = defaultForkTimeout
	}
	if !r.ForkTimeout.Set {
		return
	}
	switch {
	case gr.Target != graph.TargetRegistrar:
		c.errorf(r.ForkTimeout.Range, "Fork Without Registrar", "fork_timeout says how long registered contacts ring, so it only applies to routes with to = registrar.")
	case r.ForkTimeout.Value < time.Second:
		c.errorf(r.ForkTimeout.Range, "Invalid Duration", "fork_timeout must be at least 1s: a phone needs time to ring.")
	default:
		gr.ForkTimeout = r.ForkTimeout.Value
	}
}

// checkOwners reports prefix rows naming a member the pool does not have.
func (c *compiler) checkOwners(t *lang.Prefixes, p *graph.Pool, r *lang.Route) {
	members := make(map[string]bool, len(p.Members))
	var list []string
	for _, m := range p.Members {
		members[m.Name] = true
		list = append(list, m.Name)
	}
	bad := 0
	for _, row := range t.Rows {
		if members[row.Member.Value] {
			continue
		}
		bad++
		if bad <= maxRowDiags {
			c.errorf(row.Member.Range, "Unknown Member",
				"Prefix %s is owned by %q, but pool %q (selected by route %q) has no such member; its members are %s.%s",
				row.Prefix.Value, row.Member.Value, p.Name, r.Name, oneOf(list), suggest(row.Member.Value, list))
		}
	}
	if bad > maxRowDiags {
		c.errorf(t.File.Range, "Unknown Member", "%d more rows of %s name members that pool %q does not have.", bad-maxRowDiags, t.File.Value, p.Name)
	}
}
