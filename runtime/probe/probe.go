// Package probe sends SIP OPTIONS to the members of every pool that has a
// probe block and turns the answers into observed member health: DownAfter
// consecutive failures mark a member down, UpAfter consecutive good answers
// mark it up again.
//
// The prober follows reloads: it watches the graph the server currently
// runs, starts a worker for every probed member that appears and lets the
// worker of a member that disappears (or whose pool lost its probe block)
// end at its next round. Health itself lives in the runtime state store, so
// a member marked down by traffic (failover) is brought back by probing too.
package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Source is what the prober needs from the running proxy: the graph it
// serves now and a way to send an OPTIONS from the proxy's own listening
// address. *runtime.Server satisfies it.
type Source interface {
	Graph() *graph.Graph
	Options(ctx context.Context, m *graph.Member) (int, error)
}

// Health is where verdicts go. *state.Store satisfies it. Up is read before
// each verdict so that a member marked down by traffic is brought back by
// probes and a member already down is not marked down again.
type Health interface {
	Up(id graph.ID) bool
	SetUp(id graph.ID, up bool, reason string)
}

// watchEvery is how often the prober looks for a new graph. Comparing one
// pointer is cheap; a member added by a reload is probed within this delay.
const watchEvery = 200 * time.Millisecond

// Prober probes every member of every probed pool of the current graph.
type Prober struct {
	src    Source
	health Health
	// carriers is the carriers' health, set by ProbeCarriers; nil: the
	// carriers' probe blocks are not served.
	carriers Health
	log      *slog.Logger

	mu      sync.Mutex
	workers map[graph.ID]bool
	last    map[graph.ID]Result
	wg      sync.WaitGroup
}

// Result is the outcome of a member's latest probe, for the admin API.
type Result struct {
	// At is when the probe was sent.
	At time.Time `json:"at"`
	// Code is the status code of the answer, 0 when none came.
	Code int `json:"code"`
	// OK says whether the answer counted as good.
	OK bool `json:"ok"`
	// Error describes a failure, "" on success.
	Error string `json:"error,omitempty"`
	// Fails and Goods count the consecutive bad and good probes.
	Fails int `json:"consecutive_failures"`
	Goods int `json:"consecutive_successes"`
}

// New returns a prober; call Run to start it.
func New(src Source, health Health, log *slog.Logger) *Prober {
	if log == nil {
		log = slog.Default()
	}
	return &Prober{src: src, health: health, log: log,
		workers: make(map[graph.ID]bool), last: make(map[graph.ID]Result)}
}

// Run probes until ctx ends, then waits for its workers to return.
func (p *Prober) Run(ctx context.Context) {
	defer p.wg.Wait()
	var seen *graph.Graph
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		if g := p.src.Graph(); g != seen && g != nil {
			seen = g
			p.startWorkers(ctx, g)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Last returns the latest probe result of a member, false when the member
// has not been probed.
func (p *Prober) Last(id graph.ID) (Result, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.last[id]
	return r, ok
}

// startWorkers starts a worker for every probed member of g that has none.
func (p *Prober) startWorkers(ctx context.Context, g *graph.Graph) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := func(id graph.ID) {
		if !p.workers[id] {
			p.workers[id] = true
			p.wg.Add(1)
			go p.work(ctx, id)
		}
	}
	for _, pool := range g.Pools {
		if pool.Probe == nil {
			continue
		}
		for _, m := range pool.Members {
			start(m.ID)
		}
	}
	if _, ok := p.src.(CarrierSource); ok && p.carriers != nil {
		for _, c := range g.Carriers {
			if c.Probe != nil {
				start(c.ID)
			}
		}
	}
}

// CarrierSource is a Source that also sends OPTIONS to carriers (from the
// carrier's exit); *runtime.Server satisfies it.
type CarrierSource interface {
	OptionsCarrier(ctx context.Context, c *graph.Carrier) (int, error)
}

// ProbeCarriers makes the prober probe the carriers that have a probe
// block, reporting to health (the carriers' state), when its Source is a
// CarrierSource. Call it before Run.
func (p *Prober) ProbeCarriers(health Health) { p.carriers = health }

// probed is one probed node (a pool member or a carrier) as the
// running graph declares it.
type probed struct {
	id     graph.ID
	pr     *graph.Probe
	health Health
	// options sends one OPTIONS to the node.
	options func(ctx context.Context) (int, error)
}

// lookup finds id (a member or a carrier) in the current graph; it returns
// nil when the graph no longer declares it or no longer probes it.
func (p *Prober) lookup(id graph.ID) *probed {
	g := p.src.Graph()
	if g == nil {
		return nil
	}
	switch n := g.Node(id).(type) {
	case *graph.Member:
		if n.Pool != nil && n.Pool.Probe != nil {
			return &probed{id: id, pr: n.Pool.Probe, health: p.health,
				options: func(ctx context.Context) (int, error) { return p.src.Options(ctx, n) }}
		}
	case *graph.Carrier:
		if cs, ok := p.src.(CarrierSource); ok && n.Probe != nil && p.carriers != nil {
			return &probed{id: id, pr: n.Probe, health: p.carriers,
				options: func(ctx context.Context) (int, error) { return cs.OptionsCarrier(ctx, n) }}
		}
	}
	return nil
}

// that slow answers do not stretch the detection time.
func (p *Prober) work(ctx context.Context, id graph.ID) {
	defer p.wg.Done()
	var c counter
	for {
		m := p.stillProbed(id)
		if m == nil {
			return
		}
		start := time.Now()
		p.probeOnce(ctx, m, &c)
		wait := m.pr.Interval - time.Since(start)
		if wait <= 0 {
			// A zero interval would spin; the compiler rejects it, but a
			// hand-built graph might not.
			wait = time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// stillProbed returns the member when it is still probed. Otherwise it
// removes the worker's entry and returns nil. The second look happens under
// the lock that startWorkers holds, so a reload that brings the member back
// while its worker is leaving either keeps this worker or starts a new one.
func (p *Prober) stillProbed(id graph.ID) *probed {
	if m := p.lookup(id); m != nil {
		return m
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.lookup(id); m != nil {
		return m
	}
	delete(p.workers, id)
	delete(p.last, id)
	return nil
}

// probeOnce sends one OPTIONS and applies the verdict.
func (p *Prober) probeOnce(ctx context.Context, m *probed, c *counter) {
	pr := m.pr
	at := time.Now()
	pctx, cancel := context.WithTimeout(ctx, pr.Timeout)
	code, err := m.options(pctx)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: not the member's fault
	}
	ok, why := judge(pr, code, err)
	p.log.Debug("probe", "target", m.id, "code", code, "ok", ok, "error", why)
	c.observe(m.health.Up(m.id), ok)
	p.record(m.id, Result{At: at, Code: code, OK: ok, Error: why, Fails: c.fails, Goods: c.goods})
	p.decide(m, pr, c, why)
}

// decide marks the member down or up when a threshold is reached. The
// change is logged once, by the store's change listener (serve registers
// one for probing and traffic alike), not here.
func (p *Prober) decide(m *probed, pr *graph.Probe, c *counter, why string) {
	switch {
	case c.up && c.fails >= max(pr.DownAfter, 1):
		reason := fmt.Sprintf("probe: %d consecutive failures, last: %s", c.fails, why)
		m.health.SetUp(m.id, false, reason) // the store's change listener logs it
		c.up = false
	case !c.up && c.goods >= max(pr.UpAfter, 1):
		reason := fmt.Sprintf("probe: %d consecutive good answers", c.goods)
		m.health.SetUp(m.id, true, reason)
		c.up = true
	}
}

func (p *Prober) record(id graph.ID, r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last[id] = r
}

// counter holds a member's consecutive good and bad probes.
type counter struct {
	fails, goods int
	// up is the member's observed state as of the latest probe.
	up   bool
	init bool
}

// observe counts one probe. storeUp is the store's view now: when it went
// down without us (traffic marked it), the good probes seen before that no
// longer count, so coming back takes UpAfter fresh good answers.
func (c *counter) observe(storeUp, ok bool) {
	if !c.init || c.up != storeUp {
		c.init = true
		c.up = storeUp
		c.fails, c.goods = 0, 0
	}
	if ok {
		c.goods++
		c.fails = 0
	} else {
		c.fails++
		c.goods = 0
	}
}

// judge says whether an answer is good, and why not.
func judge(pr *graph.Probe, code int, err error) (bool, string) {
	switch {
	case err != nil && code == 0:
		if errors.Is(err, context.DeadlineExceeded) {
			return false, fmt.Sprintf("no answer within %s", pr.Timeout)
		}
		return false, err.Error()
	case Accepts(pr.Accept, code):
		return true, ""
	default:
		return false, fmt.Sprintf("answered %d, not accepted", code)
	}
}

// Accepts reports whether code is in accept, where an entry below 10 is a
// class (2 accepts any 2xx). An empty list accepts any 2xx.
func Accepts(accept []int, code int) bool {
	if len(accept) == 0 {
		return code >= 200 && code < 300
	}
	for _, a := range accept {
		if a == code || (a < 10 && code/100 == a) {
			return true
		}
	}
	return false
}
