package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipfront/sipfront/runtime/edge"
)

var (
	edgeRejectedDesc = prometheus.NewDesc("sipfront_edge_rejected_total",
		"Messages the raw check stopped before sipgo parsed them, by rule (docs/security.md).", []string{"rule"}, nil)
	edgeOutcomeDesc = prometheus.NewDesc("sipfront_edge_outcome_total",
		"What became of the messages the raw check stopped: answered (400, 413, 414, 416, 505, 513) or dropped.",
		[]string{"outcome"}, nil)
	floodDroppedDesc = prometheus.NewDesc("sipfront_flood_requests_refused_total",
		"Requests from sources blocked by flood control, by action (drop or 503).", []string{"action"}, nil)
	floodBlocksDesc = prometheus.NewDesc("sipfront_flood_blocks_total",
		"Times a source went over its rate and was blocked.", nil, nil)
	floodEvictedDesc = prometheus.NewDesc("sipfront_flood_evictions_total",
		"Live flood-table entries given away to a new source (the table is full: address cycling).", nil, nil)
	tcpClosedDesc = prometheus.NewDesc("sipfront_tcp_connections_closed_total",
		"Inbound TCP connections refused or closed by the edge, by reason.", []string{"reason"}, nil)
	tcpOpenDesc = prometheus.NewDesc("sipfront_tcp_connections",
		"Inbound TCP connections open.", nil, nil)
)

// Edger is the running proxy's edge guard; *runtime.Server satisfies it.
type Edger interface {
	Edge() *edge.Guard
}

// edgeCollector reads the edge counters at scrape time.
type edgeCollector struct{ src Edger }

// Describe implements prometheus.Collector.
func (c edgeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{edgeRejectedDesc, edgeOutcomeDesc, floodDroppedDesc, floodBlocksDesc,
		floodEvictedDesc, tcpClosedDesc, tcpOpenDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c edgeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Edge().Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for rule, n := range s.Rejected {
		counter(edgeRejectedDesc, n, rule)
	}
	counter(edgeOutcomeDesc, s.Answered, "answered")
	counter(edgeOutcomeDesc, s.Dropped, "dropped")
	counter(floodDroppedDesc, s.FloodDropped, "drop")
	counter(floodDroppedDesc, s.Flood503, "503")
	counter(floodBlocksDesc, s.FloodBlocks)
	counter(floodEvictedDesc, s.FloodEvicted)
	for reason, n := range s.TCPClosed {
		counter(tcpClosedDesc, n, reason)
	}
	ch <- prometheus.MustNewConstMetric(tcpOpenDesc, prometheus.GaugeValue, float64(s.TCPOpen))
}
