package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/runtime/admin"
)

// TestOpsBadAdminRequests sends bad requests to the admin API of a running
// `sipfront serve` started with a bearer token: each gets a 4xx with a
// JSON message, and nothing changes (pools, overrides and the policy are
// the same afterwards, and calls still go through). A broken policy is
// refused by POST /v1/reload with 422 and its diagnostics.
func TestOpsBadAdminRequests(t *testing.T) {
	needSipp(t)
	const token = "e2e-admin-token"
	t.Setenv(admin.TokenEnv, token)
	_, members := threeBoxes(t, "uas.xml")
	proxyPort, adminPort := freePort(t), freePort(t)
	o := startOps(t, opsPolicy(proxyPort, adminPort, opsPool{balance: "weighted", members: members}), proxyPort, adminPort)
	id1 := string(memberID("box1"))
	o.ctl(t, "weight", id1, "3") // an override that must survive untouched

	snapshot := func() string {
		var b strings.Builder
		for _, path := range []string{"/v1/pools", "/v1/overrides", "/v1/graph", "/v1/calls"} {
			data, err := o.client.Do(context.Background(), http.MethodGet, path, nil)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			b.Write(data)
		}
		return b.String()
	}
	before := snapshot()

	m := "/v1/members/"
	cases := []struct {
		method, path, body, token string
		status                    int
		msg                       string
	}{
		{"GET", "/v1/pools", "", "", 401, admin.TokenEnv},
		{"POST", m + id1 + "/disable", "", "wrong-token", 401, "bearer token"},
		{"POST", m + "pool.boxes.member.nope/disable", "", token, 404, "pool.boxes.member.nope"},
		{"POST", m + "pool.boxes/drain", "", token, 404, "pool.boxes"},
		{"POST", m + id1 + "/explode", "", token, 404, "explode"},
		{"GET", m + id1 + "/disable", "", token, 405, "POST"},
		{"PUT", m + id1 + "/weight", `{"weight": -3}`, token, 400, "-3"},
		{"PUT", m + id1 + "/weight", `{"wieght": 5}`, token, 400, "wieght"},
		{"PUT", m + id1 + "/weight", `five`, token, 400, ""},
		{"PUT", m + id1 + "/weight", `{}`, token, 400, "weight"},
		{"PUT", m + id1 + "/capacity", `{"resource": "gold", "capacity": 5}`, token, 400, "gold"},
		{"DELETE", m + "pool.boxes.member.nope/override", "", token, 404, "nope"},
		{"DELETE", "/v1/graph", "", token, 405, "GET"},
		{"GET", "/v1/nothing", "", token, 404, "no such endpoint"},
	}
	for _, c := range cases {
		status, msg := rawAdmin(t, c.method, o.url+c.path, c.body, c.token)
		if status != c.status || msg == "" || !strings.Contains(msg, c.msg) {
			t.Errorf("%s %s %s: %d %q; want %d with a message naming %q", c.method, c.path, c.body, status, msg, c.status, c.msg)
		}
	}

	// ctl reports the server's message and exits 1.
	if _, stderr, code := runSipfront(t, nil, "ctl", "--admin", o.url, "disable", "pool.boxes.member.nope"); code != 1 || !strings.Contains(stderr, "HTTP 404") {
		t.Errorf("ctl disable of an unknown member: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := runSipfront(t, nil, "ctl", "--admin", o.url, "weight", id1, "--", "-2"); code != 1 || !strings.Contains(stderr, "HTTP 400") {
		t.Errorf("ctl weight -2: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := runSipfront(t, []string{admin.TokenEnv + "="}, "ctl", "--admin", o.url, "pools"); code != 1 || !strings.Contains(stderr, "HTTP 401") {
		t.Errorf("ctl without the token: exit %d, stderr %q", code, stderr)
	}

	// A broken policy: 422 with the diagnostics; the running one stays.
	good, err := os.ReadFile(o.path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, "", o.path, strings.Replace(string(good), `balance = "weighted"`, `balance = "wieghted"`, 1))
	status, msg := rawAdmin(t, "POST", o.url+"/v1/reload", "", token)
	if status != 422 || !strings.Contains(msg, "policy.hcl:9:13: error: Invalid Balance") || !strings.Contains(msg, `balance = "wieghted"`) {
		t.Errorf("reload of a broken policy: %d %q; want 422 with the rendered diagnostics", status, msg)
	}
	_, stderr, code := runSipfront(t, nil, "ctl", "--admin", o.url, "reload")
	if code != 1 || !strings.Contains(stderr, "Invalid Balance") || !strings.Contains(stderr, "HTTP 422") {
		t.Errorf("ctl reload of a broken policy: exit %d, stderr %q", code, stderr)
	}
	writeFile(t, "", o.path, string(good))

	if after := snapshot(); after != before {
		t.Errorf("bad requests changed the proxy's state:\nbefore %s\nafter  %s", before, after)
	}
	checkCaller(t, runCaller(t, o.addr, caller{scenario: "uac.xml", service: "alice", calls: 10, rate: 20, holdMS: 0}), 10)
}

// rawAdmin sends one request with an optional bearer token and returns
// the status and the "error" message of the JSON answer.
func rawAdmin(t *testing.T, method, url, body, token string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var e admin.Error
	if err := json.Unmarshal(data, &e); err != nil {
		return res.StatusCode, "(not JSON: " + string(data) + ")"
	}
	return res.StatusCode, e.Error
}
