package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipfront/sipfront/runtime/carrier"
)

// Carriers is the carrier state of the running proxy, read at scrape time
// when the Source has it. *runtime.Server satisfies it.
type Carriers interface {
	Carriers() *carrier.Store
}

var (
	carrierUpDesc = prometheus.NewDesc("sipfront_carrier_up",
		"Observed health of a carrier: 1 up, 0 down (probing).", []string{"carrier"}, nil)
	carrierActiveDesc = prometheus.NewDesc("sipfront_carrier_active_calls",
		"Calls in progress on a carrier (dialogs the proxy tracks).", []string{"carrier"}, nil)
	carrierCPSDesc = prometheus.NewDesc("sipfront_carrier_cps",
		"Calls started on a carrier in the last second.", []string{"carrier"}, nil)
	carrierASRDesc = prometheus.NewDesc("sipfront_carrier_asr",
		"Answer-seizure ratio of a carrier over its quality window (0 without calls).", []string{"carrier"}, nil)
	carrierPDDDesc = prometheus.NewDesc("sipfront_carrier_pdd_seconds",
		"Average post-dial delay of a carrier over its quality window.", []string{"carrier"}, nil)
	carrierAttemptsDesc = prometheus.NewDesc("sipfront_carrier_attempts_total",
		"Calls placed on a carrier.", []string{"carrier"}, nil)
	carrierAnsweredDesc = prometheus.NewDesc("sipfront_carrier_answered_total",
		"Calls a carrier answered (2xx).", []string{"carrier"}, nil)
	carrierSkippedDesc = prometheus.NewDesc("sipfront_carrier_skipped_total",
		"Calls that could not be placed on a carrier, by reason (down, disabled, draining, calls limit, cps limit).",
		[]string{"carrier", "reason"}, nil)
)

// carrierCollector reads the carriers' state at scrape time.
type carrierCollector struct {
	src Source
	cs  Carriers
}

// Describe implements prometheus.Collector.
func (c *carrierCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{carrierUpDesc, carrierActiveDesc, carrierCPSDesc, carrierASRDesc,
		carrierPDDDesc, carrierAttemptsDesc, carrierAnsweredDesc, carrierSkippedDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *carrierCollector) Collect(ch chan<- prometheus.Metric) {
	g := c.src.Graph()
	if g == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, st := range c.cs.Carriers().Carriers(g) {
		id := string(st.ID)
		up := 0.0
		if st.Up {
			up = 1
		}
		gauge(carrierUpDesc, up, id)
		gauge(carrierActiveDesc, float64(st.ActiveCalls), id)
		gauge(carrierCPSDesc, float64(st.CPS), id)
		gauge(carrierASRDesc, st.Window.ASR, id)
		gauge(carrierPDDDesc, st.Window.PDD.Seconds(), id)
		ch <- prometheus.MustNewConstMetric(carrierAttemptsDesc, prometheus.CounterValue, float64(st.Attempts), id)
		ch <- prometheus.MustNewConstMetric(carrierAnsweredDesc, prometheus.CounterValue, float64(st.Answered), id)
		for reason, n := range st.Skipped {
			ch <- prometheus.MustNewConstMetric(carrierSkippedDesc, prometheus.CounterValue, float64(n), id, reason)
		}
	}
}
