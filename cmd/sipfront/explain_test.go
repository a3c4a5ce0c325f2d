package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const platform = "testdata/platform"

func TestExplainGolden(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"trusted-did-alias", []string{"--method", "INVITE", "--ruri", "sip:+15559870001@example.com", "--source", "198.51.100.7:5060", "--registered", "alice"}},
		{"owner-down", []string{"-method", "INVITE", "-ruri", "sip:+15551230001@example.com", "-source", "203.0.113.5:5060",
			"-auth-user", "bob", "-down", "pool.asterisk.member.ast2"}},
		{"challenge", []string{"--method", "REGISTER", "--ruri", "sip:example.com", "--from", "sip:alice@example.com", "--source", "203.0.113.5:5060"}},
		{"scanner", []string{"--method", "OPTIONS", "--ruri", "sip:100@example.com", "--user-agent", "friendly-scanner"}},
		{"serial-fork", []string{"--method", "INVITE", "--ruri", "sip:carol@example.com", "--source", "10.0.0.11:5060",
			"--registered", "carol=sip:carol@192.168.1.20:5062;q=0.5", "--registered", "carol=sip:carol@192.168.1.21;q=1.0",
			"--registered", "carol=sip:carol@192.168.1.22;q=0.5"}},
		{"pstn", []string{"--method", "INVITE", "--ruri", "sip:+15557770000@example.com", "--source", "10.0.0.11:5060", "--down", "carrier.acme"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := cliRun(t, append([]string{"explain", platform}, c.args...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			if !strings.HasPrefix(lastLine(stdout), "Decision: ") {
				t.Errorf("last line %q is not the decision", lastLine(stdout))
			}
			checkGolden(t, "testdata/explain/"+c.name+".golden", stdout)
		})
	}
}

func TestExplainJSON(t *testing.T) {
	stdout, _, code := cliRun(t, "explain", platform, "--json", "--method", "INVITE", "--ruri", "sip:+15551230001@example.com",
		"--source", "198.51.100.7:5060", "--header", "X-Test: 1")
	var e explanation
	if err := json.Unmarshal([]byte(stdout), &e); err != nil || code != 0 {
		t.Fatalf("exit %d, %v\n%s", code, err, stdout)
	}
	if e.Decision.Route != "route.did" || e.Decision.Target != "pool.asterisk.member.ast2" || e.Decision.AuthTrusted != "trusted.carriers" {
		t.Errorf("decision %+v", e.Decision)
	}
	stages := map[string]int{}
	for _, s := range e.Steps {
		stages[s.Stage]++
	}
	if stages["filters"] != 2 || stages["auth"] != 2 || stages["aliases"] != 2 || stages["routes"] < 4 {
		t.Errorf("steps per stage %v", stages)
	}
}

func TestExplainErrors(t *testing.T) {
	cases := [][]string{
		{"explain", platform, "--ruri", "sip:1@example.com"},
		{"explain", platform, "--method", "INVITE", "--ruri", "not a uri"},
		{"explain", platform, "--method", "INVITE", "--ruri", "sip:1@example.com", "--header", "no colon"},
		{"explain", platform, "--method", "INVITE", "--ruri", "sip:1@example.com", "--source", "nowhere"},
		{"explain", platform, "--method", "INVITE", "--ruri", "sip:1@example.com", "--down", "pool.asterisk.member.ast9"},
		{"explain", platform, "--method", "INVITE", "--ruri", "sip:1@example.com", "--down", "pool.asterisk"},
	}
	for _, args := range cases {
		if stdout, stderr, code := cliRun(t, args...); code != 1 || stdout != "" || stderr == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 1 and an error", args, code, stdout, stderr)
		}
	}
	_, stderr, _ := cliRun(t, "explain", platform, "--method", "INVITE", "--ruri", "sip:1@example.com", "--down", "pool.asterisk.member.ast9")
	if want := "error: --down pool.asterisk.member.ast9: the policy has no such member or carrier"; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr %q, want it to start with %q", stderr, want)
	}
}

// TestExplainHeaderUserAgent checks that a User-Agent given with --header,
// in any case, is the one the filters see, like --user-agent.
func TestExplainHeaderUserAgent(t *testing.T) {
	for _, h := range []string{"User-Agent: friendly-scanner", "user-agent: friendly-scanner"} {
		stdout, stderr, code := cliRun(t, "explain", platform, "--json", "--method", "OPTIONS", "--ruri", "sip:100@example.com",
			"--header", h)
		var e explanation
		if err := json.Unmarshal([]byte(stdout), &e); err != nil || code != 0 {
			t.Fatalf("%q: exit %d, %v\n%s%s", h, code, err, stdout, stderr)
		}
		if e.Decision.Filter != "filter.scanners" {
			t.Errorf("%q: decision %+v, want the scanners filter to decide", h, e.Decision)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	h, err := parseHeaders([]string{"Route: <sip:x;lr>", "X-A:b", "Route: second"})
	if err != nil || h["Route"] != "<sip:x;lr>" || h["X-A"] != "b" || len(h) != 2 {
		t.Errorf("parseHeaders = %v, %v", h, err)
	}
	if _, err := parseHeaders([]string{": v"}); err == nil {
		t.Error("an empty header name must be an error")
	}
}
