package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// overloadPolicy is the policy of TestOverloadSheds: the admission limit
// is max_inflight; pool "boxes" holds the three boxes with a short
// failover timeout; INVITEs to "good" go to a pool of the good box alone;
// INVITEs to "probe" are answered 480 by a filter (admission control runs
// before the graph, so a probe gets 503 when the proxy is at its limit and
// 480 otherwise, and never reaches a box).
func overloadPolicy(proxyPort, adminPort, maxInflight int, boxes []member) string {
	var b strings.Builder
	fmt.Fprintf(&b, `proxy {
  listen       = ["udp:%[1]s", "tcp:%[1]s"]
  advertise    = %[1]q
  admin        = %[2]q
  ring_timeout = "30s"
  max_inflight = %[3]d
}

filter "probe" {
  when  = "ruri.user == 'probe'"
  reply = 480
}

pool "boxes" {
  balance = "round-robin"
  failover {
    on        = [408, 500, 502, 503, 504]
    max_tries = 2
    timeout   = "300ms"
  }
`, addr(proxyPort), addr(adminPort), maxInflight)
	for _, m := range boxes {
		fmt.Fprintf(&b, "  member %q { uri = \"sip:%s\" }\n", m.name, addr(m.port))
	}
	good := boxes[len(boxes)-1]
	fmt.Fprintf(&b, `}

pool "good" {
  member %q { uri = "sip:%s" }
}

route "good" {
  when = "ruri.user == 'good'"
  to   = pool.good
}

route "default" {
  to = pool.boxes
}
`, good.name, addr(good.port))
	return b.String()
}

// TestOverloadSheds: two of three boxes never answer, so the INVITEs
// relayed to them hold their admission slot until the failover timeout.
// With max_inflight = 5 (from the policy; serve gets no --max-inflight) and
// a sipp caller at 60 calls/s, the proxy must answer the INVITEs it has no
// room for with an immediate 503 (probes sent during the load measure how
// fast), count them as decided_by="overload", keep the waiting INVITEs at
// or under the limit (sipfront_inflight_invites), and mark no member down
// for the timeouts that happen while it is overloaded (GET /v1/pools).
// Once the load is gone, calls go through again with nothing shed.
func TestOverloadSheds(t *testing.T) {
	needSipp(t)
	const (
		limit    = 5
		calls    = 240
		rate     = 60
		recovery = 20
		// fast bounds the answer to a shed INVITE: well under the 300 ms
		// an admitted INVITE waits for a silent box.
		fast = 250 * time.Millisecond
	)
	ports := []int{freePort(t), freePort(t), freePort(t)}
	// The boxes are killed at cleanup: the silent ones may still hold
	// calls waiting for an ACK, which a graceful stop would wait for.
	startBox(t, "hung1", "uas_silent.xml", ports[0])
	startBox(t, "hung2", "uas_silent.xml", ports[1])
	startBox(t, "good", "uas.xml", ports[2])
	members := []member{{name: "hung1", port: ports[0]}, {name: "hung2", port: ports[1]}, {name: "good", port: ports[2]}}
	proxyPort, adminPort := freePort(t), freePort(t)
	o := startOps(t, overloadPolicy(proxyPort, adminPort, limit, members), proxyPort, adminPort)
	if !strings.Contains(o.log.String(), fmt.Sprintf("max_inflight=%d", limit)) {
		t.Errorf("the start log does not show max_inflight=%d from the policy", limit)
	}

	// The load: 240 calls at 60/s, about 4 s.
	uac := startCaller(t, o.addr, caller{scenario: "uac.xml", service: "alice", calls: calls, rate: rate, holdMS: 0})
	start := time.Now()
	var probes, probesShed, probesAdmitted int
	var slowestShed time.Duration
	maxWaiting := -1.0
	// Probe every 100 ms for 3 s (from 0.5 s in, once the limit is
	// reached): the answer's code and delay, and the gauge.
	time.Sleep(500 * time.Millisecond)
	for i := 0; i < 30; i++ {
		sent := time.Now()
		code, err := exchange("udp", "", o.addr, invite(o.addr, "probe"), 2*time.Second)
		took := time.Since(sent)
		probes++
		switch {
		case err != nil:
			t.Errorf("probe %d: %v", i, err)
		case code == 503:
			probesShed++
			slowestShed = max(slowestShed, took)
		case code == 480:
			probesAdmitted++
		default:
			t.Errorf("probe %d: %d, want 503 (shed) or 480 (admitted, the probe filter)", i, code)
		}
		if i%5 == 0 {
			if w, ok := gauge(t, o.url, "sipfront_inflight_invites"); ok {
				maxWaiting = max(maxWaiting, w)
			} else {
				t.Error("sipfront_inflight_invites is missing from /metrics")
			}
		}
		time.Sleep(max(0, 100*time.Millisecond-took))
	}
	r := uac.result(t, 60*time.Second)
	loadTook := time.Since(start)

	// Every INVITE admitted during the load ends within 2 × 300 ms.
	deadline := time.Now().Add(5 * time.Second)
	for {
		w, _ := gauge(t, o.url, "sipfront_inflight_invites")
		if w == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sipfront_inflight_invites = %v 5 s after the load ended, want 0", w)
		}
		time.Sleep(50 * time.Millisecond)
	}

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
	shed := sum("sipfront_requests_total", map[string]string{"method": "INVITE", "decided_by": "overload"})
	routed := sum("sipfront_requests_total", map[string]string{"method": "INVITE", "decided_by": "route.default"})
	filtered := sum("sipfront_requests_total", map[string]string{"method": "INVITE", "decided_by": "filter.probe"})
	goodRelays := sum("sipfront_relays_total", map[string]string{"member": string(memberID("good"))})
	hungRelays := sum("sipfront_relays_total", map[string]string{"member": string(memberID("hung1"))}) +
		sum("sipfront_relays_total", map[string]string{"member": string(memberID("hung2"))})

	if probesShed == 0 || shed == 0 {
		t.Errorf("nothing shed under overload: %d of %d probes got 503, decided_by=\"overload\" = %v", probesShed, probes, shed)
	}
	if slowestShed > fast {
		t.Errorf("a shed probe waited %v for its 503; shedding must answer at once (bound %v)", slowestShed, fast)
	}
	if shed+routed+filtered != float64(calls+probes) {
		t.Errorf("INVITEs: %v shed + %v routed + %v probes admitted = %v, want the %d calls and %d probes sent",
			shed, routed, filtered, shed+routed+filtered, calls, probes)
	}
	if int(filtered) != probesAdmitted {
		t.Errorf("decided_by=\"filter.probe\" = %v, but %d probes got 480", filtered, probesAdmitted)
	}
	if maxWaiting < 1 || maxWaiting > limit {
		t.Errorf("sipfront_inflight_invites peaked at %v during the load, want 1..%d", maxWaiting, limit)
	}
	if r.created != calls || r.ok == 0 || r.failed == 0 {
		t.Errorf("caller: %d created, %d ok, %d failed; want %d created, some answered and some refused",
			r.created, r.ok, r.failed, calls)
	}

	// No member went down for timeouts that happened under overload.
	down := 0
	for name, m := range o.pools(t) {
		if !m.Up || m.Degraded {
			down++
			t.Errorf("%s after the overload: up=%v degraded=%v reason %q; want up", name, m.Up, m.Degraded, m.DownReason)
		}
	}
	if got := sum("sipfront_member_state_changes_total", nil); got != 0 {
		t.Errorf("sipfront_member_state_changes_total = %v after the overload, want 0", got)
	}
	if strings.Contains(o.log.String(), "member down") {
		t.Errorf("the proxy logged a member down during the overload:\n%s", lineWith(o.log.String(), "member down"))
	}

	// The load is gone: calls to the good box succeed and nothing is shed.
	checkCaller(t, runCaller(t, o.addr, caller{scenario: "uac.xml", service: "good", calls: recovery, rate: 20, holdMS: 0}), recovery)
	after, _ := gauge(t, o.url, `sipfront_requests_total{decided_by="overload"}`)
	if after != shed {
		t.Errorf("decided_by=\"overload\" went from %v to %v after the load", shed, after)
	}

	t.Logf("limit %d, %d calls at %d/s (%v): caller %d ok, %d failed; proxy shed %v INVITEs (503), routed %v "+
		"(relays: good %v, hung %v); probes %d: %d shed (slowest 503 after %v), %d admitted; "+
		"sipfront_inflight_invites peak %v; %d members down or degraded; then %d calls to the good box ok",
		limit, calls, rate, loadTook.Round(time.Millisecond), r.ok, r.failed, shed, routed, goodRelays, hungRelays,
		probes, probesShed, slowestShed.Round(time.Microsecond), probesAdmitted, maxWaiting, down, recovery)
}

// gauge scrapes /metrics and returns the sum of the series of one family,
// written as name or name{label="value",...}, and whether the family
// exists.
func gauge(t *testing.T, url, series string) (float64, bool) {
	t.Helper()
	name, rest, _ := strings.Cut(series, "{")
	labels := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			labels[k] = strings.Trim(v, `"`)
		}
	}
	f := scrape(t, url)[name]
	if f == nil {
		return 0, false
	}
	var total float64
	for _, m := range f.GetMetric() {
		if matches(m, labels) {
			total += value(m)
		}
	}
	return total, true
}
