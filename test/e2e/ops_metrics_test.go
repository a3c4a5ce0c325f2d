package e2e

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestOpsMetrics scrapes /metrics of a running `sipfront serve` after a
// known run of calls and reloads: the page parses with the Prometheus text
// parser and the counters match what the test did (INVITEs decided by the
// route, in-dialog ACKs and BYEs, relays per member equal to what each box
// received, active calls back to zero, reloads by result).
func TestOpsMetrics(t *testing.T) {
	needSipp(t)
	const calls = 45
	boxes, members := threeBoxes(t, "uas.xml")
	proxyPort, adminPort := freePort(t), freePort(t)
	o := startOps(t, opsPolicy(proxyPort, adminPort, opsPool{balance: "round-robin", members: members}), proxyPort, adminPort)

	checkCaller(t, runCaller(t, o.addr, caller{scenario: "uac.xml", service: "alice", calls: calls, rate: 45, holdMS: 0}), calls)
	perBox := settled(t, boxes, calls)
	o.waitActive(t, 0, 5*time.Second)

	// One good reload and one refused.
	o.ctl(t, "reload")
	good, err := os.ReadFile(o.path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, "", o.path, strings.Replace(string(good), "round-robin", "round-robbin", 1))
	if _, _, code := runSipfront(t, nil, "ctl", "--admin", o.url, "reload"); code != 1 {
		t.Errorf("ctl reload of a broken policy: exit %d, want 1", code)
	}
	writeFile(t, "", o.path, string(good))

	fams := scrape(t, o.url)
	sum := func(name string, labels map[string]string) float64 {
		var total float64
		for _, m := range fams[name].GetMetric() {
			if matches(m, labels) {
				total += value(m)
			}
		}
		return total
	}
	if got := sum("sipfront_requests_total", map[string]string{"method": "INVITE", "decided_by": "route.default"}); got != calls {
		t.Errorf("sipfront_requests_total{method=\"INVITE\",decided_by=\"route.default\"} = %v, want %d", got, calls)
	}
	// In-dialog requests follow the dialog's route set: no filter or route
	// decides them (decided_by="in_dialog").
	for _, method := range []string{"ACK", "BYE"} {
		if got := sum("sipfront_requests_total", map[string]string{"method": method, "decided_by": "in_dialog"}); got != calls {
			t.Errorf("sipfront_requests_total{method=%q,decided_by=\"in_dialog\"} = %v, want %d", method, got, calls)
		}
	}
	if got := sum("sipfront_requests_total", map[string]string{"method": "OPTIONS"}); got < 1 {
		t.Errorf("sipfront_requests_total{method=\"OPTIONS\"} = %v; the harness's readiness OPTIONS are not counted", got)
	}
	if got := sum("sipfront_responses_total", map[string]string{"code": "200"}); got < calls {
		t.Errorf("sipfront_responses_total{code=\"200\"} = %v, want at least %d", got, calls)
	}
	for i, m := range members {
		id := string(memberID(m.name))
		if got := sum("sipfront_relays_total", map[string]string{"member": id}); got != float64(perBox[i]) {
			t.Errorf("sipfront_relays_total{member=%q} = %v, but the box received %d INVITEs", id, got, perBox[i])
		}
		if got := sum("sipfront_active_calls", map[string]string{"member": id}); got != 0 {
			t.Errorf("sipfront_active_calls{member=%q} = %v after every call ended", id, got)
		}
		if got := sum("sipfront_member_up", map[string]string{"member": id}); got != 1 {
			t.Errorf("sipfront_member_up{member=%q} = %v", id, got)
		}
	}
	if got := sum("sipfront_failovers_total", nil); got != 0 {
		t.Errorf("sipfront_failovers_total = %v with every box answering", got)
	}
	if ok, bad := sum("sipfront_reloads_total", map[string]string{"result": "ok"}), sum("sipfront_reloads_total", map[string]string{"result": "error"}); ok != 1 || bad != 1 {
		t.Errorf("sipfront_reloads_total ok=%v error=%v, want 1 and 1", ok, bad)
	}
	if h := fams["sipfront_decision_seconds"].GetMetric(); len(h) != 1 || h[0].GetHistogram().GetSampleCount() < calls {
		t.Errorf("sipfront_decision_seconds: %v, want at least %d decisions", h, calls)
	}
	t.Logf("after %d calls: relays per member %v, %d metric families", calls, perBox, len(fams))
}

// scrape fetches /metrics and parses it with the Prometheus text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %s, Content-Type %q", res.Status, res.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse with the Prometheus text parser: %v", err)
	}
	return fams
}

// matches reports whether m carries every label of want.
func matches(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// value is a counter's or a gauge's value.
func value(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}
