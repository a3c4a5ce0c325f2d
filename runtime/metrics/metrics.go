// Package metrics exposes the proxy's Prometheus metrics: per-request
// counters fed through runtime.Observer, member health changes fed by the
// state store, and gauges (member up, active calls, INVITEs waiting for
// an answer) read from the store and the server at scrape time, all in one
// registry served at /metrics on the admin address.
//
// The Observer methods run on the request path. They take no lock and
// build no label maps: label children are resolved once per label value
// and kept in copy-on-write caches, so a steady-state call is one atomic
// load, one map lookup and one atomic add.
package metrics

import (
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/state"
)

// Label values used when the real value is missing or out of range.
const (
	// noneLabel is decided_by for an out-of-dialog request that the graph
	// ran on and no filter or route decided (no route matched). The
	// runtime reports its own pseudo-IDs for the other cases: "intake"
	// (answered before the graph: validation, unmatched CANCEL, OPTIONS
	// ping, draining), "in_dialog" (ACK and in-dialog requests),
	// "overload" (shed by admission control).
	noneLabel = "none"
	// noAnswerLabel is a failover code for a timeout or a transport error.
	noAnswerLabel = "no_answer"
	// otherLabel is a method or a code outside the known set.
	otherLabel = "other"
)

// Metrics holds the proxy's collectors. It implements runtime.Observer.
type Metrics struct {
	reg *prometheus.Registry

	requests  *prometheus.CounterVec
	responses *prometheus.CounterVec
	relays    *prometheus.CounterVec
	failovers *prometheus.CounterVec
	changes   *prometheus.CounterVec
	reloadOK  prometheus.Counter
	reloadErr prometheus.Counter
	decision  prometheus.Histogram

	requestC  cache[requestKey]
	responseC cache[int]
	relayC    cache[graph.ID]
	failoverC cache[failoverKey]
	changeC   cache[graph.ID]

	// regs is set by AttachRegistrar; nil: no registrar metrics.
	regs *registrations
}

type requestKey struct {
	method    string
	decidedBy graph.ID
}

type failoverKey struct {
	member graph.ID
	code   int
}

// decisionBuckets span 1µs to ~0.5s: a graph decision is microseconds; the
// upper buckets catch pathological CEL or a stalled scheduler.
var decisionBuckets = prometheus.ExponentialBuckets(1e-6, 4, 10)

// New creates the metrics and registers them, with the Go runtime and
// process collectors, in reg (a fresh registry when nil).
func New(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{reg: reg}
	m.requests = counterVec("sipfront_requests_total",
		"SIP requests handled, by method and by the filter or route that decided them.", "method", "decided_by")
	m.responses = counterVec("sipfront_responses_total", "Final responses sent upstream, by status code.", "code")
	m.relays = counterVec("sipfront_relays_total", "Requests relayed to a pool member, counting each try.", "member")
	m.failovers = counterVec("sipfront_failovers_total",
		"Failed tries on a member (an answer in failover.on, a timeout or a transport error), by member and answer (no_answer: timeout or transport error).",
		"member", "code")
	m.changes = counterVec("sipfront_member_state_changes_total", "Observed up/down changes of a member.", "member")
	reloads := counterVec("sipfront_reloads_total", "Policy reload attempts, by result (ok, error).", "result")
	m.reloadOK, m.reloadErr = reloads.WithLabelValues("ok"), reloads.WithLabelValues("error")
	m.decision = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sipfront_decision_seconds",
		Help: "Time taken by one decision of the routing graph.", Buckets: decisionBuckets})

	m.requestC.init(func(k requestKey) prometheus.Counter {
		return m.requests.WithLabelValues(k.method, idLabel(k.decidedBy))
	})
	m.responseC.init(func(code int) prometheus.Counter { return m.responses.WithLabelValues(codeLabel(code)) })
	m.relayC.init(func(id graph.ID) prometheus.Counter { return m.relays.WithLabelValues(string(id)) })
	m.failoverC.init(func(k failoverKey) prometheus.Counter {
		return m.failovers.WithLabelValues(string(k.member), failoverCode(k.code))
	})
	m.changeC.init(func(id graph.ID) prometheus.Counter { return m.changes.WithLabelValues(string(id)) })

	reg.MustRegister(m.requests, m.responses, m.relays, m.failovers, m.changes, reloads, m.decision,
		goCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// goCollector is the Go runtime's collector with its default metrics and
// one more: the stack new goroutines start with
// (go_gc_stack_starting_size_bytes), which serve's stack ballast keeps at
// a request's depth (runtime/memory, docs/serving.md#memory). Many
// long-lived shallow goroutines (hundreds of TCP connections) pull it
// down, and the operator sees it here.
func goCollector() prometheus.Collector {
	return collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
		collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/stack/starting-size:bytes$`)}))
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// Registry returns the registry the metrics live in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Source is the running proxy as the scrape-time collector sees it.
// *runtime.Server satisfies it.
type Source interface {
	Graph() *graph.Graph
	State() *state.Store
}

// Attach registers the gauges read from the running proxy at scrape time
// (sipfront_member_up, sipfront_active_calls, sipfront_policy_info, and
// sipfront_inflight_invites when src is also an Admission,
// sipfront_dropped_datagrams_total when it is a Dropper, the
// sipfront_carrier_* series when it has Carriers, the edge and flood
// counters when it is an Edger) and
// subscribes to the store's health changes. Call it once, after the server
// is created (the Observer must exist before the server; the server before
// this). It takes the store's single OnChange slot.
func (m *Metrics) Attach(src Source) {
	adm, _ := src.(Admission)
	drp, _ := src.(Dropper)
	m.reg.MustRegister(&liveCollector{src: src, adm: adm, drp: drp})
	if e, ok := src.(Edger); ok {
		m.reg.MustRegister(edgeCollector{e})
	}
	if cs, ok := src.(Carriers); ok {
		m.reg.MustRegister(&carrierCollector{src: src, cs: cs})
	}
	src.State().OnChange(m.MemberChanged)
}

// Request implements runtime.Observer.
func (m *Metrics) Request(method string, decidedBy graph.ID) {
	m.requestC.get(requestKey{methodLabel(method), decidedBy}).Inc()
}

// Response implements runtime.Observer.
func (m *Metrics) Response(code int) { m.responseC.get(code).Inc() }

// Relay implements runtime.Observer.
func (m *Metrics) Relay(member graph.ID) { m.relayC.get(member).Inc() }

// Failover implements runtime.Observer.
func (m *Metrics) Failover(from graph.ID, code int) { m.failoverC.get(failoverKey{from, code}).Inc() }

// Reload implements runtime.Observer.
func (m *Metrics) Reload(ok bool) {
	if ok {
		m.reloadOK.Inc()
		return
	}
	m.reloadErr.Inc()
}

// DecisionTime implements runtime.Observer.
func (m *Metrics) DecisionTime(d time.Duration) { m.decision.Observe(d.Seconds()) }

// MemberChanged counts an observed health change; it has the signature of
// state.ChangeFunc so that it can be chained with other listeners.
func (m *Metrics) MemberChanged(id graph.ID, up bool, reason string) { m.changeC.get(id).Inc() }

// knownMethods bounds the method label: anything else is "other", so a
// scanner sending random methods cannot create series.
var knownMethods = [...]string{"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "INFO",
	"UPDATE", "PRACK", "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE", "PUBLISH"}

// methodLabel returns the method itself when known (the same string, so
// no allocation), else "other".
func methodLabel(method string) string {
	for _, k := range knownMethods {
		if k == method {
			return k
		}
	}
	return otherLabel
}

func idLabel(id graph.ID) string {
	if id == "" {
		return noneLabel
	}
	return string(id)
}

// codeLabel bounds the code label to the SIP status range.
func codeLabel(code int) string {
	if code < 100 || code > 699 {
		return otherLabel
	}
	return strconv.Itoa(code)
}

func failoverCode(code int) string {
	if code == 0 {
		return noAnswerLabel
	}
	return codeLabel(code)
}
