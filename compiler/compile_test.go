package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

func loadSrc(t *testing.T, src string) *Policy {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(render(p.Files, diags))
	}
	return p
}

func TestDefaults(t *testing.T) {
	p := loadSrc(t, `
pool "asterisk" {
  probe {}
  member "ast1" { uri = "sip:10.0.0.11;transport=tcp" }
}
carrier "acme" {
  uri = "sips:gw.example"
  quality { min_asr = 0.5 }
}
registrar {}
route "r" {
  when = "method == 'REGISTER'"
  to = registrar
}`)
	g := p.Graph
	if len(g.Proxy.Listen) != 1 || g.Proxy.Listen[0] != (graph.Listen{Transport: "udp", Addr: "0.0.0.0:5060"}) ||
		g.Proxy.Admin != "127.0.0.1:8080" || g.Proxy.RingTimeout != 3*time.Minute || g.Proxy.MaxCallDuration != 0 ||
		g.Proxy.MaxInflight != 2000 {
		t.Errorf("proxy defaults: %+v", g.Proxy)
	}
	pool := g.Pools[0]
	if pool.Balance != graph.BalanceRoundRobin || pool.Failover.MaxTries != 3 || pool.Failover.Timeout != 3*time.Second ||
		len(pool.Failover.On) != 5 {
		t.Errorf("pool defaults: %+v", pool)
	}
	if pr := pool.Probe; pr.Interval != 5*time.Second || pr.Timeout != time.Second || pr.DownAfter != 3 || pr.UpAfter != 2 ||
		len(pr.Accept) != 1 || pr.Accept[0] != 2 {
		t.Errorf("probe defaults: %+v", pr)
	}
	m := pool.Members[0]
	if m.ID != "pool.asterisk.member.ast1" || m.Host != "10.0.0.11" || m.Port != 5060 || m.Transport != "tcp" || m.Weight != 1 || m.Pool != pool {
		t.Errorf("member: %+v", m)
	}
	c := g.Carriers[0]
	if c.Transport != "tls" || c.Priority != 1 || c.Weight != 1 || c.Quality.Window != 10*time.Minute {
		t.Errorf("carrier: %+v", c)
	}
	if g.Registrar.MaxContacts != 5 || g.Registrar.MaxExpires != time.Hour || g.Routes[0].Fork != graph.ForkParallel {
		t.Errorf("registrar: %+v, fork %q", g.Registrar, g.Routes[0].Fork)
	}
}

func TestExampleGraph(t *testing.T) {
	p, diags := Load(exampleDir)
	if diags.HasErrors() {
		t.Fatal(render(p.Files, diags))
	}
	g := p.Graph
	want := []graph.ID{"filter.methods", "filter.scanners", "filter.ip-in-from", "filter.preloaded-route",
		"trusted.carriers", "trusted.asterisk", "credentials.subscribers", "auth.endpoints", "aliases.dids", "registrar",
		"pool.asterisk", "pool.asterisk.member.ast1", "pool.asterisk.member.ast2", "pool.asterisk.member.ast3",
		"prefixes.did-owners", "carrier.cheapo", "carrier.acme", "carrier.zulu", "carrier.bravo", "carrier.backup",
		"route.register", "route.subscriber", "route.did", "route.pstn", "route.default"}
	got := g.IDs()
	if strings.Join(idStrings(got), " ") != strings.Join(idStrings(want), " ") {
		t.Errorf("IDs:\n got %v\nwant %v", got, want)
	}
	if g.Credentials[0].Entries["alice@example.com"] != "ae7914636bb60b37a9441871cf572389" {
		t.Errorf("credentials: %v", g.Credentials[0].Entries)
	}
	if g.Aliases[0].Entries["+15559870001"] != "alice" {
		t.Errorf("aliases: %v", g.Aliases[0].Entries)
	}
	if r := g.Routes[2]; r.Pool == nil || r.Select == nil || r.Select.ID != "prefixes.did-owners" {
		t.Errorf("route did: %+v", r)
	}
	if a := g.Carriers[1].Auth; a == nil || a.Username != "trunk01" || a.Password == "" {
		t.Errorf("carrier auth: %+v", a)
	}
	if len(g.Hash) != 64 {
		t.Errorf("hash %q", g.Hash)
	}
}

// TestHash checks that the hash covers CSV files, and only content.
func TestHash(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	copyExample(t, a)
	copyExample(t, b)
	ga, _ := Load(a)
	gb, _ := Load(b)
	if ga.Graph.Hash != gb.Graph.Hash {
		t.Fatal("the same policy in two directories hashes differently")
	}
	writeOwners(t, b, 3)
	gc, diags := Load(b)
	if diags.HasErrors() {
		t.Fatal(render(gc.Files, diags))
	}
	if gc.Graph.Hash == ga.Graph.Hash {
		t.Error("editing a CSV file does not change the hash")
	}
}

// TestAllErrorsInOnePass checks that errors from different stages (lang,
// references, CEL, values) come out of one Load.
func TestAllErrorsInOnePass(t *testing.T) {
	p, diags := Load("../testdata/invalid/values.hcl")
	if p.Graph != nil {
		t.Error("a policy with errors has a graph")
	}
	if n := len(diags.Errs()); n != 17 {
		t.Errorf("%d errors, want every one of the file's 17", n)
	}
}

func TestRunTestFailures(t *testing.T) {
	p, diags := Load(exampleDir)
	if diags.HasErrors() {
		t.Fatal(render(p.Files, diags))
	}
	tc := &Test{Name: "wrong", Request: RequestFields{Method: "INVITE", RURI: "sip:+15551230001@example.com", Source: "198.51.100.7:5060"},
		Expect: Expect{Action: "reply", Target: "pool.asterisk.member.ast1", Status: 404, By: "filter.methods"}}
	r := RunTest(p.Graph, tc)
	want := []string{
		"action: expected reply, decided relay",
		"by: expected filter.methods, decided (none)",
		"target: expected pool.asterisk.member.ast1, decided pool.asterisk.member.ast2",
		"status: expected 404, decided (none)",
	}
	if r.Passed() || strings.Join(r.Failures, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(r.Failures, "\n"), strings.Join(want, "\n"))
	}
	bad := RunTest(p.Graph, &Test{Request: RequestFields{Method: "INVITE", RURI: "tel:+1"}})
	if bad.Passed() || !strings.HasPrefix(bad.Failures[0], "request: ruri:") {
		t.Errorf("bad request: %v", bad.Failures)
	}
}

func TestRequestFields(t *testing.T) {
	req, st, err := RequestFields{Method: "invite", RURI: "sip:+15551230001@example.com:5070;user=phone",
		Source: "tcp:10.0.0.12:5080", Headers: map[string]string{"X-B": "2", "X-A": "1"},
		Registered: []string{"alice"}, Down: []string{"carrier.acme"}}.Request()
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "INVITE" || req.RURI.User != "+15551230001" || req.RURI.Port != 5070 ||
		req.From.User != "caller" || req.From.Host != "example.com" || req.To.User != req.RURI.User {
		t.Errorf("request: %+v", req)
	}
	if v, _ := req.RURI.Params.Get("user"); v != "phone" {
		t.Errorf("params: %v", req.RURI.Params)
	}
	if req.Source.Transport != "tcp" || req.Source.Port != 5080 || req.Source.IP.String() != "10.0.0.12" {
		t.Errorf("source: %+v", req.Source)
	}
	if v, ok := req.Headers.Header("x-a"); !ok || v != "1" {
		t.Errorf("headers: %v", req.Headers)
	}
	if !st.Users["alice"] || !st.Down["carrier.acme"] {
		t.Errorf("state: %+v", st)
	}
	def, _, err := RequestFields{Method: "OPTIONS", RURI: "sip:example.com"}.Request()
	if err != nil || def.Source.IP.String() != "192.0.2.1" || def.Source.Port != 5060 {
		t.Errorf("default source: %+v %v", def, err)
	}
	hdr, _, err := RequestFields{Method: "OPTIONS", RURI: "sip:example.com",
		Headers: map[string]string{"user-agent": "friendly-scanner", "CALL-ID": "abc@h"}}.Request()
	if err != nil || hdr.UserAgent != "friendly-scanner" || hdr.CallID != "abc@h" {
		t.Errorf("User-Agent and Call-ID from headers: %+v %v", hdr, err)
	}
	own, _, err := RequestFields{Method: "OPTIONS", RURI: "sip:example.com", UserAgent: "ua", CallID: "cid",
		Headers: map[string]string{"User-Agent": "other", "Call-ID": "other"}}.Request()
	if err != nil || own.UserAgent != "ua" || own.CallID != "cid" {
		t.Errorf("the dedicated fields must win over headers: %+v %v", own, err)
	}
}

func TestParseURI(t *testing.T) {
	good := map[string]graph.URI{
		"sip:10.0.0.11":                         {Scheme: "sip", Host: "10.0.0.11"},
		"sip:alice:pw@example.com:5061":         {Scheme: "sip", User: "alice", Host: "example.com", Port: 5061},
		"sips:[2001:db8::1]:5061":               {Scheme: "sips", Host: "2001:db8::1", Port: 5061},
		`"Alice" <sip:alice@example.com>;tag=1`: {Scheme: "sip", User: "alice", Host: "example.com"},
		"SIP:bob@example.com?subject=hi":        {Scheme: "sip", User: "bob", Host: "example.com"},
	}
	for s, want := range good {
		u, err := ParseURI(s)
		u.Params = nil
		if err != nil || u.Scheme != want.Scheme || u.User != want.User || u.Host != want.Host || u.Port != want.Port {
			t.Errorf("ParseURI(%q) = %+v, %v; want %+v", s, u, err, want)
		}
	}
	for _, s := range []string{"", "http://x", "tel:+1555", "sip:", "sip:@host", "sip:host:0", "sip:host:x", "sip:ho st", "sip:[::1", "sip:h;;"} {
		if _, err := ParseURI(s); err == nil {
			t.Errorf("ParseURI(%q) accepted", s)
		}
	}
}

func idStrings(ids []graph.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

func TestMaxInflight(t *testing.T) {
	p := loadSrc(t, `
proxy { max_inflight = 5 }
pool "asterisk" {
  member "ast1" { uri = "sip:10.0.0.11" }
}
route "r" { to = pool.asterisk }`)
	if got := p.Graph.Proxy.MaxInflight; got != 5 {
		t.Errorf("proxy.max_inflight = 5 compiled to %d", got)
	}
}

// TestInDialogAttributes: dialog_validation defaults to on, topology_hiding
// to off, in_dialog_timeout to 5s, and the timeout is bounded.
func TestInDialogAttributes(t *testing.T) {
	const rest = `
pool "asterisk" {
  member "ast1" { uri = "sip:10.0.0.11" }
}
route "r" { to = pool.asterisk }`
	for _, c := range []struct {
		proxy            string
		validate, hiding bool
		timeout          time.Duration
	}{
		{``, true, false, 5 * time.Second},
		{`proxy { dialog_validation = false }`, false, false, 5 * time.Second},
		{`proxy {
  topology_hiding = true
  in_dialog_timeout = "2s"
}`, true, true, 2 * time.Second},
	} {
		g := loadSrc(t, c.proxy+rest).Graph.Proxy
		if g.DialogValidation != c.validate || g.TopologyHiding != c.hiding || g.InDialogTimeout != c.timeout {
			t.Errorf("%q compiled to validation %v, hiding %v, timeout %s", c.proxy, g.DialogValidation, g.TopologyHiding, g.InDialogTimeout)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(`proxy { in_dialog_timeout = "1m" }`+rest), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, diags := Load(dir); !diags.HasErrors() || !strings.Contains(diags.Error(), "in_dialog_timeout") {
		t.Errorf("in_dialog_timeout = 1m accepted: %v", diags)
	}
}
