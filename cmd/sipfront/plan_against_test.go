package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/admin"
	"github.com/sipfront/sipfront/runtime/state"
)

// runningProxy is the part of a running proxy the admin API needs, with a
// fixed graph: enough for plan --against without SIP sockets.
type runningProxy struct {
	g  *graph.Graph
	st *state.Store
}

func (p *runningProxy) Graph() *graph.Graph { return p.g }
func (p *runningProxy) State() *state.Store { return p.st }
func (p *runningProxy) Reload() error       { return nil }

// fakeRunning compiles the policy at path as serve does, records its sources
// (with a fixed root, for stable goldens) and serves the admin API on a
// loopback httptest server. token "" means none.
func fakeRunning(t *testing.T, path, token string) (*runningProxy, *admin.PolicySources, string) {
	t.Helper()
	pol, diags := compiler.Load(path)
	if diags.HasErrors() {
		t.Fatalf("%s: %v", path, diags)
	}
	p := &runningProxy{g: pol.Graph, st: state.New()}
	p.st.Attach(pol.Graph)
	src := policySources(path, pol)
	src.Root = "/etc/sipfront"
	api := admin.New(p, admin.Options{Token: token, Sources: func(hash string) *admin.PolicySources {
		if hash == src.Hash {
			return src
		}
		return nil
	}, Logger: quietLog()})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return p, src, srv.URL
}

// sinceRE hides the start time of live calls, which is the test's clock.
var sinceRE = regexp.MustCompile(`since \d\d:\d\d:\d\d`)

// TestPlanAgainstGolden plans member-remove's NEW against a proxy running
// its OLD with two overrides (one on a member NEW removes) and two live
// calls on the member NEW removes.
func TestPlanAgainstGolden(t *testing.T) {
	repoRoot(t)
	dir := "testdata/plan/member-remove"
	p, _, url := fakeRunning(t, dir+"/old", "")
	ast1 := p.g.Node("pool.asterisk.member.ast1").(*graph.Member)
	ast2 := p.g.Node("pool.asterisk.member.ast2").(*graph.Member)
	five := 5
	if err := p.st.SetOverride(ast1.ID, state.Override{Weight: &five}); err != nil {
		t.Fatal(err)
	}
	if err := p.st.SetOverride(ast2.ID, state.Override{Mode: state.ModeDisabled}); err != nil {
		t.Fatal(err)
	}
	p.st.StartCall(ast2, "call-a", "ta", "alice", "+15551230001")
	p.st.StartCall(ast2, "call-b", "tb", "bob", "+15551230005")
	p.st.StartCall(ast1, "call-c", "tc", "carol", "+15551230004")

	stdout, stderr, code := cliRun(t, "plan", "--no-color", dir+"/new", "--against", url)
	if code != 2 || stderr != "" {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
	}
	got := strings.Replace(sinceRE.ReplaceAllString(stdout, "since HH:MM:SS"), url, "ADMIN_URL", 1)
	checkGolden(t, dir+".against.golden", got)
	for _, want := range []string{
		"~ pool.asterisk.member.ast2: mode=disabled",
		"# the new policy does not declare this member",
		"- pool.asterisk.member.ast2: 2 live calls",
		"call-a  alice -> +15551230001",
		"(/etc/sipfront/policy.hcl:25)", // the removed member, where the proxy has it
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plan --against lacks %q", want)
		}
	}
	if strings.Contains(got, "call-c") {
		t.Errorf("a call on ast1, which NEW keeps, is listed as pinned:\n%s", got)
	}

	stdout, _, code = cliRun(t, "plan", "-json", dir+"/new", "-against", url)
	var doc struct {
		Sections []struct {
			Key   string `json:"key"`
			Items []struct {
				ID   string `json:"id"`
				Text string `json:"text"`
			} `json:"items"`
		} `json:"sections"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 2 {
		t.Fatalf("-json: exit %d, %v:\n%s", code, err, stdout)
	}
	if len(doc.Sections) != 2 || doc.Sections[0].Key != "drift" || len(doc.Sections[0].Items) != 2 ||
		doc.Sections[1].Key != "pinned_calls" || len(doc.Sections[1].Items) != 1 || doc.Sections[1].Items[0].Text != "2 live calls" {
		t.Errorf("-json sections = %+v", doc.Sections)
	}
}

// TestPlanAgainstNothing: the running policy planned against itself, with
// no override and no call, is an empty plan (exit 0); one override alone
// makes it exit 2.
func TestPlanAgainstNothing(t *testing.T) {
	repoRoot(t)
	dir := "testdata/plan/member-remove/old"
	p, _, url := fakeRunning(t, dir, "")
	stdout, stderr, code := cliRun(t, "plan", "--no-color", dir, "--against", url)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, want 0; stderr:\n%s\n%s", code, stderr, stdout)
	}
	if !strings.Contains(stdout, "No changes.") || strings.Count(stdout, "(none)") != 2 {
		t.Errorf("plan of the running policy against itself:\n%s", stdout)
	}
	if err := p.st.SetOverride("pool.asterisk.member.ast1", state.Override{Mode: state.ModeDraining}); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = cliRun(t, "plan", "--no-color", dir, "--against", url)
	if code != 2 || !strings.Contains(stdout, "~ pool.asterisk.member.ast1: mode=draining") ||
		!strings.HasSuffix(stdout, "Plan: 0 to add, 0 to change, 0 to destroy. 0 decisions change.\n") {
		t.Errorf("drift only: exit %d, want 2:\n%s", code, stdout)
	}
}

func TestPlanAgainstErrors(t *testing.T) {
	repoRoot(t)
	dir := "testdata/plan/member-remove"
	_, src, url := fakeRunning(t, dir+"/old", "s3cret")

	// The token comes from the environment.
	_, stderr, code := cliRun(t, "plan", dir+"/new", "--against", url)
	if code != 1 || !strings.Contains(stderr, "bearer token") || !strings.Contains(stderr, "401") {
		t.Errorf("no token: exit %d, stderr:\n%s", code, stderr)
	}
	t.Setenv(admin.TokenEnv, "s3cret")
	if _, stderr, code := cliRun(t, "plan", dir+"/new", "--against", url); code != 2 {
		t.Errorf("with the token: exit %d, stderr:\n%s", code, stderr)
	}

	// Files that do not give the proxy's hash are refused.
	src.Files["did-owners.csv"] += "+1555126,ast1\n"
	_, stderr, code = cliRun(t, "plan", dir+"/new", "--against", url)
	if code != 1 || !strings.Contains(stderr, "compile to") || !strings.Contains(stderr, admin.ShortHash(src.Hash)) {
		t.Errorf("tampered sources: exit %d, stderr:\n%s", code, stderr)
	}

	// No proxy there.
	_, stderr, code = cliRun(t, "plan", dir+"/new", "--against", "http://127.0.0.1:1")
	if code != 1 || !strings.Contains(stderr, "fetching the running policy") {
		t.Errorf("no proxy: exit %d, stderr:\n%s", code, stderr)
	}

	// Argument count.
	_, stderr, code = cliRun(t, "plan", dir+"/old", dir+"/new", "--against", url)
	if code != 1 || !strings.Contains(stderr, "only the NEW policy") {
		t.Errorf("two policies and --against: exit %d, stderr:\n%s", code, stderr)
	}
	// plan OLD NEW still works.
	if _, stderr, code := cliRun(t, "plan", dir+"/old", dir+"/new"); code != 2 {
		t.Errorf("plan OLD NEW: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestPolicySourcesRoundTrip: the sources serve records, written elsewhere
// by plan --against, compile to the same hash, a CSV above the policy
// directory and a one-file policy included.
func TestPolicySourcesRoundTrip(t *testing.T) {
	base := t.TempDir()
	for _, d := range []string{"shared", "policy"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(base, "shared", "owners.csv"), "prefix,member\n+1555,a\n")
	policy := `pool "p" {
  balance = "round-robin"
  member "a" { uri = "sip:10.0.0.1:5060" }
}
prefixes "owners" { file = "../shared/owners.csv" }
route "r" {
  to     = pool.p
  select = prefixes.owners
}
`
	writeFile(t, filepath.Join(base, "policy", "edge.hcl"), policy)
	writeFile(t, filepath.Join(base, "policy", "other.hcl"), "# not part of the one-file policy\nroute \"x\" { to = pool.nope }\n")
	path := filepath.Join(base, "policy", "edge.hcl")
	pol, diags := compiler.Load(path)
	if diags.HasErrors() {
		t.Fatalf("%s: %v", path, diags)
	}
	src := policySources(path, pol)
	if _, ok := src.Files["../shared/owners.csv"]; !ok || len(src.Files) != 2 {
		t.Errorf("recorded files = %v", keys(src.Files))
	}
	root, err := src.WriteTo(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	again, diags := compiler.Load(root)
	if diags.HasErrors() || again.Graph == nil || again.Graph.Hash != pol.Graph.Hash {
		t.Errorf("recompiled: %v, want hash %s", diags, pol.Graph.Hash)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestPlanAgainstUnsetEnv: a running policy that reads env("X") without a
// default cannot be compiled here while X is unset; the error names X and
// says why it is needed.
func TestPlanAgainstUnsetEnv(t *testing.T) {
	repoRoot(t)
	dir := copyDir(t, "testdata/plan/member-remove/old")
	f, err := os.OpenFile(filepath.Join(dir, "policy.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\ncarrier \"envtrunk\" {\n  uri = \"sip:gw.example.com\"\n  auth {\n    username = env(\"SIPFRONT_TEST_TRUNK_USER\")\n    password = env(\"SIPFRONT_TEST_TRUNK_PASS\")\n  }\n}\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Setenv("SIPFRONT_TEST_TRUNK_USER", "trunk07")
	t.Setenv("SIPFRONT_TEST_TRUNK_PASS", "s3cret")
	_, src, url := fakeRunning(t, dir, "")
	os.Unsetenv("SIPFRONT_TEST_TRUNK_USER")
	os.Unsetenv("SIPFRONT_TEST_TRUNK_PASS")
	_, stderr, code := cliRun(t, "plan", "testdata/plan/member-remove/new", "--against", url)
	want := "error: the running policy (" + admin.ShortHash(src.Hash) + ") reads the environment variables SIPFRONT_TEST_TRUNK_PASS and " +
		"SIPFRONT_TEST_TRUNK_USER with env() and no default, and they are not set here: plan --against compiles the running policy locally, " +
		"so export them with the proxy's values and run the plan again:"
	if code != 1 || !strings.HasPrefix(stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant it to start with:\n%s", code, stderr, want)
	}
	if strings.Contains(stderr, "does not compile with this sipfront") {
		t.Errorf("an unset variable is not a version mismatch:\n%s", stderr)
	}
}
