package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipfront/sipfront/runtime/auth"
)

var (
	authChallengesDesc = prometheus.NewDesc("sipfront_auth_challenges_total",
		"Requests answered with a digest challenge (407 or 401), stale ones included.", nil, nil)
	authStaleDesc = prometheus.NewDesc("sipfront_auth_stale_total",
		"Challenges with stale=true: a right answer on an expired nonce.", nil, nil)
	authSuccessDesc = prometheus.NewDesc("sipfront_auth_successes_total",
		"Requests whose digest answer verified.", nil, nil)
	authFailureDesc = prometheus.NewDesc("sipfront_auth_failures_total",
		"Failed digest answers by reason (the caller gets the same challenge for unknown_user and wrong_password).",
		[]string{"reason"}, nil)
	authForbiddenDesc = prometheus.NewDesc("sipfront_auth_forbidden_total",
		"Verified requests refused 403 because From names another identity (check_from).", nil, nil)
	authThrottledDesc = prometheus.NewDesc("sipfront_auth_throttled_total",
		"Requests refused (403 or silence) because their source or user is blocked.", nil, nil)
	authBlocksDesc = prometheus.NewDesc("sipfront_auth_blocks_total",
		"Blocks started by the brute-force throttle (sources and users).", nil, nil)
	authBlockedDesc = prometheus.NewDesc("sipfront_auth_blocked",
		"Sources and users blocked now, per auth stage.", []string{"auth", "kind"}, nil)
	authUnavailableDesc = prometheus.NewDesc("sipfront_auth_unavailable_total",
		"Requests answered 503 because the credential store could not answer for the user.", nil, nil)
	credLookupsDesc = prometheus.NewDesc("sipfront_credentials_lookups_total",
		"Credential lookups of a database store, by result: hit (cache), negative_hit (unknown user cached), miss.",
		[]string{"credentials", "result"}, nil)
	credQueriesDesc = prometheus.NewDesc("sipfront_credentials_queries_total",
		"Queries sent to the credentials database.", []string{"credentials"}, nil)
	credErrorsDesc = prometheus.NewDesc("sipfront_credentials_db_errors_total",
		"Failed credentials queries (database down or slow).", []string{"credentials"}, nil)
	credStaleDesc = prometheus.NewDesc("sipfront_credentials_stale_total",
		"Lookups answered from an expired cache entry while the database was down.", []string{"credentials"}, nil)
	credCachedDesc = prometheus.NewDesc("sipfront_credentials_cached",
		"Users in a database store's cache (found or not).", []string{"credentials"}, nil)
)

// AttachAuth adds the digest-auth counters, the throttle gauges and the
// credential stores' cache counters, read from svc at scrape time.
func (m *Metrics) AttachAuth(svc *auth.Service) {
	m.reg.MustRegister(&authCollector{svc: svc})
}

// authCollector reads the auth service's atomics at scrape time: the
// request path only adds to them.
type authCollector struct{ svc *auth.Service }

// Describe implements prometheus.Collector.
func (c *authCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{authChallengesDesc, authStaleDesc, authSuccessDesc, authFailureDesc,
		authForbiddenDesc, authThrottledDesc, authBlocksDesc, authBlockedDesc, authUnavailableDesc,
		credLookupsDesc, credQueriesDesc, credErrorsDesc, credStaleDesc, credCachedDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *authCollector) Collect(ch chan<- prometheus.Metric) {
	k := &c.svc.Counters
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(authChallengesDesc, k.Challenges.Load())
	counter(authStaleDesc, k.Stale.Load())
	counter(authSuccessDesc, k.Successes.Load())
	for _, r := range auth.FailReasons() {
		counter(authFailureDesc, k.Failures(r), r.String())
	}
	counter(authForbiddenDesc, k.Forbidden.Load())
	counter(authThrottledDesc, k.Throttled.Load())
	counter(authBlocksDesc, k.Blocks.Load())
	counter(authUnavailableDesc, k.Unavailable.Load())
	now := time.Now()
	for id, t := range c.svc.Throttles() {
		blocked := map[string]int{"source": 0, "user": 0}
		for _, e := range t.List(now) {
			if !e.BlockedUntil.IsZero() {
				blocked[e.Kind]++
			}
		}
		for kind, n := range blocked {
			ch <- prometheus.MustNewConstMetric(authBlockedDesc, prometheus.GaugeValue, float64(n), string(id), kind)
		}
	}
	for id, st := range c.svc.PostgresStores() {
		s, l := &st.Stats, string(id)
		neg := s.NegativeHits.Load() // first: a hit is counted before its negative_hit
		counter(credLookupsDesc, s.Hits.Load()-neg, l, "hit")
		counter(credLookupsDesc, neg, l, "negative_hit")
		counter(credLookupsDesc, s.Misses.Load(), l, "miss")
		counter(credQueriesDesc, s.Queries.Load(), l)
		counter(credErrorsDesc, s.DBErrors.Load(), l)
		counter(credStaleDesc, s.Stale.Load(), l)
		ch <- prometheus.MustNewConstMetric(credCachedDesc, prometheus.GaugeValue, float64(st.CacheLen()), l)
	}
}
