package graph

// State is the runtime state a decision reads. It is composed of one small
// interface per domain, so that each runtime package (pool members,
// registrar, auth, carriers) implements only its own part and the proxy
// assembles them; StaticState implements all of them for `sipfront test`,
// `explain` and `plan`, where there is no network.
type State interface {
	Registrations
	Authenticator
	Members
	Carriers
}

// Members is the pool-member state a decision reads: health, admin
// overrides, call counts and balancing.
type Members interface {
	// MemberAvailable reports whether m may take a new call (up, enabled,
	// not draining, not full).
	MemberAvailable(m *Member) bool
	// Pick chooses a member of p for a new request by p's balancing
	// strategy, skipping members in tried and unavailable ones; nil when
	// none is left.
	Pick(p *Pool, req *Request, tried []*Member) *Member
}

// StateOf composes a State from its per-domain parts.
func StateOf(r Registrations, a Authenticator, m Members, c Carriers) State {
	return composed{r, a, m, c}
}

type composed struct {
	Registrations
	Authenticator
	Members
	Carriers
}
