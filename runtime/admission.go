package runtime

import (
	"errors"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/forward"
)

// DefaultMaxInflight bounds the initial INVITEs waiting for a member's
// first answer when neither Config.MaxInflight nor the graph's
// proxy.max_inflight sets a limit (the compiler's default is the same).
// On the 2-core benchmark machine the proxy relays about 2500 calls/s;
// 2000 waiting INVITEs is then most of a second of backlog, well before
// failover.timeout is reached by the proxy's own lag.
const DefaultMaxInflight = 2000

// overloadRetryAfter is the Retry-After of a shed INVITE (RFC 3261
// §21.5.4): short, since the backlog it protects clears in well under a
// second.
const overloadRetryAfter = 1

// overloadWindow is how long after shedding an INVITE the proxy counts
// itself overloaded: timeouts then are blamed on its own lag, not on the
// member (see countsAgainstTarget).
const overloadWindow = time.Second

// Pseudo-IDs reported to the Observer as decidedBy when no filter or route
// decided a request. Graph IDs always hold a dot, so these never collide.
const (
	// DecidedIntake: the proxy answered before any graph decision:
	// validation (RFC 3261 §16.3), a CANCEL that matches no transaction,
	// an OPTIONS ping to the proxy itself, a new INVITE while draining.
	DecidedIntake graph.ID = "intake"
	// DecidedInDialog: an in-dialog request (ACK included), relayed by
	// its route set, the dialog table or its Request-URI.
	DecidedInDialog graph.ID = "in_dialog"
	// DecidedOverload: an initial INVITE shed by admission control (503
	// with Retry-After).
	DecidedOverload graph.ID = "overload"
)

// limitFor is the admission limit for graph g; negative means none.
// Config.MaxInflight (serve's --max-inflight, when given) wins over the
// policy's proxy.max_inflight; a graph without one (built by hand, not
// compiled) gets DefaultMaxInflight.
func (c *Config) limitFor(g *graph.Graph) int64 {
	switch {
	case c.MaxInflight < 0:
		return -1
	case c.MaxInflight > 0:
		return int64(c.MaxInflight)
	case g.Proxy.MaxInflight > 0:
		return int64(g.Proxy.MaxInflight)
	}
	return DefaultMaxInflight
}

// setLimit applies the admission limit of a graph being swapped in. A
// lower limit than the INVITEs already waiting sheds new ones until
// enough of those are answered; none is cut short.
func (s *Server) setLimit(g *graph.Graph) {
	limit := s.cfg.limitFor(g)
	if old := s.maxInflight.Swap(limit); old != limit && old != 0 {
		s.log.Info("admission limit changed", "max_inflight", limit, "previous", old,
			"waiting", s.waiting.Load())
	}
}

// admit takes an admission slot for an initial INVITE; false means the
// proxy is at its limit and the INVITE must be shed. The waiting INVITEs
// are counted even without a limit, for InflightInvites.
func (s *Server) admit() bool {
	limit := s.maxInflight.Load()
	if n := s.waiting.Add(1); limit < 0 || n <= limit {
		return true
	}
	s.waiting.Add(-1)
	now := time.Now().UnixNano()
	s.shedAt.Store(now)
	s.shed.Add(1)
	if n, ok := s.shedLog.allow(now); ok {
		s.log.Warn("overload: shedding new INVITEs with 503", "limit", limit,
			"shed_total", s.shed.Load(), "suppressed", n)
	}
	return false
}

// release gives an admission slot back.
func (s *Server) release() { s.waiting.Add(-1) }

// overloaded reports whether the proxy is at its admission limit, or shed
// an INVITE within overloadWindow.
func (s *Server) overloaded() bool {
	limit := s.maxInflight.Load()
	if limit < 0 {
		return false
	}
	return s.waiting.Load() >= limit ||
		time.Now().UnixNano()-s.shedAt.Load() < int64(overloadWindow)
}

// countsAgainstTarget reports whether a failed try counts against the
// target's health. A timeout while the proxy is overloaded does not: the
// answer was most likely late because the proxy itself was, and marking
// members down for it turns an overload into a total outage.
func (s *Server) countsAgainstTarget(out forward.Outcome) bool {
	return out.Final != nil || !isTimeout(out.Err) || !s.overloaded()
}

func isTimeout(err error) bool { return errors.Is(err, sip.ErrTransactionTimeout) }

// shedInvite answers an initial INVITE the proxy has no room for: 503 with
// Retry-After, at once, so that the caller (or an upstream proxy) tries
// elsewhere or later instead of waiting for a timeout.
func (s *Server) shedInvite(tx sip.ServerTransaction, req *sip.Request) {
	s.obs.Request(string(req.Method), DecidedOverload)
	res := sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
	res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(overloadRetryAfter)))
	s.relay.Respond(tx, req, res)
}

// InflightInvites returns the initial INVITEs admitted and not yet answered
// by a member.
func (s *Server) InflightInvites() int64 { return s.waiting.Load() }

// MaxInflight returns the admission limit in force (negative: none).
func (s *Server) MaxInflight() int64 { return s.maxInflight.Load() }

// Shed returns how many initial INVITEs admission control refused.
func (s *Server) Shed() uint64 { return s.shed.Load() }
