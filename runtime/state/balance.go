package state

import (
	"github.com/sipfront/sipfront/compiler/graph"
)

// AffinityParty is the Pool.Affinity value that turns on transfer affinity.
const AffinityParty = "party"

// Pick implements graph.Members: transfer affinity first when the pool asks
// for it, then the pool's balancing strategy, skipping members in tried and
// unavailable ones. It returns nil when no member is left. For a pool
// without affinity it takes no lock shared with other pools (weighted takes
// the pool's own mutex) and allocates nothing.
func (s *Store) Pick(p *graph.Pool, req *graph.Request, tried []*graph.Member) *graph.Member {
	v := s.idx.Load().view(p)
	if p.Affinity == AffinityParty && req != nil {
		if m := s.affinity(v, req, tried); m != nil {
			return m
		}
	}
	var i int
	switch p.Balance {
	case graph.BalanceWeighted:
		i = s.pickWeighted(v, tried)
	case graph.BalanceLeastCalls:
		if req != nil && req.Method == "INVITE" {
			i = s.pickClaimed(v, req, func() int { return s.pickLeastCalls(v, tried) })
		} else {
			i = s.pickLeastCalls(v, tried)
		}
	case graph.BalanceHash:
		i = s.pickHash(v, req, tried)
	case graph.BalanceResource:
		if req != nil && req.Method == "INVITE" {
			i = s.pickClaimed(v, req, func() int { return s.pickResource(v, tried) })
		} else {
			i = s.pickResource(v, tried)
		}
	default:
		i = s.pickRoundRobin(v, tried)
	}
	if i < 0 {
		return nil
	}
	return p.Members[i]
}

// candidate reports whether member i of v may take the call.
func (s *Store) candidate(v *poolView, i int, tried []*graph.Member) bool {
	m := v.pool.Members[i]
	return !isTried(tried, m) && s.available(v.members[i], m, v.pool)
}

// isTried reports whether m (of any graph version) is in tried.
func isTried(tried []*graph.Member, m *graph.Member) bool {
	for _, t := range tried {
		if t == m || t.ID == m.ID {
			return true
		}
	}
	return false
}

// pickRoundRobin rotates over the members available now, in declaration
// order. Rotating over the available members rather than over all of them
// keeps the spread even when one is down or disabled: skipping a member's
// turn would hand its whole share to the next one (OpenSIPS dispatcher's
// behaviour, which doubles that member's load).
func (s *Store) pickRoundRobin(v *poolView, tried []*graph.Member) int {
	avail := 0
	for i := range v.members {
		if s.candidate(v, i, tried) {
			avail++
		}
	}
	if avail == 0 {
		return -1
	}
	k := int((v.bal.rr.Add(1) - 1) % uint64(avail))
	first := -1
	for i := range v.members {
		if s.candidate(v, i, tried) {
			if k == 0 {
				return i
			}
			if first < 0 {
				first = i
			}
			k--
		}
	}
	// A member went down between the passes: any available one will do.
	return first
}

// pickWeighted is nginx's smooth weighted round robin over the available
// members: each adds its effective weight to its current weight, the
// highest current weight wins (the first declared on a tie) and loses the
// sum of the weights. Over a cycle of sum(weights) picks every member gets
// exactly its weight, interleaved. Members of weight 0 take no calls.
func (s *Store) pickWeighted(v *poolView, tried []*graph.Member) int {
	v.bal.mu.Lock()
	defer v.bal.mu.Unlock()
	best, total := -1, int64(0)
	for i, ms := range v.members {
		if !s.candidate(v, i, tried) {
			continue
		}
		w := int64(weight(ms, v.pool.Members[i]))
		if w <= 0 {
			continue
		}
		ms.cur += w
		total += w
		if best < 0 || ms.cur > v.members[best].cur {
			best = i
		}
	}
	if best >= 0 {
		v.members[best].cur -= total
	}
	return best
}

// pickLeastCalls takes the member with the fewest active calls now. Ties go
// to the first in declaration order starting from a rotating position (the
// pool's round-robin counter), so that equal members share new calls.
func (s *Store) pickLeastCalls(v *poolView, tried []*graph.Member) int {
	n := len(v.members)
	if n == 0 {
		return -1
	}
	start := int((v.bal.rr.Add(1) - 1) % uint64(n))
	best, fewest := -1, 0
	for k := 0; k < n; k++ {
		i := (start + k) % n
		if !s.candidate(v, i, tried) {
			continue
		}
		if c := v.members[i].load(); best < 0 || c < fewest {
			best, fewest = i, c
		}
	}
	return best
}

// pickHash is rendezvous (highest random weight) hashing of the Call-ID:
// every available member scores hash(Call-ID, member ID) and the highest
// wins. The same Call-ID always lands on the same member while it is
// available, and losing a member moves only the calls it would have had.
func (s *Store) pickHash(v *poolView, req *graph.Request, tried []*graph.Member) int {
	var key uint64
	if req != nil {
		key = graph.HashString(req.CallID)
	}
	best, top := -1, uint64(0)
	for i, ms := range v.members {
		if !s.candidate(v, i, tried) {
			continue
		}
		if score := graph.RendezvousScore(key, ms.seed); best < 0 || score > top {
			best, top = i, score
		}
	}
	return best
}

// pickResource is OpenSIPS load_balancer: the member with the most free
// capacity of the pool's resource (capacity, or its override, minus active
// calls); the first declared on a tie; none when every member is full.
func (s *Store) pickResource(v *poolView, tried []*graph.Member) int {
	best, most := -1, 0
	for i, ms := range v.members {
		if !s.candidate(v, i, tried) {
			continue
		}
		if f := free(ms, v.pool.Members[i], v.pool.Resource); f > 0 && f > most {
			best, most = i, f
		}
	}
	return best
}
