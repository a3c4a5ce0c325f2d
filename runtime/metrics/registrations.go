package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipfront/sipfront/runtime/registrar"
)

// registrations is the registrar's part of the metrics, created by
// AttachRegistrar.
type registrations struct {
	byResult map[string]prometheus.Counter
}

// AttachRegistrar registers sipfront_registrar_bindings (a gauge read at
// scrape time from count) and sipfront_registrations_total by result.
// Call it once, before the proxy serves.
func (m *Metrics) AttachRegistrar(count func() int) {
	vec := counterVec("sipfront_registrations_total",
		"REGISTER requests answered by the registrar, by result (ok, foreign_domain, bad_request, interval_too_brief, out_of_order, too_many_contacts, store_error).",
		"result")
	r := &registrations{byResult: make(map[string]prometheus.Counter, len(registrar.Results))}
	for _, res := range registrar.Results {
		r.byResult[res] = vec.WithLabelValues(res)
	}
	gauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sipfront_registrar_bindings",
		Help: "Registered contacts (bindings) the registrar holds."}, func() float64 { return float64(count()) })
	m.reg.MustRegister(vec, gauge)
	m.regs = r
}

// Registration counts one REGISTER answered with result (a registrar.Result
// value); it is lock-free and does not allocate.
func (m *Metrics) Registration(result string) {
	if m.regs == nil {
		return
	}
	if c, ok := m.regs.byResult[result]; ok {
		c.Inc()
	}
}
