package e2e

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// TestAuthSippCallsThroughChallenge: a sipp caller with the right password
// places 200 calls through a 407 challenge; none fails, and the box (a sipp
// that fails the call when it sees credentials) never sees an
// Authorization or Proxy-Authorization header.
func TestAuthSippCallsThroughChallenge(t *testing.T) {
	needSipp(t)
	const calls = 200
	boxPort, proxyPort, adminPort := freePort(t), freePort(t), freePort(t)
	box := startBox(t, "box1", "uas_noauth.xml", boxPort)
	p := startProxy(t, authPolicy(t, proxyPort, adminPort, boxPort, "", sippAlgorithms), addr(proxyPort))

	r := runCaller(t, p.addr, caller{scenario: "uac_auth.xml", service: "100", calls: calls, rate: 50, holdMS: 50,
		extra: []string{"-au", "alice", "-ap", subscribers["alice"], "-auth_uri", "100@" + addr(proxyPort)}})
	checkCaller(t, r, calls)
	counts := stopBoxes(t, []*sippProc{box})
	if n := invites(counts[0]); n != calls {
		t.Errorf("the box got %d INVITEs, want %d (only authenticated ones, each once)", n, calls)
	}
	if failed := column(counts[0], "FailedCall"); failed != 0 {
		t.Errorf("the box failed %d calls: it saw credentials", failed)
	}
	m := scrape(t, "http://"+addr(adminPort))
	if got := counterValue(m, "sipfront_auth_successes_total"); got != calls {
		t.Errorf("sipfront_auth_successes_total = %v, want %d", got, calls)
	}
	if got := counterValue(m, "sipfront_auth_challenges_total"); got < calls {
		t.Errorf("sipfront_auth_challenges_total = %v, want at least %d", got, calls)
	}
}

// sippAlgorithms: sipp 3.6 answers MD5 only and reads the first challenge,
// so its tests offer MD5 alone; the raw client tests SHA-256. (sipp also
// puts remote_ip:port in the digest uri unless -auth_uri names the
// R-URI, which the proxy checks.)
const sippAlgorithms = "  algorithms  = [\"MD5\"]\n"

// counterValue sums a metric family's values ("" labels: all series).
func counterValue(m map[string]*dto.MetricFamily, name string) float64 {
	f := m[name]
	if f == nil {
		return -1
	}
	sum := 0.0
	for _, s := range f.Metric {
		sum += value(s)
	}
	return sum
}
