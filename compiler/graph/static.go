package graph

// StaticState is the State used where there is no live proxy: test blocks,
// explain and plan. Every member and carrier is available unless listed as
// down; registrations and authentication come from the fields.
type StaticState struct {
	// Users lists registered users.
	Users map[string]bool
	// Contacts lists the contacts of registered users, highest q first,
	// when a test names them (a user with contacts is registered).
	Contacts map[string][]Contact
	// Down lists members and carriers that are unavailable.
	Down map[ID]bool
	// AtLimit lists carriers at their calls limit.
	AtLimit map[ID]bool
}

var (
	_ State         = StaticState{}
	_ ContactLister = StaticState{}
)

// Registered implements State.
func (s StaticState) Registered(user string) bool { return s.Users[user] || len(s.Contacts[user]) > 0 }

// ContactsOf implements ContactLister.
func (s StaticState) ContactsOf(user string) []Contact { return s.Contacts[user] }

// Authenticate implements State: the request is authenticated when it names
// its user (a test's auth_user); otherwise it would need credentials and is
// challenged.
func (s StaticState) Authenticate(a *Auth, req *Request) AuthVerdict {
	if req.AuthUser == "" {
		return AuthVerdict{Outcome: AuthChallenge, Reason: "would need credentials"}
	}
	return AuthVerdict{Outcome: AuthOK, User: req.AuthUser}
}

// MemberAvailable implements State.
func (s StaticState) MemberAvailable(m *Member) bool { return !s.Down[m.ID] }

// CarrierStatus implements State: a carrier listed down is down, every
// other one is within its limits and of good quality.
func (s StaticState) CarrierStatus(c *Carrier) CarrierStatus {
	if s.Down[c.ID] {
		return CarrierStatus{Skip: SkipDown}
	}
	if s.AtLimit[c.ID] {
		return CarrierStatus{Skip: SkipCalls}
	}
	return CarrierStatus{}
}

// Pick implements State deterministically, as a fresh proxy would for its
// first request: rendezvous hashing of the Call-ID exactly as the proxy
// does, the highest weight for weighted, the most capacity for resource,
// otherwise the first member in declaration order.
func (s StaticState) Pick(p *Pool, req *Request, tried []*Member) *Member {
	var avail []*Member
	for _, m := range p.Members {
		if s.MemberAvailable(m) && !contains(tried, m) {
			avail = append(avail, m)
		}
	}
	if len(avail) == 0 {
		return nil
	}
	switch p.Balance {
	case BalanceHash:
		key := HashString(req.CallID)
		best := avail[0]
		for _, m := range avail[1:] {
			if RendezvousScore(key, RendezvousSeed(m.ID)) > RendezvousScore(key, RendezvousSeed(best.ID)) {
				best = m
			}
		}
		return best
	case BalanceWeighted:
		best := avail[0]
		for _, m := range avail[1:] {
			if m.Weight > best.Weight {
				best = m
			}
		}
		return best
	case BalanceResource:
		best := avail[0]
		for _, m := range avail[1:] {
			if m.Capacity[p.Resource] > best.Capacity[p.Resource] {
				best = m
			}
		}
		return best
	}
	return avail[0]
}

func contains(list []*Member, m *Member) bool {
	for _, x := range list {
		if x == m {
			return true
		}
	}
	return false
}
