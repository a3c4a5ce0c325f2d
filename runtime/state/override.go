package state

import (
	"fmt"
	"maps"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Mode is a member's administrative mode.
type Mode string

// Administrative modes.
const (
	// ModeEnabled: the member takes calls as its health allows.
	ModeEnabled Mode = "enabled"
	// ModeDisabled: the member takes no new calls.
	ModeDisabled Mode = "disabled"
	// ModeDraining: the member takes no new calls; its calls continue and
	// Drained reports when the last one has ended.
	ModeDraining Mode = "draining"
)

// Override is an administrative change to what the policy declares for a
// member. Overrides are runtime state: they survive reloads of the policy
// and are only removed by ClearOverride.
type Override struct {
	// Mode is the administrative mode; "" means enabled.
	Mode Mode `json:"mode,omitempty"`
	// Weight replaces the declared weight when set.
	Weight *int `json:"weight,omitempty"`
	// Capacity replaces the declared capacity of the resources it names.
	Capacity map[string]int `json:"capacity,omitempty"`
}

// clone returns a deep copy, so that the stored override is never shared
// with a caller.
func (o Override) clone() Override {
	c := Override{Mode: o.Mode}
	if c.Mode == "" {
		c.Mode = ModeEnabled
	}
	if o.Weight != nil {
		w := *o.Weight
		c.Weight = &w
	}
	if o.Capacity != nil {
		c.Capacity = maps.Clone(o.Capacity)
	}
	return c
}

// validate checks the override's values.
func (o Override) validate() error {
	switch o.Mode {
	case "", ModeEnabled, ModeDisabled, ModeDraining:
	default:
		return fmt.Errorf("mode %q: want enabled, disabled or draining", o.Mode)
	}
	if o.Weight != nil && *o.Weight < 0 {
		return fmt.Errorf("weight %d: must not be negative", *o.Weight)
	}
	for r, c := range o.Capacity {
		if r == "" {
			return fmt.Errorf("capacity: empty resource name")
		}
		if c < 0 {
			return fmt.Errorf("capacity %s=%d: must not be negative", r, c)
		}
	}
	return nil
}

// SetOverride replaces the override of a member of the running policy. It
// fails for an ID that is not a member of the attached graph and for bad
// values, and then changes nothing. To change one field, read Override
// first or use UpdateOverride.
func (s *Store) SetOverride(id graph.ID, o Override) error {
	return s.UpdateOverride(id, func(Override) Override { return o })
}

// UpdateOverride changes a member's override atomically: fn gets the
// current one (the zero Override when there is none) and returns the new
// one. It fails like SetOverride.
func (s *Store) UpdateOverride(id graph.ID, fn func(Override) Override) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.declared(id)
	if ms == nil {
		return fmt.Errorf("set override: %q is not a member of the running policy", id)
	}
	cur, ok := s.overrides[id]
	if ok {
		cur = cur.clone()
	}
	o := fn(cur)
	if err := o.validate(); err != nil {
		return fmt.Errorf("set override of %s: %w", id, err)
	}
	o = o.clone()
	s.overrides[id] = o
	stored := o.clone()
	ms.ov.Store(&stored)
	return nil
}

// declared returns the state of a member the attached graph declares.
func (s *Store) declared(id graph.ID) *memberState {
	ms := s.idx.Load().byID[id]
	if ms == nil || ms.removed.Load() {
		return nil
	}
	return ms
}

// Override returns the override of id, if any.
func (s *Store) Override(id graph.ID) (Override, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.overrides[id]
	if !ok {
		return Override{}, false
	}
	return o.clone(), true
}

// ClearOverride removes the override of id: the member goes back to what
// the policy declares. Clearing a member without one does nothing.
func (s *Store) ClearOverride(id graph.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.overrides, id)
	if ms := s.idx.Load().byID[id]; ms != nil {
		ms.ov.Store(nil)
	}
}

// Overrides returns a copy of every override, including those of members
// the running policy no longer declares (they apply again if the member
// comes back).
func (s *Store) Overrides() map[graph.ID]Override {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[graph.ID]Override, len(s.overrides))
	for id, o := range s.overrides {
		out[id] = o.clone()
	}
	return out
}
