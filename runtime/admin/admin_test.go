package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/probe"
	"github.com/sipfront/sipfront/runtime/state"
)

// proxy is an admin.Proxy over hand-built graphs and a real store. Reload
// installs next, or fails with reloadErr.
type proxy struct {
	g         atomic.Pointer[graph.Graph]
	st        *state.Store
	next      *graph.Graph
	reloadErr error
}

func newProxy(g *graph.Graph) *proxy {
	p := &proxy{st: state.New()}
	p.st.Attach(g)
	p.g.Store(g)
	return p
}

func (p *proxy) Graph() *graph.Graph { return p.g.Load() }
func (p *proxy) State() *state.Store { return p.st }
func (p *proxy) Reload() error {
	if p.reloadErr != nil {
		return p.reloadErr
	}
	p.st.Attach(p.next)
	p.g.Store(p.next)
	return nil
}

// testGraph builds a weighted pool of members named by names, each with a
// pstn capacity of 30, and a route to it.
func testGraph(t *testing.T, hash string, names ...string) *graph.Graph {
	t.Helper()
	pool := &graph.Pool{ID: "pool.asterisk", Name: "asterisk", Balance: graph.BalanceWeighted,
		Probe: &graph.Probe{Interval: 5e9, Timeout: 1e9, DownAfter: 3, UpAfter: 2, Accept: []int{2}}}
	for i, n := range names {
		pool.Members = append(pool.Members, &graph.Member{ID: graph.ID("pool.asterisk.member." + n), Name: n,
			URI: fmt.Sprintf("sip:10.0.0.%d:5060", i+1), Host: fmt.Sprintf("10.0.0.%d", i+1), Port: 5060,
			Transport: "udp", Weight: 1, Capacity: map[string]int{"pstn": 30}})
	}
	g := &graph.Graph{Hash: hash, Pools: []*graph.Pool{pool},
		Routes: []*graph.Route{{ID: "route.pbx", Name: "pbx", Target: graph.TargetPool, Pool: pool}}}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	return g
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// serve runs the API on a real loopback HTTP server.
func serve(t *testing.T, p Proxy, opts Options) *Client {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	srv := httptest.NewServer(New(p, opts))
	t.Cleanup(srv.Close)
	return NewClient(srv.URL, opts.Token)
}

func member(n string) graph.ID { return graph.ID("pool.asterisk.member." + n) }

func startCalls(p *proxy, id graph.ID, n int) {
	m := p.Graph().Node(id).(*graph.Member)
	for i := 0; i < n; i++ {
		p.st.StartCall(m, fmt.Sprintf("%s-call-%d", m.Name, i), "ftag", "alice", fmt.Sprintf("+1555000%d", i))
	}
}

func TestStatusPoolsCallsGraph(t *testing.T) {
	ctx := context.Background()
	p := newProxy(testGraph(t, "h1", "ast1", "ast2", "ast3"))
	startCalls(p, member("ast1"), 2)
	startCalls(p, member("ast2"), 1)
	p.st.SetUp(member("ast3"), false, "probe: 3 consecutive failures")
	c := serve(t, p, Options{})

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Hash != "h1" || st.Pools != 1 || st.Members != 3 || st.MembersUp != 2 || st.MembersDown != 1 ||
		st.ActiveCalls != 3 || st.Routes != 1 || st.UptimeSeconds < 0 {
		t.Errorf("status = %+v", st)
	}

	pools, err := c.Pools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms := pools.Pools[0].Members
	if len(ms) != 3 || pools.Pools[0].Probe == nil || pools.Pools[0].Probe.Interval != "5s" {
		t.Fatalf("pools = %+v", pools)
	}
	if ms[0].ActiveCalls != 2 || ms[0].Free["pstn"] != 28 || ms[0].Declared.Weight != 1 || ms[0].Declared.Capacity["pstn"] != 30 {
		t.Errorf("ast1 = %+v", ms[0])
	}
	if ms[2].Up || ms[2].DownReason != "probe: 3 consecutive failures" || ms[2].Mode != "enabled" {
		t.Errorf("ast3 = %+v", ms[2])
	}

	calls, err := c.Calls(ctx, member("ast1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(calls.Calls) != 2 || calls.Calls[0].Member != member("ast1") || calls.Calls[0].Caller != "alice" {
		t.Errorf("calls of ast1 = %+v", calls.Calls)
	}
	if all, _ := c.Calls(ctx, ""); len(all.Calls) != 3 {
		t.Errorf("all calls = %d, want 3", len(all.Calls))
	}

	g, err := c.Graph(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[graph.ID]string{}
	for _, n := range g.Nodes {
		kinds[n.ID] = n.Kind
	}
	if g.Hash != "h1" || kinds["pool.asterisk"] != "pool" || kinds[member("ast2")] != "member" || kinds["route.pbx"] != "route" {
		t.Errorf("graph = %s %v", g.Hash, kinds)
	}
}

func TestOverridesAndDrain(t *testing.T) {
	ctx := context.Background()
	p := newProxy(testGraph(t, "h1", "ast1", "ast2", "ast3"))
	c := serve(t, p, Options{})

	if _, err := c.SetMode(ctx, member("ast1"), "disable"); err != nil {
		t.Fatal(err)
	}
	if p.st.MemberAvailable(p.Graph().Node(member("ast1")).(*graph.Member)) {
		t.Error("disabled member still available for new calls")
	}

	startCalls(p, member("ast2"), 2)
	v, err := c.SetMode(ctx, member("ast2"), "drain")
	if err != nil {
		t.Fatal(err)
	}
	if v.Mode != "draining" || v.Drained || v.ActiveCalls != 2 {
		t.Errorf("drain with calls = %+v", v)
	}
	p.st.EndCall("ast2-call-0", "ftag")
	p.st.EndCall("ast2-call-1", "ftag")
	pools, _ := c.Pools(ctx)
	if v := pools.Pools[0].Members[1]; !v.Drained || v.ActiveCalls != 0 {
		t.Errorf("drained member = %+v", v)
	}

	v, err = c.SetWeight(ctx, member("ast3"), 7)
	if err != nil {
		t.Fatal(err)
	}
	if v.Weight != 7 || v.Declared.Weight != 1 || v.Override == nil || *v.Override.Weight != 7 {
		t.Errorf("weight = %+v", v)
	}
	v, err = c.SetCapacity(ctx, member("ast3"), "pstn", 10)
	if err != nil {
		t.Fatal(err)
	}
	if v.Free["pstn"] != 10 || v.Weight != 7 {
		t.Errorf("capacity = %+v", v)
	}

	ovs, _ := c.Overrides(ctx)
	if got := overrideSummary(ovs.Overrides); got != "ast1:mode=disabled ast2:mode=draining ast3:weight=7 capacity.pstn=10" {
		t.Errorf("overrides = %s", got)
	}

	// enable drops an override that only held a mode, keeps the others.
	if _, err := c.SetMode(ctx, member("ast1"), "enable"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetMode(ctx, member("ast3"), "enable"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Clear(ctx, member("ast2")); err != nil {
		t.Fatal(err)
	}
	ovs, _ = c.Overrides(ctx)
	if got := overrideSummary(ovs.Overrides); got != "ast3:weight=7 capacity.pstn=10" {
		t.Errorf("overrides after enable/clear = %s", got)
	}
}

func overrideSummary(ovs []OverrideView) string {
	var parts []string
	for _, o := range ovs {
		parts = append(parts, strings.TrimPrefix(string(o.Member), "pool.asterisk.member.")+":"+overrideText(o.Override))
	}
	return strings.Join(parts, " ")
}

// A weight override changes the spread of the next few hundred calls.
func TestWeightChangesSpread(t *testing.T) {
	p := newProxy(testGraph(t, "h1", "ast1", "ast2"))
	c := serve(t, p, Options{})
	if _, err := c.SetWeight(context.Background(), member("ast1"), 3); err != nil {
		t.Fatal(err)
	}
	pool := p.Graph().Pools[0]
	count := map[graph.ID]int{}
	for i := 0; i < 400; i++ {
		m := p.st.Pick(pool, &graph.Request{Method: "INVITE", CallID: fmt.Sprint(i)}, nil)
		count[m.ID]++
	}
	if count[member("ast1")] != 300 || count[member("ast2")] != 100 {
		t.Errorf("spread with weights 3:1 over 400 calls = %v, want 300/100", count)
	}
}

func TestBadRequestsChangeNothing(t *testing.T) {
	p := newProxy(testGraph(t, "h1", "ast1", "ast2", "ast3"))
	srv := httptest.NewServer(New(p, Options{Logger: quiet()}))
	defer srv.Close()
	// Start from overrides of every kind, so that a bad request that
	// cleared or rewrote one would show.
	c := NewClient(srv.URL, "")
	ctx := context.Background()
	if _, err := c.SetMode(ctx, member("ast1"), "disable"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetWeight(ctx, member("ast2"), 3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetCapacity(ctx, member("ast1"), "pstn", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetMode(ctx, member("ast3"), "drain"); err != nil {
		t.Fatal(err)
	}
	beforeOv, beforeMembers := p.st.Overrides(), p.st.Members()
	three := 3
	wantOv := map[graph.ID]state.Override{
		member("ast1"): {Mode: state.ModeDisabled, Capacity: map[string]int{"pstn": 10}},
		member("ast2"): {Mode: state.ModeEnabled, Weight: &three},
		member("ast3"): {Mode: state.ModeDraining},
	}
	if !reflect.DeepEqual(beforeOv, wantOv) {
		t.Fatalf("overrides before the bad requests = %#v, want %#v", beforeOv, wantOv)
	}
	cases := []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"POST", "/v1/members/pool.asterisk.member.ast9/disable", "", 404, `unknown member "pool.asterisk.member.ast9"`},
		{"POST", "/v1/members/pool.asterisk/disable", "", 404, `"pool.asterisk" is a pool, not a pool member`},
		{"POST", "/v1/members/route.pbx/drain", "", 404, "is a route, not a pool member"},
		{"POST", "/v1/members/pool.asterisk.member.ast1/explode", "", 404, `no member action "explode"`},
		{"GET", "/v1/members/pool.asterisk.member.ast1/disable", "", 405, "method GET not allowed"},
		{"PUT", "/v1/members/pool.asterisk.member.ast1/weight", `{"weight": -1}`, 400, "weight -1: must be 1 or more"},
		{"PUT", "/v1/members/pool.asterisk.member.ast2/weight", `{"weight": 0}`, 400,
			"weight 0: must be 1 or more, as in the policy; to stop new calls to the member, disable it (at once) or drain it"},
		{"PUT", "/v1/members/pool.asterisk.member.ast1/weight", `{"weight": "5"}`, 400, "bad JSON body"},
		{"PUT", "/v1/members/pool.asterisk.member.ast1/weight", `{"wieght": 5}`, 400, `unknown field "wieght"`},
		{"PUT", "/v1/members/pool.asterisk.member.ast1/weight", `{}`, 400, `body must set "weight"`},
		{"PUT", "/v1/members/pool.asterisk.member.ast1/weight", ``, 400, "empty body"},
		{"PUT", "/v1/members/pool.asterisk.member.ast1/weight", `{"weight": 5} {}`, 400, "trailing data"},
		{"PUT", "/v1/members/pool.asterisk.member.ast1/capacity", `{"resource": "ptsn", "capacity": 5}`, 400, `has no resource "ptsn" (known: pstn)`},
		{"PUT", "/v1/members/pool.asterisk.member.ast1/capacity", `{"resource": "pstn", "capacity": -5}`, 400, "must be 0 or more"},
		{"PUT", "/v1/members/pool.asterisk.member.ast1/capacity", `{"capacity": 5}`, 400, `must set "resource"`},
		{"DELETE", "/v1/members/pool.asterisk.member.ast9/override", "", 404, "unknown member"},
		{"GET", "/v1/calls?member=pool.asterisk.member.ast9", "", 404, "unknown member"},
		{"DELETE", "/v1/status", "", 405, "use GET"},
		{"GET", "/v1/reload", "", 405, "use POST"},
		{"GET", "/v2/nothing", "", 404, "no such endpoint"},
		{"GET", "/metrics", "", 404, "metrics are not enabled"},
	}
	for _, c := range cases {
		code, msg := rawCall(t, srv.URL, c.method, c.path, c.body, "")
		if code != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("%s %s %s: %d %q, want %d containing %q", c.method, c.path, c.body, code, msg, c.code, c.msg)
		}
	}
	if ovs := p.st.Overrides(); !reflect.DeepEqual(ovs, beforeOv) {
		t.Errorf("bad requests changed overrides: %v, want %v", ovs, beforeOv)
	}
	after := p.st.Members()
	if !reflect.DeepEqual(after, beforeMembers) {
		t.Errorf("bad requests changed the members:\n%+v\nwant\n%+v", after, beforeMembers)
	}
	modes := map[graph.ID]state.Mode{}
	for _, ms := range after {
		modes[ms.ID] = ms.Mode
	}
	wantModes := map[graph.ID]state.Mode{member("ast1"): state.ModeDisabled, member("ast2"): state.ModeEnabled, member("ast3"): state.ModeDraining}
	if !reflect.DeepEqual(modes, wantModes) {
		t.Errorf("modes after the bad requests = %v, want %v", modes, wantModes)
	}
}

// rawCall sends one request and returns the status and the JSON error
// message ("" for a 2xx).
func rawCall(t *testing.T, base, method, path, body, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode < 400 {
		return res.StatusCode, ""
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: error with content type %q", method, path, ct)
	}
	var e Error
	if err := json.Unmarshal(data, &e); err != nil || e.Error == "" {
		t.Errorf("%s %s: error body %q is not {\"error\": ...}", method, path, data)
	}
	return res.StatusCode, e.Error
}

func TestToken(t *testing.T) {
	p := newProxy(testGraph(t, "h1", "ast1"))
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up 1\n") })
	srv := httptest.NewServer(New(p, Options{Token: "s3cret", Metrics: metrics, Logger: quiet()}))
	defer srv.Close()
	for _, path := range []string{"/v1/status", "/metrics"} {
		if code, msg := rawCall(t, srv.URL, "GET", path, "", ""); code != 401 || !strings.Contains(msg, "bearer token") {
			t.Errorf("%s without token: %d %q", path, code, msg)
		}
		if code, _ := rawCall(t, srv.URL, "GET", path, "", "wrong"); code != 401 {
			t.Errorf("%s with a wrong token: %d", path, code)
		}
		if code, _ := rawCall(t, srv.URL, "GET", path, "", "s3cret"); code != 200 {
			t.Errorf("%s with the token: %d", path, code)
		}
	}
	if code, _ := rawCall(t, srv.URL, "POST", "/v1/members/pool.asterisk.member.ast1/disable", "", "wrong"); code != 401 {
		t.Errorf("disable with a wrong token: %d", code)
	}
	if len(p.st.Overrides()) != 0 {
		t.Error("unauthorized request changed state")
	}
}

func TestReload(t *testing.T) {
	ctx := context.Background()
	p := newProxy(testGraph(t, "h1", "ast1", "ast2"))
	c := serve(t, p, Options{})
	if _, err := c.SetMode(ctx, member("ast2"), "disable"); err != nil {
		t.Fatal(err)
	}

	p.reloadErr = errors.New("policy.hcl:12,3-9: Unknown pool; there is no pool named \"astrisk\"")
	_, err := c.Reload(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 422 || !strings.Contains(ae.Message, "Unknown pool") {
		t.Fatalf("bad reload: %v", err)
	}
	if st, _ := c.Status(ctx); st.Hash != "h1" {
		t.Errorf("refused reload changed the hash to %s", st.Hash)
	}

	p.reloadErr = nil
	p.next = testGraph(t, "h2", "ast1", "ast2", "ast3")
	r, err := c.Reload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Hash != "h2" || r.Previous != "h1" || !r.Changed {
		t.Errorf("reload = %+v", r)
	}
	ovs, _ := c.Overrides(ctx)
	if got := overrideSummary(ovs.Overrides); got != "ast2:mode=disabled" {
		t.Errorf("overrides after reload = %q, want the disable to survive", got)
	}
}

func TestStartServesUntilCancelled(t *testing.T) {
	p := newProxy(testGraph(t, "h1", "ast1"))
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := Start(ctx, p, Options{Addr: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient("http://"+addr.String(), "")
	if st, err := c.Status(context.Background()); err != nil || st.Hash != "h1" {
		t.Fatalf("status = %+v, %v", st, err)
	}
	if _, err := Start(ctx, p, Options{Addr: addr.String(), Logger: quiet()}); err == nil {
		t.Error("second Start on a busy address did not fail")
	}
	cancel()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := c.Status(context.Background()); err != nil {
			return
		}
	}
	t.Error("admin API still answering 2s after its context ended")
}

// TestMemberViewJSON pins the member document's field names: MemberView
// embeds state.MemberStatus, whose fields must come out at the top level
// with the names clients read.
func TestMemberViewJSON(t *testing.T) {
	o := state.Override{Mode: state.ModeDraining}
	v := MemberView{
		MemberStatus: state.MemberStatus{ID: member("ast1"), Pool: "pool.asterisk", Up: true, Mode: state.ModeDraining,
			Weight: 2, ActiveCalls: 1, Free: map[string]int{"pstn": 29}, DownReason: "x", Changed: time.Unix(0, 0).UTC(), Removed: true},
		URI: "sip:10.0.0.1:5060", Declared: Declared{Weight: 2}, Drained: true, Override: &o, Probe: &probe.Result{Code: 200},
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(got))
	want := []string{"active_calls", "changed", "declared", "down_reason", "drained", "free", "id", "mode", "override",
		"pool", "probe", "removed", "up", "uri", "weight"}
	if !slices.Equal(keys, want) {
		t.Errorf("member JSON keys = %v, want %v\n%s", keys, want, data)
	}
	if string(got["mode"]) != `"draining"` || string(got["id"]) != `"pool.asterisk.member.ast1"` || string(got["weight"]) != "2" {
		t.Errorf("member JSON = %s", data)
	}
	var back MemberView
	if err := json.Unmarshal(data, &back); err != nil || back.ID != v.ID || back.Mode != v.Mode || back.Free["pstn"] != 29 || !back.Drained {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}
