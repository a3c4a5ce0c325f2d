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
	g.Walk(func(n Node) bool {
		switch n := n.(type) {
		case *Trusted:
			g.trustedByName[n.Name] = n
		case *Pool:
			n.memberByName = make(map[string]*Member, len(n.Members))
			for _, m := range n.Members {
				m.Pool = n
				m.addr = joinHostPort(m.Host, m.Port)
				n.memberByName[m.Name] = m
			}
		case *Carrier:
			n.addr = joinHostPort(n.Host, n.Port)
			n.seed = RendezvousSeed(n.ID)
			if n.Sources != nil {
				g.trustedByName[string(n.ID)] = n.Sources // source_in('carrier.acme')
			}
		case *Route:
			if n.Target == TargetCarrier && n.Carrier != nil {
				n.carriers = []*Carrier{n.Carrier}
			}
		}
		errs = append(errs, add(n.NodeID(), n))
		return true
	})
	g.LCR = NewLCRTable(g.Carriers)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// IDs returns every node ID in Walk order.
func (g *Graph) IDs() []ID {
	var ids []ID
	g.Walk(func(n Node) bool {
		ids = append(ids, n.NodeID())
		return true
	})
	return ids
}
