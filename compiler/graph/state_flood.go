package graph

import "net/netip"

// Flooding is the flood-control state a decision reads: whether a source
// is over its rate (blocked by the flood block), for CEL's flooding().
type Flooding interface {
	// Flooding reports whether ip is currently blocked.
	Flooding(ip netip.Addr) bool
}

// WithFlooding returns s extended with flood state; the CEL function
// flooding() finds it there. Without it flooding() is always false.
func WithFlooding(s State, f Flooding) State {
	if f == nil {
		return s
	}
	return withFlooding{s, f}
}

// withFlooding names its flood state f: an embedded Flooding field would
// shadow the Flooding method it is meant to promote.
type withFlooding struct {
	State
	f Flooding
}

func (w withFlooding) Flooding(ip netip.Addr) bool { return w.f.Flooding(ip) }

// floodingOf returns the flood state of s, or nil.
func floodingOf(s State) Flooding {
	f, _ := s.(Flooding)
	return f
}
