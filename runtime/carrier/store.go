// Package carrier is the runtime state of PSTN carriers: health and admin
// overrides, concurrent-call and calls-per-second limits, and the quality
// tracker (answer-seizure ratio and post-dial delay over a sliding
// window). It implements graph.Carriers, so that least-cost decisions see
// live limits and quality, and the Claim the proxy takes before sending a
// call to a carrier.
//
// State is keyed by carrier ID ("carrier.acme") and lives outside the
// graph: a reload that keeps a carrier keeps its counters, and a reload
// that changes its limits applies them to the same counts.
package carrier

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/state"
)

// CallCounter reports the calls in progress per target ID. The proxy binds
// it to its dialog table, so that the calls limit counts the dialogs that
// exist and never drifts; Counter is a standalone implementation.
type CallCounter interface {
	// Active is the number of calls in progress at the target.
	Active(id graph.ID) int
}

// Store is the state of every carrier of one proxy. It is safe for
// concurrent use; the per-call path (CarrierStatus, Claim, Record) takes
// only the lock of the carrier it touches.
type Store struct {
	// idx maps the attached graph's carrier IDs to their state; replaced
	// whole by Attach, read without locks.
	idx atomic.Pointer[map[graph.ID]*carrierState]
	// mu serialises Attach and overrides; all keeps the state of every
	// carrier ever attached, so that one removed and added back keeps its
	// counters and override.
	mu    sync.Mutex
	all   map[graph.ID]*carrierState
	calls CallCounter
	// shifts holds the CSeq shifts of authenticated carrier legs;
	// contacts the callers' Contacts hidden from carriers.
	shifts   shifts
	contacts contacts
	// now is the clock; tests replace it before use.
	now func() time.Time
}

var _ graph.Carriers = (*Store)(nil)

// New returns a store that reads active calls from calls. Attach a graph
// before the first call.
func New(calls CallCounter) *Store {
	s := &Store{all: make(map[graph.ID]*carrierState), calls: calls, now: time.Now}
	empty := map[graph.ID]*carrierState{}
	s.idx.Store(&empty)
	return s
}

// SetClock replaces the store's clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Attach installs the carriers of g: existing carriers keep their state
// (counts, quality samples, health, override) under the new declaration;
// new ones start up, with empty counters.
func (s *Store) Attach(g *graph.Graph) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := make(map[graph.ID]*carrierState, len(g.Carriers))
	for _, c := range g.Carriers {
		cs := s.all[c.ID]
		if cs == nil {
			cs = newCarrierState(c.ID, s.now())
			s.all[c.ID] = cs
		}
		cs.declare(c)
		idx[c.ID] = cs
	}
	s.idx.Store(&idx)
}

func (s *Store) state(id graph.ID) *carrierState { return (*s.idx.Load())[id] }

// carrierState is the runtime state of one carrier.
type carrierState struct {
	id   graph.ID
	decl atomic.Pointer[graph.Carrier]

	// up is the observed health (probing); mode the admin override.
	up   atomic.Bool
	mode atomic.Pointer[state.Mode]

	// mu guards the limits' window, the quality buckets and the health
	// reason, and serialises claims. Decisions (CarrierStatus) take no
	// lock: they read reserved, cpsFreeAt and the quality level from
	// atomics that the writers publish under mu.
	mu       sync.Mutex
	cps      startWindow
	reserved atomic.Int64
	// cpsFreeAt is when the cps window next allows a start (unix ns); 0
	// while it is not full.
	cpsFreeAt atomic.Int64
	quality   tracker
	// qualityWidth is the quality tracker's bucket width (ns), 0 without
	// a quality block; judged caches its level (see level).
	qualityWidth atomic.Int64
	judged       atomic.Int64
	reason       string
	changed      time.Time
	reg          *Registration // nil: the carrier is not registered with

	stats counters
}

func newCarrierState(id graph.ID, now time.Time) *carrierState {
	cs := &carrierState{id: id, changed: now}
	cs.up.Store(true)
	return cs
}

// declare applies a (new) declaration: the limits and the quality window
// change, the counts and samples stay.
func (cs *carrierState) declare(c *graph.Carrier) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.decl.Store(c)
	cs.cps.resize(c.Limits.CPS)
	cs.cpsFreeAt.Store(cs.cps.freeAt())
	cs.quality.configure(c.Quality)
	cs.qualityWidth.Store(cs.quality.width)
	cs.judged.Store(0)
}

// CarrierStatus implements graph.Carriers: whether c could take a new call
// now (health, override, limits) and its quality level. It claims nothing
// and takes no lock (but once per quality bucket, to judge the window).
func (s *Store) CarrierStatus(c *graph.Carrier) graph.CarrierStatus {
	cs := s.state(c.ID)
	if cs == nil {
		return graph.CarrierStatus{}
	}
	now := s.now()
	return graph.CarrierStatus{Skip: s.skip(cs, c, now), Quality: cs.level(now)}
}

// skip is why cs cannot take a new call now; graph.CarrierOK when it can.
// Claim calls it under cs.mu, which makes its answer exact.
func (s *Store) skip(cs *carrierState, c *graph.Carrier, now time.Time) graph.CarrierSkip {
	if m := cs.mode.Load(); m != nil {
		switch *m {
		case state.ModeDisabled:
			return graph.SkipDisabled
		case state.ModeDraining:
			return graph.SkipDraining
		}
	}
	if !cs.up.Load() {
		return graph.SkipDown
	}
	if l := c.Limits.Calls; l > 0 && s.active(cs)+int(cs.reserved.Load()) >= l {
		return graph.SkipCalls
	}
	if at := cs.cpsFreeAt.Load(); at != 0 && now.UnixNano() < at {
		return graph.SkipCPS
	}
	return graph.CarrierOK
}

func (s *Store) active(cs *carrierState) int {
	if s.calls == nil {
		return 0
	}
	return s.calls.Active(cs.id)
}
