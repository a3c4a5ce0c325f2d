package carrier

import (
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// qualityBuckets is how many buckets a quality window is cut into: the
// window slides by a sixtieth of its length (10 s for the default 10m).
const qualityBuckets = 60

// Outcome is how one call placed on a carrier ended, as the quality
// tracker counts it.
type Outcome struct {
	// Answered is true for a 2xx.
	Answered bool
	// PDD is the post-dial delay: the time from the INVITE to the first
	// ringing (180/183) or answer; zero when there was none.
	PDD time.Duration
}

// tracker holds the answer-seizure ratio and post-dial delay of a carrier
// over a sliding window, in buckets. A call counts as a seizure when the
// carrier gave a final answer or none in time; a call the caller cancels
// before any answer does not count.
type tracker struct {
	q       *graph.Quality // nil: no quality block, never judged
	width   int64          // bucket width, ns
	buckets [qualityBuckets]bucket
}

type bucket struct {
	slot               int64 // start time / width; identifies the bucket's period
	attempts, answered int
	pddSum             time.Duration
	pddCount           int
}

// configure applies a quality block; samples stay when the window keeps
// its length, and are dropped when it changes (they no longer fit).
func (t *tracker) configure(q *graph.Quality) {
	width := int64(0)
	if q != nil {
		width = max(int64(q.Window)/qualityBuckets, 1)
	}
	if width != t.width {
		t.buckets = [qualityBuckets]bucket{}
	}
	t.q, t.width = q, width
}

// record adds one call's outcome at now.
func (t *tracker) record(now time.Time, o Outcome) {
	if t.q == nil {
		return
	}
	b := t.bucket(now)
	b.attempts++
	if o.Answered {
		b.answered++
	}
	if o.PDD > 0 {
		b.pddSum += o.PDD
		b.pddCount++
	}
}

// bucket returns the bucket of now, emptied when it last held an older
// period.
func (t *tracker) bucket(now time.Time) *bucket {
	slot := now.UnixNano() / t.width
	b := &t.buckets[slot%qualityBuckets]
	if b.slot != slot {
		*b = bucket{slot: slot}
	}
	return b
}

// Figures are a carrier's quality figures over its window.
type Figures struct {
	Attempts int `json:"attempts"`
	Answered int `json:"answered"`
	// ASR is Answered/Attempts; 0 without attempts.
	ASR float64 `json:"asr"`
	// PDD is the average post-dial delay of the calls that rang.
	PDD time.Duration `json:"pdd"`
}

// figures sums the buckets of the window ending at now.
func (t *tracker) figures(now time.Time) Figures {
	var f Figures
	if t.q == nil {
		return f
	}
	cur := now.UnixNano() / t.width
	var pdd time.Duration
	pddN := 0
	for i := range t.buckets {
		b := &t.buckets[i]
		if b.slot <= cur-qualityBuckets || b.slot > cur {
			continue
		}
		f.Attempts += b.attempts
		f.Answered += b.answered
		pdd += b.pddSum
		pddN += b.pddCount
	}
	if f.Attempts > 0 {
		f.ASR = float64(f.Answered) / float64(f.Attempts)
	}
	if pddN > 0 {
		f.PDD = pdd / time.Duration(pddN)
	}
	return f
}

// level judges the figures against the thresholds once the window holds
// min_samples calls: below min_asr or above max_pdd is critical, below
// warn_asr a warning.
func (t *tracker) level(now time.Time) graph.QualityLevel {
	if t.q == nil {
		return graph.QualityOK
	}
	return t.judge(t.figures(now))
}

func (t *tracker) judge(f Figures) graph.QualityLevel {
	if f.Attempts < t.q.MinSamples {
		return graph.QualityOK
	}
	switch {
	case f.ASR < t.q.MinASR, t.q.MaxPDD > 0 && f.PDD > t.q.MaxPDD:
		return graph.QualityCritical
	case f.ASR < t.q.WarnASR:
		return graph.QualityWarn
	}
	return graph.QualityOK
}

// Record counts the outcome of a call placed on c (a final answer, or no
// answer within the failover timeout) in its quality window and counters.
// Calls the caller cancelled before any answer are not recorded.
func (s *Store) Record(c *graph.Carrier, o Outcome) {
	cs := s.state(c.ID)
	if cs == nil {
		return
	}
	if o.Answered {
		cs.stats.answered.Add(1)
	}
	now := s.now()
	cs.mu.Lock()
	cs.quality.record(now, o)
	cs.judged.Store(0) // judge again at the next decision
	cs.mu.Unlock()
}

// level is the carrier's quality level. Decisions read it far more often
// than calls end, so it is judged once per bucket period (and after each
// new sample) and published in judged: slot<<2 | level, 0 for none.
func (cs *carrierState) level(now time.Time) graph.QualityLevel {
	width := cs.qualityWidth.Load()
	if width == 0 {
		return graph.QualityOK // no quality block
	}
	slot := now.UnixNano()/width + 1 // + 1: never 0
	if j := cs.judged.Load(); j != 0 && j>>2 == slot {
		return graph.QualityLevel(j & 3)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	l := cs.quality.level(now)
	cs.judged.Store(slot<<2 | int64(l)) // under mu: a Record cannot slip in between
	return l
}
