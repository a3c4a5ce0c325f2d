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
	// judged caches level for the bucket period judgedSlot, until a new
	// sample arrives: decisions read the level far more often than calls
	// end.
	judgedSlot int64
	judged     graph.QualityLevel
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
	t.q, t.width, t.judgedSlot = q, width, -1
}

// record adds one call's outcome at now.
func (t *tracker) record(now time.Time, o Outcome) {
	if t.q == nil {
		return
	}
	b := t.bucket(now)
	t.judgedSlot = -1
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
	if slot := now.UnixNano() / t.width; slot != t.judgedSlot {
		t.judged, t.judgedSlot = t.judge(t.figures(now)), slot
	}
	return t.judged
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
	cs.mu.Unlock()
}
