package metrics

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/state"
)

// live is a metrics.Source over a hand-built graph and a real store.
type live struct {
	g  *graph.Graph
	st *state.Store
}

func (l *live) Graph() *graph.Graph { return l.g }
func (l *live) State() *state.Store { return l.st }

func testGraph(t *testing.T) *graph.Graph {
	t.Helper()
	pool := &graph.Pool{ID: "pool.asterisk", Name: "asterisk", Balance: graph.BalanceRoundRobin}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("ast%d", i)
		pool.Members = append(pool.Members, &graph.Member{ID: graph.ID("pool.asterisk.member." + name),
			Name: name, Host: "127.0.0.1", Port: 5060 + i, Transport: "udp", Weight: 1})
	}
	g := &graph.Graph{Hash: "abc123", Pools: []*graph.Pool{pool}}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	return g
}

// scrape fetches /metrics over HTTP and parses it with the Prometheus text
// parser, as a Prometheus server would.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", res.StatusCode, ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return fams
}

// value returns the value of the series of family name whose labels match
// want exactly, and whether it exists.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		if len(m.Label) != len(want) {
			continue
		}
		match := true
		for _, l := range m.Label {
			if want[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func expect(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := value(fams, name, labels)
	if !ok {
		t.Errorf("%s%v: missing", name, labels)
		return
	}
	if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func TestCountersAndGauges(t *testing.T) {
	g := testGraph(t)
	st := state.New()
	st.Attach(g)
	m := New(nil)
	m.Attach(&live{g, st})
	ast1, ast2, ast3 := g.Pools[0].Members[0], g.Pools[0].Members[1], g.Pools[0].Members[2]

	for i := 0; i < 7; i++ {
		m.Request("INVITE", "route.did")
		m.Relay(ast1.ID)
		m.DecisionTime(3 * time.Microsecond)
		m.Response(200)
		st.StartCall(ast1, fmt.Sprintf("call-%d", i), "tag", "alice", "bob")
	}
	m.Request("BYE", "in_dialog")
	m.Request("INVITE", "intake")
	m.Request("OPTIONS", "")
	m.Request("XFOO", "filter.scanners")
	m.Response(486)
	m.Response(9999)
	m.Failover(ast2.ID, 503)
	m.Failover(ast2.ID, 0)
	m.Failover(ast2.ID, 0)
	m.Reload(true)
	m.Reload(false)
	m.Reload(true)
	st.SetUp(ast3.ID, false, "probe: no answer")
	if err := st.SetOverride(ast2.ID, state.Override{Mode: state.ModeDraining}); err != nil {
		t.Fatal(err)
	}

	f := scrape(t, m.Handler())
	expect(t, f, "sipfront_requests_total", map[string]string{"method": "INVITE", "decided_by": "route.did"}, 7)
	expect(t, f, "sipfront_requests_total", map[string]string{"method": "BYE", "decided_by": "in_dialog"}, 1)
	expect(t, f, "sipfront_requests_total", map[string]string{"method": "INVITE", "decided_by": "intake"}, 1)
	expect(t, f, "sipfront_requests_total", map[string]string{"method": "OPTIONS", "decided_by": "none"}, 1)
	expect(t, f, "sipfront_requests_total", map[string]string{"method": "other", "decided_by": "filter.scanners"}, 1)
	expect(t, f, "sipfront_responses_total", map[string]string{"code": "200"}, 7)
	expect(t, f, "sipfront_responses_total", map[string]string{"code": "486"}, 1)
	expect(t, f, "sipfront_responses_total", map[string]string{"code": "other"}, 1)
	expect(t, f, "sipfront_relays_total", map[string]string{"member": string(ast1.ID)}, 7)
	expect(t, f, "sipfront_failovers_total", map[string]string{"member": string(ast2.ID), "code": "503"}, 1)
	expect(t, f, "sipfront_failovers_total", map[string]string{"member": string(ast2.ID), "code": "no_answer"}, 2)
	expect(t, f, "sipfront_reloads_total", map[string]string{"result": "ok"}, 2)
	expect(t, f, "sipfront_reloads_total", map[string]string{"result": "error"}, 1)
	expect(t, f, "sipfront_decision_seconds", nil, 7)
	expect(t, f, "sipfront_active_calls", map[string]string{"member": string(ast1.ID)}, 7)
	expect(t, f, "sipfront_active_calls", map[string]string{"member": string(ast2.ID)}, 0)
	expect(t, f, "sipfront_member_up", map[string]string{"member": string(ast1.ID)}, 1)
	expect(t, f, "sipfront_member_up", map[string]string{"member": string(ast3.ID)}, 0)
	expect(t, f, "sipfront_member_state_changes_total", map[string]string{"member": string(ast3.ID)}, 1)
	expect(t, f, "sipfront_member_mode", map[string]string{"member": string(ast2.ID), "mode": "draining"}, 1)
	expect(t, f, "sipfront_policy_info", map[string]string{"hash": "abc123"}, 1)
	if _, ok := value(f, "sipfront_member_state_changes_total", map[string]string{"member": string(ast1.ID)}); ok {
		t.Error("a member that never changed has a state-change series")
	}
	if f["go_goroutines"] == nil {
		t.Error("Go runtime collector missing")
	}
	if f["go_gc_stack_starting_size_bytes"] == nil {
		t.Error("the starting goroutine stack (the stack ballast's effect) is not exported")
	}

	// Ending calls is visible at the next scrape, with no bookkeeping.
	st.EndCall("call-0", "tag")
	st.SetUp(ast3.ID, true, "probe: back")
	f = scrape(t, m.Handler())
	expect(t, f, "sipfront_active_calls", map[string]string{"member": string(ast1.ID)}, 6)
	expect(t, f, "sipfront_member_up", map[string]string{"member": string(ast3.ID)}, 1)
	expect(t, f, "sipfront_member_state_changes_total", map[string]string{"member": string(ast3.ID)}, 2)
}

func TestLabelBounds(t *testing.T) {
	cases := []struct{ in, want string }{{"INVITE", "INVITE"}, {"invite", "other"}, {"FOO", "other"}, {"", "other"}}
	for _, c := range cases {
		if got := methodLabel(c.in); got != c.want {
			t.Errorf("methodLabel(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for code, want := range map[int]string{99: "other", 100: "100", 699: "699", 700: "other", -1: "other"} {
		if got := codeLabel(code); got != want {
			t.Errorf("codeLabel(%d) = %q, want %q", code, got, want)
		}
	}
}

// The request path must not allocate once a label value has been seen.
func TestObserverDoesNotAllocate(t *testing.T) {
	m := New(nil)
	m.Request("INVITE", "route.did")
	m.Response(200)
	m.Relay("pool.asterisk.member.ast1")
	m.Failover("pool.asterisk.member.ast1", 503)
	allocs := testing.AllocsPerRun(1000, func() {
		m.Request("INVITE", "route.did")
		m.Response(200)
		m.Relay("pool.asterisk.member.ast1")
		m.Failover("pool.asterisk.member.ast1", 503)
		m.DecisionTime(time.Microsecond)
	})
	if allocs != 0 {
		t.Errorf("observer allocates %.1f times per request", allocs)
	}
}

func BenchmarkObserver(b *testing.B) {
	m := New(nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("INVITE", "route.did")
			m.Relay("pool.asterisk.member.ast1")
			m.Response(200)
			m.DecisionTime(time.Microsecond)
		}
	})
}

// withAdmission is a Source that is also an Admission.
type withAdmission struct {
	*live
	waiting atomic.Int64
}

func (w *withAdmission) InflightInvites() int64 { return w.waiting.Load() }

// sipfront_inflight_invites is read from the source at every scrape, and
// only exists for a source with admission control.
func TestInflightGauge(t *testing.T) {
	g := testGraph(t)
	st := state.New()
	st.Attach(g)
	without := New(nil)
	without.Attach(&live{g, st})
	if f := scrape(t, without.Handler()); f["sipfront_inflight_invites"] != nil {
		t.Error("sipfront_inflight_invites exported for a source without admission control")
	}
	src := &withAdmission{live: &live{g, st}}
	src.waiting.Store(17)
	m := New(nil)
	m.Attach(src)
	expect(t, scrape(t, m.Handler()), "sipfront_inflight_invites", nil, 17)
	src.waiting.Store(3)
	expect(t, scrape(t, m.Handler()), "sipfront_inflight_invites", nil, 3)
}
