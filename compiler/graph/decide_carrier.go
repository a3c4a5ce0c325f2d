package graph

import "math"

// Candidate is one carrier in a call's least-cost order.
type Candidate struct {
	Carrier *Carrier
	// Prefix is the LCR prefix the carrier serves the number by ("" for a
	// route to one named carrier) and Priority its priority for it.
	Prefix   string
	Priority int32
	// Status is the carrier's state when the call was decided.
	Status CarrierStatus
	// Score orders carriers of one prefix and priority: weighted
	// rendezvous hashing of the Call-ID, so that a given call always
	// takes the same carrier and many calls split by weight.
	Score float64
}

// Eligible reports whether the carrier could take the call when it was
// decided.
func (c *Candidate) Eligible() bool { return c.Status.Skip == CarrierOK }

// lcrInline is how many candidates a decision holds without allocating
// (they live in the Request); longer lists spill to the heap.
const lcrInline = 8

// carriers fills d.Candidates for a route to every carrier (least-cost
// routing) or to one, and picks d.Carrier, the first eligible one.
//
// Order: the longest prefix of the number first, then by priority (lower
// first), then by weighted rendezvous score within a priority; then the
// carriers of shorter prefixes the same way (drouting's fallback), each
// carrier once, at its longest prefix. Carriers whose quality is critical
// move to the end: they take a call only when no other can.
func (g *Graph) carriers(ctx *evalContext, r *Route, d *Decision, trace *Trace) {
	req, st := ctx.req, ctx.state
	list := req.lcr[:0]
	key := HashString(req.CallID)
	if r.Target == TargetCarrier {
		list = appendCandidate(list, st, r.Carrier, "", int32(r.Carrier.Priority), key)
	} else {
		list = g.lcrCandidates(list, st, req.RURI.User, key, &req.lcrTouch)
	}
	list = demoteCritical(list)
	d.Candidates = list
	for i := range list {
		if list[i].Eligible() {
			d.Carrier = list[i].Carrier
			break
		}
	}
	if len(list) > 0 {
		d.LCRPrefix = list[0].Prefix
	}
	if trace != nil {
		traceCandidates(trace, list, d.Carrier, req.RURI.User)
	}
	if d.Carrier == nil {
		d.Action, d.Status, d.Reason = ActionReply, 503, "Service Unavailable"
		if len(list) == 0 {
			trace.note(r.ID, "no carrier serves %q: 503", req.RURI.User)
			return
		}
		trace.note(r.ID, "no carrier can take %q now: 503", req.RURI.User)
	}
}

// lcrCandidates appends the carriers of every prefix of number, longest
// first.
func (g *Graph) lcrCandidates(list []Candidate, st Carriers, number string, key uint64, sink *uint64) []Candidate {
	t := g.LCR
	if t == nil || len(t.spans) == 0 {
		return list
	}
	var h [MaxLCRPrefix + 1]uint64
	top := min(prefixHashes(number, &h), t.maxLen)
	*sink = t.touch(&h, top)
	for n := top; n >= 0; n-- {
		if t.lengths&(1<<n) == 0 {
			continue
		}
		sl, ok := t.find(number, n, h[n])
		if !ok {
			continue
		}
		start, prefix := len(list), number[:n]
		for _, e := range t.entries[sl.off : sl.off+uint32(sl.n)] {
			if !listed(list, e.carrier) {
				list = appendCandidate(list, st, e.carrier, prefix, e.priority, key)
			}
		}
		sortByScore(list[start:])
	}
	return list
}

func appendCandidate(list []Candidate, st Carriers, c *Carrier, prefix string, prio int32, key uint64) []Candidate {
	status := st.CarrierStatus(c)
	w := float64(c.Weight)
	if status.Quality == QualityWarn {
		w *= WarnShare
	}
	return append(list, Candidate{Carrier: c, Prefix: prefix, Priority: prio, Status: status,
		Score: weightedScore(key, c.seed, w)})
}

// weightedScore is the weighted rendezvous score w / -ln(u), u uniform in
// (0,1) from the call's key and the carrier's seed: the carrier with the
// highest score takes the call, which happens with probability
// proportional to w (Schindelhauer & Schomaker).
func weightedScore(key, seed uint64, w float64) float64 {
	u := (float64(RendezvousScore(key, seed)>>11) + 0.5) / (1 << 53)
	return w / -math.Log(u)
}

func listed(list []Candidate, c *Carrier) bool {
	for i := range list {
		if list[i].Carrier == c {
			return true
		}
	}
	return false
}

// sortByScore orders one prefix's candidates (already by priority) by
// score inside each priority: an insertion sort, as the groups are tiny
// and it allocates nothing.
func sortByScore(list []Candidate) {
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && list[j].Priority == list[j-1].Priority && list[j].Score > list[j-1].Score; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

// demoteCritical moves candidates of critical quality to the end, keeping
// the order of both parts.
func demoteCritical(list []Candidate) []Candidate {
	for i, moved := 0, 0; i < len(list)-moved; {
		if list[i].Status.Quality != QualityCritical {
			i++
			continue
		}
		c := list[i]
		copy(list[i:], list[i+1:])
		list[len(list)-1] = c
		moved++
	}
	return list
}

// traceCandidates notes every candidate with why it is taken or skipped.
func traceCandidates(trace *Trace, list []Candidate, taken *Carrier, user string) {
	for i := range list {
		c := &list[i]
		what := "next on failover"
		switch {
		case c.Carrier == taken:
			what = "taken"
		case !c.Eligible():
			what = "skipped: " + c.Status.Skip.String()
		}
		if c.Status.Quality != QualityOK {
			what += ", quality " + c.Status.Quality.String()
		}
		exit := "the listener"
		if c.Carrier.Exit.Addr != "" {
			exit = c.Carrier.Exit.Transport + ":" + c.Carrier.Exit.Addr
		}
		trace.note(c.Carrier.ID, "#%d prefix %q priority %d weight %d: %s; sends %s to %s from %s",
			i+1, c.Prefix, c.Priority, c.Carrier.Weight, what, c.Carrier.Number(user), c.Carrier.Addr(), exit)
	}
}
