package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/admin"
	"github.com/sipfront/sipfront/runtime/state"
)

// ctlProxy is an admin.Proxy over a hand-built graph and a real store.
type ctlProxy struct {
	g         atomic.Pointer[graph.Graph]
	st        *state.Store
	reloadErr error
}

func (p *ctlProxy) Graph() *graph.Graph { return p.g.Load() }
func (p *ctlProxy) State() *state.Store { return p.st }
func (p *ctlProxy) Reload() error       { return p.reloadErr }

// ctlServer serves the admin API of a two-member pool on loopback.
func ctlServer(t *testing.T, token string) (*ctlProxy, string) {
	t.Helper()
	pool := &graph.Pool{ID: "pool.asterisk", Name: "asterisk", Balance: graph.BalanceWeighted, Resource: "pstn"}
	for i, n := range []string{"ast1", "ast2"} {
		pool.Members = append(pool.Members, &graph.Member{ID: graph.ID("pool.asterisk.member." + n), Name: n,
			URI: fmt.Sprintf("sip:10.0.0.%d", i+1), Host: fmt.Sprintf("10.0.0.%d", i+1), Port: 5060, Weight: 1,
			Capacity: map[string]int{"pstn": 30}})
	}
	g := &graph.Graph{Hash: "c0ffee", Pools: []*graph.Pool{pool}}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	p := &ctlProxy{st: state.New()}
	p.st.Attach(g)
	p.g.Store(g)
	api := admin.New(p, admin.Options{Token: token, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// ctlRun runs `sipfront ctl ARGS` in-process, as main does.
func ctlRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := &cobra.Command{Use: "sipfront", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newCtlCmd())
	args = append([]string{"ctl"}, args...)
	args = goStyleFlags(root, args)
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.Execute()
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
		fmt.Fprintln(&errb, ee.msg)
	default:
		code = 1
		fmt.Fprintln(&errb, "error:", err)
	}
	return out.String(), errb.String(), code
}

func TestCtlMemberLifecycle(t *testing.T) {
	p, url := ctlServer(t, "")
	ast2 := graph.ID("pool.asterisk.member.ast2")
	m2 := p.Graph().Node(ast2).(*graph.Member)
	p.st.StartCall(m2, "call-1", "tag", "alice", "bob")

	out, errs, code := ctlRun(t, "drain", string(ast2), "--admin", url)
	if code != 0 || out != "pool.asterisk.member.ast2: draining, up, weight 1, 1 active call, free pstn=29\n" {
		t.Fatalf("drain: %d %q %q", code, out, errs)
	}
	out, _, _ = ctlRun(t, "pools", "-admin", url)
	if !strings.Contains(out, "pool.asterisk.member.ast2  up      draining  ") {
		t.Errorf("pools while draining:\n%s", out)
	}
	out, _, _ = ctlRun(t, "calls", "-member", string(ast2), "-admin", url)
	if !strings.Contains(out, "call-1   pool.asterisk.member.ast2  alice   bob") || !strings.HasSuffix(out, "1 active call\n") {
		t.Errorf("calls:\n%s", out)
	}
	p.st.EndCall("call-1", "tag")
	out, _, _ = ctlRun(t, "pools", "--admin", url)
	if !strings.Contains(out, "draining (drained)") {
		t.Errorf("pools after the last call ended:\n%s", out)
	}

	out, _, code = ctlRun(t, "weight", "pool.asterisk.member.ast1", "5", "--admin", url)
	if code != 0 || !strings.Contains(out, "weight 5 (declared 1)") {
		t.Errorf("weight: %d %q", code, out)
	}
	out, _, code = ctlRun(t, "capacity", "pool.asterisk.member.ast1", "pstn", "12", "--admin", url)
	if code != 0 || !strings.Contains(out, "free pstn=12") {
		t.Errorf("capacity: %d %q", code, out)
	}
	out, _, _ = ctlRun(t, "overrides", "--admin", url)
	want := "MEMBER                     MODE      WEIGHT  CAPACITY  IN POLICY\n" +
		"pool.asterisk.member.ast1  enabled   5       pstn=12   yes\n" +
		"pool.asterisk.member.ast2  draining  -       -         yes\n"
	if out != want {
		t.Errorf("overrides:\n%s\nwant:\n%s", out, want)
	}
	ctlRun(t, "enable", string(ast2), "--admin", url)
	out, _, code = ctlRun(t, "clear", "pool.asterisk.member.ast1", "--admin", url)
	if code != 0 || !strings.HasSuffix(out, "(no override)\n") {
		t.Errorf("clear: %d %q", code, out)
	}
	if ovs := p.st.Overrides(); len(ovs) != 0 {
		t.Errorf("overrides left after enable and clear: %v", ovs)
	}
}

func TestCtlJSONAndStatus(t *testing.T) {
	_, url := ctlServer(t, "")
	out, _, code := ctlRun(t, "status", "-json", "--admin", url)
	var s admin.Status
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.Hash != "c0ffee" || s.Members != 2 {
		t.Errorf("status -json: %d %q", code, out)
	}
	out, _, _ = ctlRun(t, "status", "--admin", url)
	if !strings.Contains(out, "Policy                   c0ffee\n") || !strings.Contains(out, "Members                  2 (2 up, 0 down") {
		t.Errorf("status:\n%s", out)
	}
	out, _, _ = ctlRun(t, "pools", "--json", "--admin", url)
	var pools admin.Pools
	if err := json.Unmarshal([]byte(out), &pools); err != nil || len(pools.Pools[0].Members) != 2 {
		t.Errorf("pools --json: %v %q", err, out)
	}
}

func TestCtlErrors(t *testing.T) {
	p, url := ctlServer(t, "tok")
	t.Setenv(admin.TokenEnv, "tok")
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"disable", "pool.asterisk.member.ast9"}, `error: unknown member "pool.asterisk.member.ast9"`},
		{[]string{"weight", "--", "pool.asterisk.member.ast1", "-3"}, "error: weight -3: must be 1 or more, as in the policy; to stop new calls to the member, " +
			"disable it (at once) or drain it (its calls end first) (HTTP 400)"},
		{[]string{"weight", "pool.asterisk.member.ast1", "many"}, `error: weight "many" is not a whole number`},
		{[]string{"capacity", "pool.asterisk.member.ast1", "conf", "3"}, `has no resource "conf" (known: pstn) (HTTP 400)`},
	}
	for _, c := range cases {
		args := append([]string{c.args[0], "--admin", url}, c.args[1:]...)
		_, errs, code := ctlRun(t, args...)
		if code != 1 || !strings.Contains(errs, c.msg) {
			t.Errorf("ctl %v: exit %d, stderr %q; want 1 and %q", c.args, code, errs, c.msg)
		}
	}

	p.reloadErr = errors.New("policy.hcl:3,1-5: Unsupported block type")
	_, errs, code := ctlRun(t, "reload", "--admin", url)
	if code != 1 || !strings.Contains(errs, "Unsupported block type (HTTP 422)") {
		t.Errorf("failed reload: %d %q", code, errs)
	}

	t.Setenv(admin.TokenEnv, "")
	_, errs, code = ctlRun(t, "status", "--admin", url)
	if code != 1 || !strings.Contains(errs, "HTTP 401") {
		t.Errorf("without token: %d %q", code, errs)
	}
	if len(p.st.Overrides()) != 0 {
		t.Error("failed commands changed overrides")
	}
}
