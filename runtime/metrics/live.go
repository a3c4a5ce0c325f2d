package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	memberUpDesc = prometheus.NewDesc("sipfront_member_up",
		"Observed health of a pool member: 1 up, 0 down (probing or traffic).", []string{"member"}, nil)
	activeCallsDesc = prometheus.NewDesc("sipfront_active_calls",
		"Calls in progress on a pool member (dialogs the proxy tracks).", []string{"member"}, nil)
	memberModeDesc = prometheus.NewDesc("sipfront_member_mode",
		"Administrative mode of a member: 1 for its current mode (enabled, disabled, draining).",
		[]string{"member", "mode"}, nil)
	policyDesc = prometheus.NewDesc("sipfront_policy_info",
		"The running policy: always 1, labelled with its hash.", []string{"hash"}, nil)
	inflightDesc = prometheus.NewDesc("sipfront_inflight_invites",
		"Initial INVITEs admitted and waiting for a member's first answer (admission control sheds beyond proxy.max_inflight).",
		nil, nil)
	droppedDesc = prometheus.NewDesc("sipfront_dropped_datagrams_total",
		"Datagrams dropped because they did not parse as SIP (never answered: there is nothing to answer).",
		nil, nil)
)

// Dropper counts the unparseable datagrams the proxy dropped.
// *runtime.Server satisfies it.
type Dropper interface {
	Dropped() uint64
}

// Admission is the admission control of the running proxy, read at scrape
// time when the Source has it. *runtime.Server satisfies it.
type Admission interface {
	InflightInvites() int64
}

// liveCollector reads the store at scrape time, so gauges always match
// what the admin API shows and no request path has to maintain them.
type liveCollector struct {
	src Source
	adm Admission // nil when src has no admission control
	drp Dropper   // nil when src does not count dropped datagrams
}

// Describe implements prometheus.Collector.
func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- memberUpDesc
	ch <- activeCallsDesc
	ch <- memberModeDesc
	ch <- policyDesc
	ch <- inflightDesc
	ch <- droppedDesc
}

// Collect implements prometheus.Collector.
func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	if g := c.src.Graph(); g != nil {
		ch <- prometheus.MustNewConstMetric(policyDesc, prometheus.GaugeValue, 1, g.Hash)
	}
	if c.adm != nil {
		ch <- prometheus.MustNewConstMetric(inflightDesc, prometheus.GaugeValue, float64(c.adm.InflightInvites()))
	}
	if c.drp != nil {
		ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(c.drp.Dropped()))
	}
	for _, ms := range c.src.State().Members() {
		id := string(ms.ID)
		up := 0.0
		if ms.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(memberUpDesc, prometheus.GaugeValue, up, id)
		ch <- prometheus.MustNewConstMetric(activeCallsDesc, prometheus.GaugeValue, float64(ms.ActiveCalls), id)
		ch <- prometheus.MustNewConstMetric(memberModeDesc, prometheus.GaugeValue, 1, id, string(ms.Mode))
	}
}
