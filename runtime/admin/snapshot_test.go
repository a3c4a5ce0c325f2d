package admin

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sipfront/sipfront/runtime/metrics"
)

// plan --against: a disabled member shows as drift, and the live calls of a
// member the new policy removes are listed.
func TestSnapshotDrift(t *testing.T) {
	ctx := context.Background()
	p := newProxy(testGraph(t, "h1", "ast1", "ast2", "ast3"))
	c := serve(t, p, Options{Token: "tok"})
	if _, err := c.SetMode(ctx, member("ast2"), "disable"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetWeight(ctx, member("ast1"), 4); err != nil {
		t.Fatal(err)
	}
	startCalls(p, member("ast3"), 7)
	startCalls(p, member("ast1"), 1)

	if _, err := FetchSnapshot(ctx, c.BaseURL, "wrong"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("snapshot with a wrong token: %v", err)
	}
	snap, err := FetchSnapshot(ctx, c.BaseURL, "tok")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Hash != "h1" || len(snap.MemberIDs()) != 3 || len(snap.Calls) != 8 || len(snap.Members) != 3 {
		t.Fatalf("snapshot = hash %s, members %v, %d calls", snap.Hash, snap.MemberIDs(), len(snap.Calls))
	}

	next := testGraph(t, "h2", "ast1", "ast2") // removes ast3
	next.Pools[0].Members[0].Weight = 2
	text := snap.Drift(next).Text()
	for _, want := range []string{
		"  ~ pool.asterisk.member.ast1: weight=4\n      # the new policy declares weight 2; the override keeps 4\n",
		"  ~ pool.asterisk.member.ast2: mode=disabled\n",
		"  ! pool.asterisk.member.ast3: 7 live calls\n",
		"      ast3-call-0  alice -> +15550000  since ",
		"      ... and 2 more\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("drift lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "ast1: 1 live") {
		t.Errorf("calls of a kept member listed as pinned:\n%s", text)
	}

	// The same policy, no overrides left: nothing to report.
	c.Clear(ctx, member("ast1"))
	c.Clear(ctx, member("ast2"))
	snap, _ = FetchSnapshot(ctx, c.BaseURL, "tok")
	if got := snap.Drift(p.Graph()).Text(); got != "No runtime overrides and no live calls on removed members.\n" {
		t.Errorf("drift without overrides:\n%s", got)
	}
}

// /metrics on the admin address serves the metrics package's registry,
// parseable by the Prometheus text parser.
func TestMetricsEndpoint(t *testing.T) {
	p := newProxy(testGraph(t, "h1", "ast1", "ast2"))
	m := metrics.New(nil)
	m.Attach(p)
	startCalls(p, member("ast2"), 3)
	for i := 0; i < 5; i++ {
		m.Request("INVITE", "route.pbx")
		m.Relay(member("ast2"))
		m.Response(200)
	}
	c := serve(t, p, Options{Metrics: m.Handler()})
	req, _ := c.newRequest(context.Background(), "GET", "/metrics", nil)
	res, err := c.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, label, value string, want float64) {
		t.Helper()
		for _, mt := range fams[name].GetMetric() {
			for _, l := range mt.Label {
				if l.GetName() == label && l.GetValue() == value {
					got := mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
					if got != want {
						t.Errorf("%s{%s=%q} = %v, want %v", name, label, value, got, want)
					}
					return
				}
			}
		}
		t.Errorf("%s{%s=%q} missing", name, label, value)
	}
	check("sipfront_requests_total", "decided_by", "route.pbx", 5)
	check("sipfront_relays_total", "member", string(member("ast2")), 5)
	check("sipfront_responses_total", "code", "200", 5)
	check("sipfront_active_calls", "member", string(member("ast2")), 3)
	check("sipfront_member_up", "member", string(member("ast1")), 1)
}
