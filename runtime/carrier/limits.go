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

// freeAt is when the window next allows a start (unix ns): a second after
// the oldest of the last n starts when it holds n, else 0 (now).
func (w *startWindow) freeAt() int64 {
	if len(w.starts) == 0 || w.count < len(w.starts) {
		return 0
	}
	return w.starts[w.next] + int64(time.Second)
}

// allows reports whether a start at now keeps at most n starts in every
// one-second window.
func (w *startWindow) allows(now time.Time) bool {
	at := w.freeAt()
	return at == 0 || now.UnixNano() >= at
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

// Claim reserves a new call on c when its health, override and limits
// allow it, counting the start in its cps window and the call as reserved;
// otherwise it returns why not and counts the skip. The reservation ends
// with Counted, when the CallCounter counts the call (the dialog table
// tells the store through Accounting), so that a call is never counted
// twice and no other call can slip in between.
func (s *Store) Claim(c *graph.Carrier) graph.CarrierSkip {
	cs := s.state(c.ID)
	if cs == nil {
		return graph.SkipDown
	}
	now := s.now()
	cs.mu.Lock()
	skip := s.skip(cs, c, now)
	if skip == graph.CarrierOK {
		cs.reserved.Add(1)
		cs.cps.add(now.UnixNano())
		cs.cpsFreeAt.Store(cs.cps.freeAt())
	}
	cs.mu.Unlock()
	if skip != graph.CarrierOK {
		cs.stats.skipped[skip].Add(1)
		return skip
	}
	cs.stats.attempts.Add(1)
	return graph.CarrierOK
}

// Counted ends the reservation of a call claimed on carrier id: the
// CallCounter counts it now.
func (s *Store) Counted(id graph.ID) {
	cs := s.state(id)
	if cs == nil {
		return
	}
	for {
		n := cs.reserved.Load()
		if n <= 0 || cs.reserved.CompareAndSwap(n, n-1) {
			return
		}
	}
}
