package carrier

import (
	"sync/atomic"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/state"
)

// counters are a carrier's totals since the proxy started, for metrics.
type counters struct {
	attempts atomic.Int64
	answered atomic.Int64
	skipped  [graph.SkipTried + 1]atomic.Int64
}

// Status is a carrier's declared and observed state, for the admin API,
// `ctl carriers` and metrics.
type Status struct {
	ID   graph.ID   `json:"id"`
	Up   bool       `json:"up"`
	Mode state.Mode `json:"mode"`
	// DownReason says why the carrier is down; empty when up.
	DownReason string    `json:"down_reason,omitempty"`
	Changed    time.Time `json:"changed"`
	// ActiveCalls are the calls in progress, Reserved the calls sent and
	// not yet answered; CPS the starts of the last second. The limits are
	// the declared ones (0: unlimited).
	ActiveCalls int `json:"active_calls"`
	Reserved    int `json:"reserved"`
	CPS         int `json:"cps"`
	LimitCalls  int `json:"limit_calls"`
	LimitCPS    int `json:"limit_cps"`
	// Quality is the level its figures give; Window the figures over the
	// quality window (empty without a quality block).
	Quality string  `json:"quality"`
	Window  Figures `json:"window"`
	// Attempts and Answered count calls since the proxy started; Skipped
	// counts, by reason, the calls that could not be placed on it.
	Attempts int64            `json:"attempts"`
	Answered int64            `json:"answered"`
	Skipped  map[string]int64 `json:"skipped,omitempty"`
	// Registration is the proxy's registration with the carrier; nil
	// unless its auth block says register = true.
	Registration *Registration `json:"registration,omitempty"`
}

// Carriers returns the status of every carrier of the attached graph, in
// declaration order of g (the graph attached last).
func (s *Store) Carriers(g *graph.Graph) []Status {
	out := make([]Status, 0, len(g.Carriers))
	for _, c := range g.Carriers {
		if st, ok := s.Status(c.ID); ok {
			out = append(out, st)
		}
	}
	return out
}

// Status returns the status of one carrier of the attached graph.
func (s *Store) Status(id graph.ID) (Status, bool) {
	cs := s.state(id)
	if cs == nil {
		return Status{}, false
	}
	c := cs.decl.Load()
	now := s.now()
	st := Status{ID: id, Up: cs.up.Load(), Mode: state.ModeEnabled, ActiveCalls: s.active(cs),
		LimitCalls: c.Limits.Calls, LimitCPS: c.Limits.CPS,
		Attempts: cs.stats.attempts.Load(), Answered: cs.stats.answered.Load()}
	if m := cs.mode.Load(); m != nil {
		st.Mode = *m
	}
	cs.mu.Lock()
	st.DownReason, st.Changed, st.Reserved = cs.reason, cs.changed, int(cs.reserved.Load())
	if cs.reg != nil {
		reg := *cs.reg
		st.Registration = &reg
	}
	st.CPS = cs.cps.inLastSecond(now)
	st.Window = cs.quality.figures(now)
	cs.mu.Unlock()
	st.Quality = cs.level(now).String()
	for r := range cs.stats.skipped {
		if n := cs.stats.skipped[r].Load(); n > 0 {
			if st.Skipped == nil {
				st.Skipped = make(map[string]int64)
			}
			st.Skipped[graph.CarrierSkip(r).String()] = n
		}
	}
	return st, true
}
