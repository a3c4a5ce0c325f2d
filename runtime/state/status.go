package state

import (
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// MemberStatus is a member's declared and observed state, for the admin API
// and metrics.
type MemberStatus struct {
	ID graph.ID `json:"id"`
	// Pool is the member's pool.
	Pool graph.ID `json:"pool"`
	// Up is the observed health.
	Up bool `json:"up"`
	// Mode is the administrative mode (enabled without an override).
	Mode Mode `json:"mode"`
	// Weight is the effective weight: the override or the declared one.
	Weight      int `json:"weight"`
	ActiveCalls int `json:"active_calls"`
	// Free is the effective capacity minus the active calls, per resource
	// the member declares or an override sets; negative when over capacity.
	Free map[string]int `json:"free,omitempty"`
	// Degraded is true for a member that failed often enough to be marked
	// down but stays up as the last of its pool in service.
	Degraded bool `json:"degraded,omitempty"`
	// DownReason says why the member is down; empty when up.
	DownReason string `json:"down_reason,omitempty"`
	// Changed is when the observed health last changed (or when the member
	// first appeared).
	Changed time.Time `json:"changed"`
	// Removed is true for a member the running policy no longer declares
	// and that still holds calls.
	Removed bool `json:"removed,omitempty"`
}

// Members returns the status of every member of the attached graph in
// declaration order, then of the removed members still holding calls.
func (s *Store) Members() []MemberStatus {
	ix := s.idx.Load()
	out := make([]MemberStatus, 0, len(ix.order))
	for _, ms := range ix.order {
		if ms.removed.Load() && ms.calls() == 0 {
			continue
		}
		out = append(out, ms.status())
	}
	return out
}

// status snapshots the member's state.
func (ms *memberState) status() MemberStatus {
	decl := ms.decl.Load()
	reason, changed := ms.healthOf()
	st := MemberStatus{
		ID:          ms.id,
		Pool:        poolID(decl),
		Up:          ms.up.Load(),
		Mode:        ModeEnabled,
		Weight:      weight(ms, decl),
		ActiveCalls: ms.calls(),
		Degraded:    ms.degraded.Load(),
		DownReason:  reason,
		Changed:     changed,
		Removed:     ms.removed.Load(),
	}
	o := ms.ov.Load()
	if o != nil && o.Mode != "" {
		st.Mode = o.Mode
	}
	st.Free = make(map[string]int)
	for r := range decl.Capacity {
		st.Free[r] = free(ms, decl, r)
	}
	if o != nil {
		for r := range o.Capacity {
			st.Free[r] = free(ms, decl, r)
		}
	}
	if len(st.Free) == 0 {
		st.Free = nil
	}
	return st
}

// Drained reports whether a draining member has no calls left, so that the
// operator can take it out of service.
func (s *Store) Drained(id graph.ID) bool {
	ms := s.idx.Load().byID[id]
	if ms == nil {
		return false
	}
	o := ms.ov.Load()
	return o != nil && o.Mode == ModeDraining && ms.calls() == 0
}
