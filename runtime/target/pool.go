package target

import (
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Members is the pool-member state a Pool iterator reads and reports to;
// *state.Store implements it.
type Members interface {
	Pick(p *graph.Pool, req *graph.Request, tried []*graph.Member) *graph.Member
	ReportFailure(m *graph.Member, why string)
	ReportSuccess(m *graph.Member)
}

// Pool iterates over the members of a pool: first the member the decision
// picked, then, on failover, the next distinct member the pool's balancing
// picks, up to failover.max_tries (every member when unset).
type Pool struct {
	state   Members
	req     *graph.Request
	pool    *graph.Pool
	first   *graph.Member
	next    *graph.Member
	max     int
	tried   []*graph.Member
	triedBf [4]*graph.Member
}

// NewPool returns the iterator for a request whose decision picked first.
// req is the graph view the decision read; balancing reads it again.
func NewPool(st Members, req *graph.Request, first *graph.Member) *Pool {
	p := &Pool{state: st, req: req, pool: first.Pool, first: first, max: first.Pool.Failover.MaxTries}
	if p.max <= 0 {
		p.max = len(p.pool.Members)
	}
	p.tried = p.triedBf[:0]
	return p
}

// Of returns the target for member m.
func Of(m *graph.Member) Target {
	t := Target{ID: m.ID, Addr: m.Addr(), Transport: m.Transport, Member: m}
	if m.Pool != nil {
		t.Group = m.Pool.ID
	}
	return t
}

// Next implements Iterator.
func (p *Pool) Next() (Target, bool) {
	if p.first != nil {
		m := p.first
		p.first = nil
		p.tried = append(p.tried, m)
		return Of(m), true
	}
	if len(p.tried) >= p.max {
		return Target{}, false
	}
	m := p.state.Pick(p.pool, p.req, p.tried)
	if m == nil {
		return Target{}, false
	}
	p.tried = append(p.tried, m)
	return Of(m), true
}

// Retries implements Iterator: timeouts and the pool's failover.on codes.
func (p *Pool) Retries(code int) bool { return code == 0 || p.pool.Failover.Retries(code) }

// NoAnswer implements Iterator: the pool's failover.timeout.
func (p *Pool) NoAnswer() time.Duration { return p.pool.Failover.Timeout }

// Failed implements Iterator.
func (p *Pool) Failed(t Target, code int, why string, counts bool) {
	if counts && t.Member != nil {
		p.state.ReportFailure(t.Member, why)
	}
}

// Answered implements Iterator.
func (p *Pool) Answered(t Target, code int) {
	if t.Member != nil {
		p.state.ReportSuccess(t.Member)
	}
}
