package graph

import "fmt"

// Seal indexes a graph the compiler has filled in: node IDs, names, member
// back-pointers and the LCR table. It must be called exactly once, before the
// graph is shared; after Seal the graph is never written again. It fails on a
// duplicate ID, which the compiler should have reported already.
func (g *Graph) Seal() error {
	g.nodes = make(map[ID]any)
	g.advertisedHost = hostOf(g.Proxy.Advertise)
	g.trustedByName = make(map[string]*Trusted, len(g.Trusted))
	add := func(id ID, n any) error {
		if id == "" {
			return fmt.Errorf("node %T has no ID", n)
		}
		if _, dup := g.nodes[id]; dup {
			return fmt.Errorf("duplicate node ID %q", id)
		}
		g.nodes[id] = n
		return nil
	}
	var errs []error
	for _, f := range g.Filters {
		errs = append(errs, add(f.ID, f))
	}
	for _, t := range g.Trusted {
		errs = append(errs, add(t.ID, t))
		g.trustedByName[t.Name] = t
	}
	for _, c := range g.Credentials {
		errs = append(errs, add(c.ID, c))
	}
	for _, a := range g.Auth {
		errs = append(errs, add(a.ID, a))
	}
	for _, a := range g.Aliases {
		errs = append(errs, add(a.ID, a))
	}
	if g.Registrar != nil {
		errs = append(errs, add(g.Registrar.ID, g.Registrar))
	}
	for _, p := range g.Pools {
		errs = append(errs, add(p.ID, p))
		p.memberByName = make(map[string]*Member, len(p.Members))
		for _, m := range p.Members {
			m.Pool = p
			m.addr = joinHostPort(m.Host, m.Port)
			p.memberByName[m.Name] = m
			errs = append(errs, add(m.ID, m))
		}
	}
	for _, t := range g.Prefixes {
		errs = append(errs, add(t.ID, t))
	}
	for _, c := range g.Carriers {
		c.addr = joinHostPort(c.Host, c.Port)
		c.seed = RendezvousSeed(c.ID)
		errs = append(errs, add(c.ID, c))
		if c.Sources != nil {
			g.trustedByName[string(c.ID)] = c.Sources // source_in('carrier.acme')
		}
	}
	for _, r := range g.Routes {
		errs = append(errs, add(r.ID, r))
		if r.Target == TargetCarrier && r.Carrier != nil {
			r.carriers = []*Carrier{r.Carrier}
		}
	}
	g.LCR = NewLCRTable(g.Carriers)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// IDs returns every node ID in a stable order: filters, trusted,
// credentials, auth, aliases, registrar, pools with their members, prefixes,
// carriers, routes, each in declaration order.
func (g *Graph) IDs() []ID {
	var ids []ID
	for _, f := range g.Filters {
		ids = append(ids, f.ID)
	}
	for _, t := range g.Trusted {
		ids = append(ids, t.ID)
	}
	for _, c := range g.Credentials {
		ids = append(ids, c.ID)
	}
	for _, a := range g.Auth {
		ids = append(ids, a.ID)
	}
	for _, a := range g.Aliases {
		ids = append(ids, a.ID)
	}
	if g.Registrar != nil {
		ids = append(ids, g.Registrar.ID)
	}
	for _, p := range g.Pools {
		ids = append(ids, p.ID)
		for _, m := range p.Members {
			ids = append(ids, m.ID)
		}
	}
	for _, t := range g.Prefixes {
		ids = append(ids, t.ID)
	}
	for _, c := range g.Carriers {
		ids = append(ids, c.ID)
	}
	for _, r := range g.Routes {
		ids = append(ids, r.ID)
	}
	return ids
}
