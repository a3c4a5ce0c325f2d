package state

import (
	"fmt"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// ReportFailure counts a relay failure of m (a timeout, a transport error,
// or a final answer in failover.on). After threshold consecutive failures
// (the pool's probe down_after, or 3 without a probe block) the member is
// marked down: it takes no new calls, its calls in progress are untouched.
//
// Traffic never takes the last member of a pool that is in service out of
// it: when no other member of the pool is up and enabled, the member stays
// up, flagged degraded, and is still tried. Failures seen from traffic are
// as often the proxy's or the network's as the member's, and a pool with
// no member left answers every call 503 at once (a self-inflicted outage);
// a degraded member still answers some. Probing (SetUp) can still mark it
// down: a probe verdict is about the member alone.
func (s *Store) ReportFailure(m *graph.Member, why string) {
	ms := s.idx.Load().member(m)
	if ms == nil {
		return
	}
	n := int(ms.failures.Add(1))
	limit := threshold(m)
	if n < limit {
		return
	}
	if ms.up.Load() && !s.othersInService(m.Pool, ms) {
		ms.degraded.Store(true)
		return
	}
	ms.downAt.Store(s.now().UnixNano())
	if !ms.up.CompareAndSwap(true, false) {
		// Already down: the new failure restarts the rest of a member that
		// traffic took down.
		return
	}
	ms.degraded.Store(false)
	ms.downByTraffic.Store(true)
	reason := fmt.Sprintf("%d consecutive failures, last: %s", n, why)
	s.changed(ms, false, reason)
}

// othersInService reports whether a member of p other than ms is up and
// not taken out by an admin override. A member resting after traffic
// failures does not count, even when its rest is over: it is not known to
// answer.
func (s *Store) othersInService(p *graph.Pool, ms *memberState) bool {
	if p == nil {
		return true
	}
	for _, o := range s.idx.Load().view(p).members {
		if o == nil || o == ms || o.removed.Load() || !o.up.Load() {
			continue
		}
		if ov := o.ov.Load(); ov != nil && ov.Mode != ModeEnabled && ov.Mode != "" {
			continue
		}
		return true
	}
	return false
}

// Degraded reports whether traffic would have marked the member down had
// it not been the last one of its pool in service; unknown IDs are not.
func (s *Store) Degraded(id graph.ID) bool {
	ms := s.idx.Load().byID[id]
	return ms != nil && ms.degraded.Load()
}

// ReportSuccess records an answer from m; it resets the consecutive-failure
// count. A member that traffic marked down in a pool without a probe block
// comes back up when it answers a call it was given after its rest (see
// SetRetryAfter); otherwise only probing (SetUp) brings a member back.
func (s *Store) ReportSuccess(m *graph.Member) {
	ms := s.idx.Load().member(m)
	if ms == nil {
		return
	}
	if ms.failures.Load() != 0 {
		ms.failures.Store(0)
	}
	if ms.degraded.Load() {
		ms.degraded.Store(false)
	}
	if ms.up.Load() || !s.retryDue(ms, m.Pool) {
		return
	}
	if ms.up.CompareAndSwap(false, true) {
		ms.downByTraffic.Store(false)
		s.changed(ms, true, "answered after rest")
	}
}

// threshold is the number of consecutive failures that marks a member of
// m's pool down.
func threshold(m *graph.Member) int {
	if m.Pool != nil && m.Pool.Probe != nil && m.Pool.Probe.DownAfter > 0 {
		return m.Pool.Probe.DownAfter
	}
	return defaultDownAfter
}

// retryDue reports whether a down member may be tried again: traffic (not
// probing) took it down, its pool has no probe block that would bring it
// back, and it has rested for the retry period since its last failure.
func (s *Store) retryDue(ms *memberState, p *graph.Pool) bool {
	if p == nil || p.Probe != nil || !ms.downByTraffic.Load() {
		return false
	}
	return s.now().UnixNano()-ms.downAt.Load() >= s.retryAfter.Load()
}

// SetUp sets the observed health of a member, as probing decides it. Going
// up also resets the consecutive-failure count. Unknown IDs are ignored.
func (s *Store) SetUp(id graph.ID, up bool, reason string) {
	ms := s.idx.Load().byID[id]
	if ms == nil {
		return
	}
	if up {
		ms.failures.Store(0)
		ms.degraded.Store(false)
	} else {
		// Probing owns this member's health now: no rest-and-retry.
		ms.downByTraffic.Store(false)
		ms.downAt.Store(s.now().UnixNano())
	}
	if ms.up.CompareAndSwap(!up, up) {
		if up {
			ms.downByTraffic.Store(false)
		}
		s.changed(ms, up, reason)
	}
}

// Up reports the observed health of a member; unknown IDs are up.
func (s *Store) Up(id graph.ID) bool {
	ms := s.idx.Load().byID[id]
	return ms == nil || ms.up.Load()
}

// changed records a health transition and tells the OnChange callback,
// outside the member's lock.
func (s *Store) changed(ms *memberState, up bool, reason string) {
	ms.mu.Lock()
	ms.reason, ms.changed = reason, s.now()
	if up {
		ms.reason = ""
	}
	ms.mu.Unlock()
	if fn := s.onChange.Load(); fn != nil {
		(*fn)(ms.id, up, reason)
	}
}

// healthOf returns the reason a member is down ("" when up) and when its
// health last changed.
func (ms *memberState) healthOf() (string, time.Time) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.reason, ms.changed
}
