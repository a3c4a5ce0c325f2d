package carrier

import (
	"fmt"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/state"
)

// SetUp sets a carrier's observed health, as probing decides it; reason
// says why it is down. Unknown IDs are ignored. Traffic does not mark a
// carrier down: failed calls lower its quality (see Record), which moves
// it behind the others, as qrouting does.
func (s *Store) SetUp(id graph.ID, up bool, reason string) {
	cs := s.state(id)
	if cs == nil || cs.up.Load() == up {
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.up.CompareAndSwap(!up, up) {
		cs.reason, cs.changed = reason, s.now()
		if up {
			cs.reason = ""
		}
	}
}

// SetMode sets the administrative mode of a carrier of the running
// policy: disabled and draining carriers take no new calls, their calls in
// progress continue. The mode survives reloads. It fails for an ID that
// is not a carrier of the attached graph and for an unknown mode.
func (s *Store) SetMode(id graph.ID, m state.Mode) error {
	switch m {
	case state.ModeEnabled, state.ModeDisabled, state.ModeDraining:
	default:
		return fmt.Errorf("carrier %s: mode %q: want enabled, disabled or draining", id, m)
	}
	cs := s.state(id)
	if cs == nil {
		return fmt.Errorf("set mode: %q is not a carrier of the running policy", id)
	}
	if m == state.ModeEnabled {
		cs.mode.Store(nil)
		return nil
	}
	cs.mode.Store(&m)
	return nil
}

// Up reports a carrier's observed health; unknown IDs are up.
func (s *Store) Up(id graph.ID) bool {
	cs := s.state(id)
	return cs == nil || cs.up.Load()
}
