package carrier

import (
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/target"
)

// defaultMaxTries bounds the carriers tried for one call when the first
// carrier's failover block sets none (the compiler always sets one).
const defaultMaxTries = 3

// Iterator hands the proxy's failover loop the carriers of one call in
// least-cost order (the decision's candidates): each is claimed when it is
// handed out, so a carrier at its limits, disabled or down is skipped and
// the next one tried. It implements target.Iterator and target.Timed.
//
// The failover block of the carrier that answered decides whether its
// answer moves the call on (failover.on, plus timeouts and transport
// errors) and how long it may stay silent (failover.timeout); the first
// carrier's max_tries bounds how many carriers one call tries.
type Iterator struct {
	store *Store
	cands []graph.Candidate
	next  int
	cur   *graph.Carrier
	max   int
	tries int
	// limited counts the candidates skipped at their limits (calls, cps)
	// when handed out: the proxy answers 503 with Retry-After when no
	// carrier could be tried because of them.
	limited int
	pdd     time.Duration
	// authSent is set once the call answered a carrier's challenge.
	authSent bool
}

var (
	_ target.Iterator = (*Iterator)(nil)
	_ target.Timed    = (*Iterator)(nil)
)

// NewIterator returns the iterator over a decision's candidates.
func NewIterator(s *Store, cands []graph.Candidate) *Iterator {
	it := &Iterator{store: s, cands: cands, max: defaultMaxTries}
	if len(cands) > 0 && cands[0].Carrier.Failover.MaxTries > 0 {
		it.max = cands[0].Carrier.Failover.MaxTries
	}
	return it
}

// Group is the target group of every carrier: the dialog table records it,
// so that in-dialog requests toward a carrier are recognised even after a
// reload removed the carrier.
const Group graph.ID = "carriers"

// Of returns the target for carrier c.
func Of(c *graph.Carrier) target.Target {
	return target.Target{ID: c.ID, Group: Group, Addr: c.Addr(), Transport: c.Transport, Carrier: c}
}

// Next implements target.Iterator: the next candidate that can be claimed.
func (it *Iterator) Next() (target.Target, bool) {
	for it.tries < it.max && it.next < len(it.cands) {
		c := it.cands[it.next].Carrier
		it.next++
		switch it.store.Claim(c) {
		case graph.CarrierOK:
			it.cur, it.pdd, it.authSent = c, 0, false
			it.tries++
			return Of(c), true
		case graph.SkipCalls, graph.SkipCPS:
			it.limited++
		}
	}
	return target.Target{}, false
}

// Limited reports whether every carrier the call could not try was at its
// limits, and none was tried: the caller should retry later (503 with
// Retry-After), not elsewhere.
func (it *Iterator) Limited() bool { return it.tries == 0 && it.limited > 0 }

// Retries implements target.Iterator: timeouts, transport errors and the
// current carrier's failover.on codes; and a first challenge (401, 407)
// from a carrier with an auth block, which Authorize answers.
func (it *Iterator) Retries(code int) bool {
	if code == 401 || code == 407 {
		return it.cur != nil && it.cur.Auth != nil && !it.authSent
	}
	return code == 0 || it.cur != nil && it.cur.Failover.Retries(code)
}

// NoAnswer implements target.Iterator: the current carrier's
// failover.timeout.
func (it *Iterator) NoAnswer() time.Duration {
	if it.cur == nil {
		return 0
	}
	return it.cur.Failover.Timeout
}

// PDD implements target.Timed.
func (it *Iterator) PDD(t target.Target, pdd time.Duration) { it.pdd = pdd }

// Failed implements target.Iterator: the try counts as a seizure that was
// not answered in the carrier's quality window, unless the failure was the
// proxy's own (counts false).
func (it *Iterator) Failed(t target.Target, code int, why string, counts bool) {
	if counts && t.Carrier != nil {
		it.store.Record(t.Carrier, Outcome{PDD: it.pdd})
	}
}

// Answered implements target.Iterator: a final answer the caller gets; a
// 2xx counts as answered, any other as a seizure not answered (busy,
// rejected), except 487 (the caller cancelled).
func (it *Iterator) Answered(t target.Target, code int) {
	if t.Carrier == nil || code == 487 {
		return
	}
	it.store.Record(t.Carrier, Outcome{Answered: code >= 200 && code < 300, PDD: it.pdd})
}

// Accounting is the dialog table's Accounting for calls to carriers: when
// the table counts a call (Start, or Moved on failover), the claim the
// iterator took for it ends.
type Accounting struct{ Store *Store }

// Start implements dialog.Accounting.
func (a Accounting) Start(t target.Target, callID, fromTag, caller, callee string) {
	a.Store.Counted(t.ID)
}

// Moved implements dialog.Accounting.
func (a Accounting) Moved(callID, fromTag string, to target.Target) { a.Store.Counted(to.ID) }

// Established implements dialog.Accounting.
func (a Accounting) Established(callID, fromTag, toTag string) {}

// End implements dialog.Accounting: the table's own count drops; the
// dialog's CSeq shift and hidden Contact, if any, are forgotten.
func (a Accounting) End(callID, fromTag string) { a.Store.forget(callID, fromTag) }
