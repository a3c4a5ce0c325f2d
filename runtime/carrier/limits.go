package carrier

import (
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// startWindow enforces "at most n call starts in any sliding second": it
// keeps the times of the last n starts in a ring, and a new start is
// allowed when fewer than n were made or the oldest of the last n is a
// second old. Unlike a token bucket, a burst after a quiet period cannot
// exceed n in any one-second window.
type startWindow struct {
	starts []int64 // unix nanoseconds, a ring; len is the limit
	next   int     // where the next start goes (the oldest when full)
	count  int     // starts recorded, up to len(starts)
}

// resize sets the limit (0: unlimited), keeping the most recent starts so
// that a reload never opens a burst.
func (w *startWindow) resize(n int) {
	if n == len(w.starts) {
		return
	}
	old := w.recent()
	w.starts, w.next, w.count = make([]int64, n), 0, 0
	if n == 0 {
		return
	}
	for _, t := range old[max(0, len(old)-n):] {
		w.add(t)
	}
}

// recent returns the recorded starts, oldest first.
func (w *startWindow) recent() []int64 {
	out := make([]int64, 0, w.count)
	for i := range w.count {
		out = append(out, w.starts[(w.next-w.count+i+len(w.starts))%len(w.starts)])
	}
	return out
}

// allows reports whether a start at now keeps at most n starts in every
// one-second window.
func (w *startWindow) allows(now time.Time) bool {
	if len(w.starts) == 0 || w.count < len(w.starts) {
		return true
	}
	return now.UnixNano()-w.starts[w.next] >= int64(time.Second)
}

func (w *startWindow) add(t int64) {
	if len(w.starts) == 0 {
		return
	}
	w.starts[w.next] = t
	w.next = (w.next + 1) % len(w.starts)
	w.count = min(w.count+1, len(w.starts))
}

// inLastSecond counts the starts of the second before now.
func (w *startWindow) inLastSecond(now time.Time) int {
	n := 0
	for i := range w.count {
		if now.UnixNano()-w.starts[i] < int64(time.Second) {
			n++
		}
	}
	return n
}

// Claim is a call reserved on a carrier by Store.Claim: it counts in the
// carrier's calls limit until Release, and its start counts in the cps
// window for a second.
type Claim struct {
	cs *carrierState
}

// Claim reserves a new call on c when its health, override and limits
// allow it, counting the start in its cps window; otherwise it returns why
// not and counts the skip. Release the claim when the call fails or once
// the CallCounter counts its dialog.
func (s *Store) Claim(c *graph.Carrier) (Claim, graph.CarrierSkip) {
	cs := s.state(c.ID)
	if cs == nil {
		return Claim{}, graph.SkipDown
	}
	now := s.now()
	cs.mu.Lock()
	skip := s.skipLocked(cs, c, now)
	if skip == graph.CarrierOK {
		cs.reserved++
		cs.cps.add(now.UnixNano())
	}
	cs.mu.Unlock()
	if skip != graph.CarrierOK {
		cs.stats.skipped[skip].Add(1)
		return Claim{}, skip
	}
	cs.stats.attempts.Add(1)
	return Claim{cs: cs}, graph.CarrierOK
}

// Release ends the reservation. Releasing the zero Claim, or twice, is a
// mistake the claim cannot detect: call it exactly once.
func (cl Claim) Release() {
	if cl.cs == nil {
		return
	}
	cl.cs.mu.Lock()
	cl.cs.reserved--
	cl.cs.mu.Unlock()
}

// Valid reports whether the claim holds a reservation.
func (cl Claim) Valid() bool { return cl.cs != nil }
