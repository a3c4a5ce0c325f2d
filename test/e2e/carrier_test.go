package e2e

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/compiler/graph"
)

// carrierBox is one sipp UAS playing a carrier, with the policy text of
// its carrier block.
type carrierBox struct {
	name  string
	port  int
	scen  string
	attrs string   // carrier block body beyond uri
	args  []string // more sipp arguments
	sipp  *sippProc
}

// carrierPolicy renders a policy whose only route sends every call to the
// carriers by least-cost routing, from the exit socket (the listener).
func carrierPolicy(proxyPort int, boxes []*carrierBox) string {
	return carrierPolicyAdmin(proxyPort, 0, boxes)
}

// carrierPolicyAdmin is carrierPolicy with the admin API on adminPort (0:
// none).
func carrierPolicyAdmin(proxyPort, adminPort int, boxes []*carrierBox) string {
	var b strings.Builder
	admin := `""`
	if adminPort != 0 {
		admin = fmt.Sprintf("%q", addr(adminPort))
	}
	fmt.Fprintf(&b, "proxy {\n  listen       = [\"udp:%[1]s\"]\n  advertise    = %[1]q\n  exit         = \"udp:%[1]s\"\n  admin        = %[2]s\n  ring_timeout = \"30s\"\n}\n\n", addr(proxyPort), admin)
	for _, c := range boxes {
		fmt.Fprintf(&b, "carrier %q {\n  uri = \"sip:%s\"\n  %s\n}\n\n", c.name, addr(c.port), strings.ReplaceAll(c.attrs, "\n", "\n  "))
	}
	b.WriteString("route \"pstn\" {\n  to = carriers\n}\n")
	return b.String()
}

// startCarriers starts a sipp UAS per carrier, tracing every message.
func startCarriers(t *testing.T, boxes []*carrierBox) {
	t.Helper()
	for _, c := range boxes {
		c.port = freePort(t)
	}
	for _, c := range boxes {
		args := append([]string{"-sf", scenario(c.scen), "-i", "127.0.0.1", "-p", fmt.Sprint(c.port), "-trace_msg"}, c.args...)
		c.sipp = startSipp(t, c.name, args...)
		waitUDPBound(t, c.port)
	}
}

// sipMessage is one message a sipp process received, from its -trace_msg
// log.
type sipMessage struct {
	at   time.Time
	text string
}

func (m sipMessage) firstLine() string { line, _, _ := strings.Cut(m.text, "\n"); return line }

func (m sipMessage) header(name string) []string {
	var out []string
	for _, l := range strings.Split(m.text, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// received reads the messages a sipp process received.
func (s *sippProc) received(t *testing.T) []sipMessage {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.dir, "*_messages.log"))
	if len(files) == 0 {
		t.Fatalf("sipp %s wrote no message trace", s.name)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sipMessage
	var cur *sipMessage
	var body strings.Builder
	inbound := false
	flush := func() {
		if cur != nil && inbound {
			cur.text = strings.TrimSpace(body.String())
			out = append(out, *cur)
		}
		cur, inbound = nil, false
		body.Reset()
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, "----------------") {
			flush()
			stamp := strings.TrimSpace(strings.TrimLeft(line, "- "))
			at, err := time.ParseInLocation("2006-01-02\t15:04:05.000000", stamp, time.Local)
			if err != nil {
				at, _ = time.ParseInLocation("2006-01-02 15:04:05.000000", stamp, time.Local)
			}
			cur = &sipMessage{at: at}
			continue
		}
		if cur != nil && body.Len() == 0 && strings.Contains(line, "message received") {
			inbound = true
			continue
		}
		if cur != nil && inbound {
			body.WriteString(line + "\n")
		}
	}
	flush()
	return out
}

// invitesOf returns the initial INVITEs among msgs (not retransmissions:
// one per Call-ID).
func invitesOf(msgs []sipMessage) []sipMessage {
	seen := map[string]bool{}
	var out []sipMessage
	for _, m := range msgs {
		if !strings.HasPrefix(m.firstLine(), "INVITE ") {
			continue
		}
		cid := strings.Join(m.header("Call-ID"), "")
		if !seen[cid] {
			seen[cid] = true
			out = append(out, m)
		}
	}
	return out
}

// TestCarrierLCR: numbers of two prefixes land on the carriers that serve
// them; two carriers of equal priority with weights 1:3 split 250 calls
// within 10 points of 25/75, and the graph (what explain runs) names the
// carrier of every Call-ID exactly as serve chose; every message a carrier
// receives carries only the exit address in Via and Record-Route.
func TestCarrierLCR(t *testing.T) {
	needSipp(t)
	boxes := []*carrierBox{
		{name: "light", scen: "uas.xml", attrs: "prefixes = [\"1\"]\nweight   = 1"},
		{name: "heavy", scen: "uas.xml", attrs: "prefixes = [\"1\"]\nweight   = 3"},
		{name: "uk", scen: "uas.xml", attrs: "prefixes = [\"44\"]\nstrip    = 2\nprepend  = \"0044\""},
	}
	startCarriers(t, boxes)
	port := freePort(t)
	path := writePolicy(t, carrierPolicy(port, boxes))
	p := startProxy(t, path, addr(port))

	const us, uk = 250, 20
	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "13125550100", calls: us, rate: 100, holdMS: 50})
	checkCaller(t, r, us)
	r = runCaller(t, p.addr, caller{scenario: "uac.xml", service: "442079460000", calls: uk, rate: 50, holdMS: 50})
	checkCaller(t, r, uk)
	for _, c := range boxes {
		c.sipp.stop(t)
	}

	res, diags := compiler.Load(path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	got := map[string]int{}
	for _, c := range boxes {
		for _, m := range invitesOf(c.sipp.received(t)) {
			got[c.name]++
			cid := strings.Join(m.header("Call-ID"), "")
			req := graph.Request{Method: "INVITE", RURI: graph.URI{User: userOf(m.firstLine())}, CallID: cid}
			if c.name != "uk" {
				d := res.Graph.Decide(&req, graph.StaticState{}, nil)
				if d.Carrier == nil || d.Carrier.Name != c.name {
					t.Errorf("Call-ID %s went to %s, the graph decides %v", cid, c.name, d.Carrier)
				}
			} else if u := userOf(m.firstLine()); u != "00442079460000" {
				t.Errorf("uk received number %q, want 00442079460000 (strip 2, prepend 0044)", u)
			}
			checkOnlyExit(t, c.name, m, p.addr)
		}
	}
	t.Logf("LCR: %v", got)
	if testing.Verbose() {
		t.Logf("an INVITE at a carrier:\n%s", invitesOf(boxes[0].sipp.received(t))[0].text)
	}
	if got["uk"] != uk || got["light"]+got["heavy"] != us {
		t.Errorf("carriers got %v; want uk %d and light+heavy %d", got, uk, us)
	}
	if share := float64(got["light"]) / us; share < 0.15 || share > 0.35 {
		t.Errorf("light (weight 1) took %.0f%% of calls, want 25%% ± 10", 100*share)
	}
	// The CLI's explain names the same carrier for a Call-ID.
	for _, c := range boxes[:2] {
		m := invitesOf(c.sipp.received(t))[0]
		cid := strings.Join(m.header("Call-ID"), "")
		out, _, code := runSipfront(t, nil, "explain", path, "--method", "INVITE", "--ruri", "sip:13125550100@"+p.addr, "--call-id", cid)
		if code != 0 || !strings.Contains(out, "to carrier."+c.name+" ") {
			t.Errorf("explain --call-id %s (exit %d) does not name carrier.%s:\n%s", cid, code, c.name, out)
		}
	}
}

// userOf returns the user part of a request line's URI.
func userOf(requestLine string) string {
	f := strings.Fields(requestLine)
	if len(f) < 2 {
		return ""
	}
	u := strings.TrimPrefix(f[1], "sip:")
	user, _, _ := strings.Cut(u, "@")
	return user
}

// checkOnlyExit fails when a message a carrier received names in Via,
// Record-Route or Contact anything but the exit address (here the proxy's
// listener) or, in the Vias of the answers to its own requests, the
// carrier itself (own).
func checkOnlyExit(t *testing.T, carrier string, m sipMessage, exit string, own ...string) {
	t.Helper()
	for _, h := range []string{"Via", "Record-Route", "Contact"} {
		for _, v := range m.header(h) {
			if !strings.Contains(v, exit) && (h == "Contact" || len(own) == 0 || !strings.Contains(v, own[0])) {
				t.Errorf("%s received %q with %s: %s; want only the exit %s", carrier, m.firstLine(), h, v, exit)
			}
		}
	}
}

// TestCarrierFailover: a carrier answering 503 and a silent one; the third
// takes every call and the caller sees no failure. Then a 486 from the
// first carrier goes straight back to the caller.
func TestCarrierFailover(t *testing.T) {
	needSipp(t)
	fo := "failover {\n  on        = [503]\n  max_tries = 3\n  timeout   = \"1s\"\n}"
	boxes := []*carrierBox{
		{name: "busy", scen: "uas_503.xml", attrs: "prefixes = [\"1\"]\npriority = 1\n" + fo},
		{name: "hung", scen: "uas_silent.xml", attrs: "prefixes = [\"1\"]\npriority = 2\n" + fo},
		{name: "good", scen: "uas.xml", attrs: "prefixes = [\"1\"]\npriority = 3\n" + fo},
	}
	startCarriers(t, boxes)
	port := freePort(t)
	p := startProxy(t, writePolicy(t, carrierPolicy(port, boxes)), addr(port))
	const calls = 20
	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "13125550100", calls: calls, rate: 10, limit: 50, holdMS: 50})
	checkCaller(t, r, calls)
	counts := map[string]int{}
	for _, c := range boxes {
		c.sipp.stop(t)
		counts[c.name] = len(invitesOf(c.sipp.received(t)))
	}
	t.Logf("failover: %v", counts)
	if counts["good"] != calls || counts["busy"] != calls || counts["hung"] != calls {
		t.Errorf("INVITEs per carrier %v; want each of busy, hung and good to see all %d calls", counts, calls)
	}
}

// TestCarrierBusyGoesBack: a 486 is definitive: the caller gets it and the
// next carrier never sees the call.
func TestCarrierBusyGoesBack(t *testing.T) {
	needSipp(t)
	boxes := []*carrierBox{
		{name: "first", scen: "uas_486.xml", attrs: "prefixes = [\"1\"]\npriority = 1"},
		{name: "second", scen: "uas.xml", attrs: "prefixes = [\"1\"]\npriority = 2"},
	}
	startCarriers(t, boxes)
	port := freePort(t)
	p := startProxy(t, writePolicy(t, carrierPolicy(port, boxes)), addr(port))
	const calls = 5
	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "13125550100", calls: calls, rate: 10, holdMS: 50})
	if r.failed != calls || r.ok != 0 {
		t.Errorf("caller: %d ok, %d failed; want every call to fail with the carrier's 486", r.ok, r.failed)
	}
	first := boxes[0].sipp.stop(t)
	second := boxes[1].sipp.stop(t)
	if invites(first) != calls || invites(second) != 0 {
		t.Errorf("first carrier got %d INVITEs, second %d; want %d and 0", invites(first), invites(second), calls)
	}
}

// TestCarrierLimits: a carrier limited to cps = 10 and calls = 20 under a
// burst of 100 calls at 50 cps never has more than 10 INVITEs in any
// second nor more than 20 calls at once (counted at the sipp carrier); the
// overflow goes to the next carrier. Without one, the caller gets 503.
func TestCarrierLimits(t *testing.T) {
	needSipp(t)
	limits := "limits {\n  cps   = 10\n  calls = 20\n}"
	for _, tt := range []struct {
		name     string
		overflow bool
	}{{"overflow to the next carrier", true}, {"no other carrier: 503", false}} {
		t.Run(tt.name, func(t *testing.T) {
			boxes := []*carrierBox{{name: "small", scen: "uas.xml", attrs: "prefixes = [\"1\"]\npriority = 1\n" + limits}}
			if tt.overflow {
				boxes = append(boxes, &carrierBox{name: "big", scen: "uas.xml", attrs: "prefixes = [\"1\"]\npriority = 2"})
			}
			startCarriers(t, boxes)
			port := freePort(t)
			p := startProxy(t, writePolicy(t, carrierPolicy(port, boxes)), addr(port))
			const calls = 100
			r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "13125550100", calls: calls, rate: 50, limit: 200, holdMS: 3000})
			for _, c := range boxes {
				c.sipp.stop(t)
			}
			msgs := boxes[0].sipp.received(t)
			// The proxy spaces starts by a second; the carrier sees them
			// shortened by transit and by sipp's own scheduling on a busy
			// machine, hence a window a little under a second.
			maxCPS, maxCalls := windowMax(invitesOf(msgs), 900*time.Millisecond), concurrent(msgs)
			t.Logf("small carrier: %d INVITEs, at most %d in a sliding second, %d at once; caller %d ok %d failed",
				len(invitesOf(msgs)), maxCPS, maxCalls, r.ok, r.failed)
			if maxCPS > 10 || maxCalls > 20 {
				t.Errorf("the carrier saw %d INVITEs in a second and %d calls at once; limits are 10 and 20", maxCPS, maxCalls)
			}
			if tt.overflow {
				checkCaller(t, r, calls)
			} else if r.failed == 0 || r.ok == 0 {
				t.Errorf("caller: %d ok, %d failed; want some calls refused with 503 and some placed", r.ok, r.failed)
			}
		})
	}
}

// windowMax is the most INVITEs in any window of length w.
func windowMax(msgs []sipMessage, w time.Duration) int {
	times := make([]time.Time, len(msgs))
	for i, m := range msgs {
		times[i] = m.at
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best := 0
	for i := range times {
		n := sort.Search(len(times), func(j int) bool { return !times[j].Before(times[i].Add(w)) }) - i
		best = max(best, n)
	}
	return best
}

// concurrent is the most calls in progress at once: initial INVITEs
// received minus BYEs received, in message order.
func concurrent(msgs []sipMessage) int {
	seen := map[string]bool{}
	n, best := 0, 0
	for _, m := range msgs {
		cid := strings.Join(m.header("Call-ID"), "")
		switch {
		case strings.HasPrefix(m.firstLine(), "INVITE ") && !seen[cid]:
			seen[cid] = true
			n++
		case strings.HasPrefix(m.firstLine(), "BYE "):
			n--
		}
		best = max(best, n)
	}
	return best
}

// TestCarrierAuth: a carrier that challenges every INVITE with 407 gets the
// right digest answer and the calls succeed (ACK and BYE renumbered on the
// carrier leg, whose CSeq runs one ahead); the password never appears in
// the proxy's log.
func TestCarrierAuth(t *testing.T) {
	needSipp(t)
	boxes := []*carrierBox{{name: "strict", scen: "uas_auth.xml",
		attrs: "prefixes = [\"1\"]\nauth {\n  username = \"trunk01\"\n  password = \"s3cret\"\n}"}}
	const calls = 10
	p, msgs := callOneCarrier(t, boxes[0], caller{scenario: "uac.xml", service: "13125550100", calls: calls, rate: 10, holdMS: 100})
	authed, byes := 0, 0
	for _, m := range msgs {
		if pa := m.header("Proxy-Authorization"); strings.HasPrefix(m.firstLine(), "INVITE ") && len(pa) > 0 {
			if err := checkDigest(pa[0], "trunk01", "s3cret", "INVITE"); err != nil {
				t.Errorf("%s: %v", pa[0], err)
			}
			authed++
		}
		if strings.HasPrefix(m.firstLine(), "BYE ") {
			byes++
		}
		checkOnlyExit(t, "strict", m, p.addr)
	}
	if authed != calls || byes != calls {
		t.Errorf("carrier got %d authenticated INVITEs and %d BYEs, want %d each", authed, byes, calls)
	}
	if strings.Contains(p.log.String(), "s3cret") {
		t.Error("the proxy logged the carrier password")
	}
}

// checkDigest recomputes an MD5 qop=auth digest response (RFC 7616 §3.4.1)
// from the header's own fields and the credentials.
func checkDigest(header, user, password, method string) error {
	f := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(header, "Digest "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		f[k] = strings.Trim(v, `"`)
	}
	h := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	if f["username"] != user || f["qop"] != "auth" {
		return fmt.Errorf("username %q qop %q", f["username"], f["qop"])
	}
	ha1 := h(user + ":" + f["realm"] + ":" + password)
	ha2 := h(method + ":" + f["uri"])
	if want := h(ha1 + ":" + f["nonce"] + ":" + f["nc"] + ":" + f["cnonce"] + ":auth:" + ha2); f["response"] != want {
		return fmt.Errorf("response %s, want %s", f["response"], want)
	}
	return nil
}

// TestCarrierQualityAndCtl: a carrier that rejects every call (486) is
// judged after min_samples calls and skipped while another carrier can
// take the call; `ctl carriers` and /metrics show figures that match the
// calls placed. Then it recovers: with the other carrier disabled (`ctl
// disable carrier.NAME`) it is the last resort, answers, and its ASR
// climbs back, so it takes the calls again once the other is enabled.
// (Recovery as the window slides past old failures is a unit test: the
// window is at least 1m.)
func TestCarrierQualityAndCtl(t *testing.T) {
	needSipp(t)
	q := "quality {\n  min_asr     = 0.5\n  min_samples = 5\n  window      = \"1m\"\n}"
	boxes := []*carrierBox{
		{name: "flaky", scen: "uas_486.xml", attrs: "prefixes = [\"1\"]\npriority = 1\n" + q},
		{name: "solid", scen: "uas.xml", attrs: "prefixes = [\"1\"]\npriority = 2"},
	}
	startCarriers(t, boxes)
	port, adminPort := freePort(t), freePort(t)
	p := startProxy(t, writePolicy(t, carrierPolicyAdmin(port, adminPort, boxes)), addr(port))
	url := "http://" + addr(adminPort)
	const calls = 20
	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "13125550100", calls: calls, rate: 5, limit: 1, holdMS: 50})
	if r.failed != 5 || r.ok != calls-5 {
		t.Errorf("caller: %d ok, %d failed; want the first 5 calls busy (486 from flaky), then %d answered by solid", r.ok, r.failed, calls-5)
	}
	cs := ctlCarriers(t, url)
	if len(cs) != 2 {
		t.Fatalf("ctl carriers -json lists %d carriers, want 2", len(cs))
	}
	flaky, solid := cs[0], cs[1]
	if flaky.Quality != "critical" || flaky.Attempts != 5 || flaky.Answered != 0 || flaky.Window.Attempts != 5 || flaky.Window.ASR != 0 {
		t.Errorf("flaky: %+v; want critical after 5 attempts, none answered", flaky)
	}
	if solid.Attempts != calls-5 || solid.Answered != calls-5 {
		t.Errorf("solid: %+v; want %d attempts, all answered", solid, calls-5)
	}
	table, _, _ := runSipfront(t, nil, "ctl", "--admin", url, "carriers")
	t.Logf("ctl carriers:\n%s", table)
	fams := scrape(t, url)
	for _, want := range []struct {
		family, carrier string
		value           float64
	}{
		{"sipfront_carrier_attempts_total", "carrier.flaky", 5},
		{"sipfront_carrier_answered_total", "carrier.flaky", 0},
		{"sipfront_carrier_answered_total", "carrier.solid", calls - 5},
		{"sipfront_carrier_asr", "carrier.flaky", 0},
	} {
		f := fams[want.family]
		found := false
		for _, m := range f.GetMetric() {
			if matches(m, map[string]string{"carrier": want.carrier}) {
				found = true
				if v := value(m); v != want.value {
					t.Errorf("%s{carrier=%q} = %v, want %v", want.family, want.carrier, v, want.value)
				}
			}
		}
		if !found {
			t.Errorf("no %s{carrier=%q} in /metrics", want.family, want.carrier)
		}
	}

	if out, _, code := runSipfront(t, nil, "ctl", "--admin", url, "disable", "carrier.solid"); code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("ctl disable carrier.solid: exit %d: %s", code, out)
	}
	// flaky recovers (its sipp now answers 200); with solid disabled it is
	// the last resort, answers, and its figures climb back above min_asr.
	boxes[0].sipp.stop(t)
	startSipp(t, "flaky-recovered", "-sf", scenario("uas.xml"), "-i", "127.0.0.1", "-p", fmt.Sprint(boxes[0].port))
	waitUDPBound(t, boxes[0].port)
	r = runCaller(t, p.addr, caller{scenario: "uac.xml", service: "13125550100", calls: 6, rate: 5, limit: 1, holdMS: 50})
	checkCaller(t, r, 6) // 6 answered of 11 samples: ASR 0.55, above min_asr 0.5
	if cs := ctlCarriers(t, url); len(cs) != 2 || cs[0].Quality != "ok" {
		t.Fatalf("after flaky answered as the last resort: %+v; want flaky back to quality ok", cs)
	}
	if out, _, code := runSipfront(t, nil, "ctl", "--admin", url, "enable", "carrier.solid"); code != 0 {
		t.Fatalf("ctl enable carrier.solid: exit %d: %s", code, out)
	}
	r = runCaller(t, p.addr, caller{scenario: "uac.xml", service: "13125550100", calls: 4, rate: 5, limit: 1, holdMS: 50})
	checkCaller(t, r, 4)
	boxes[1].sipp.stop(t)
	if n := len(invitesOf(boxes[1].sipp.received(t))); n != calls-5 {
		t.Errorf("solid got %d INVITEs, want %d (none while disabled, none once flaky recovered)", n, calls-5)
	}
	if cs := ctlCarriers(t, url); len(cs) == 2 && cs[0].Window.Attempts != 15 {
		t.Errorf("flaky's window holds %d calls, want 15 (5 busy, then 10 answered)", cs[0].Window.Attempts)
	}
}

// TestCarrierRegistration: a carrier with register = true is kept
// registered: every REGISTER answers the carrier's challenge (sipp checks
// the digest: a wrong one gets 403), the registration is refreshed before
// the 2 s the carrier grants run out, and `ctl carriers` reports it.
func TestCarrierRegistration(t *testing.T) {
	needSipp(t)
	boxes := []*carrierBox{{name: "reg", scen: "uas_register.xml",
		attrs: "prefixes = [\"1\"]\nauth {\n  username         = \"trunk01\"\n  password         = \"s3cret\"\n  register         = true\n  register_expires = \"1m\"\n}"}}
	startCarriers(t, boxes)
	port, adminPort := freePort(t), freePort(t)
	p := startProxy(t, writePolicy(t, carrierPolicyAdmin(port, adminPort, boxes)), addr(port))
	deadline := time.Now().Add(20 * time.Second)
	var state string
	for time.Now().Before(deadline) {
		if cs := ctlCarriers(t, "http://"+addr(adminPort)); len(cs) == 1 && cs[0].Registration != nil {
			state = cs[0].Registration.State
		}
		if n := authorizedRegisters(t, boxes[0]); state == "registered" && n >= 3 {
			t.Logf("registered; %d authorized REGISTERs so far", n)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	boxes[0].sipp.stop(t)
	if n := authorizedRegisters(t, boxes[0]); state != "registered" || n < 3 {
		t.Errorf("registration state %q after %d authorized REGISTERs; want registered and refreshed (3 or more)", state, n)
	}
	for _, m := range boxes[0].sipp.received(t) {
		checkOnlyExit(t, "reg", m, p.addr)
	}
	if strings.Contains(p.log.String(), "s3cret") {
		t.Error("the proxy logged the carrier password")
	}
}

// authorizedRegisters counts the REGISTERs with credentials a carrier has
// received so far (sipp flushes its message trace as it goes).
func authorizedRegisters(t *testing.T, c *carrierBox) int {
	n := 0
	for _, m := range c.sipp.received(t) {
		if strings.HasPrefix(m.firstLine(), "REGISTER ") && len(m.header("Authorization")) > 0 {
			n++
		}
	}
	return n
}

// TestCarrierProbe: a carrier with a probe block that does not answer
// OPTIONS is marked down by probing; calls go to the next carrier and
// `ctl carriers` shows it down.
func TestCarrierProbe(t *testing.T) {
	needSipp(t)
	probe := "probe {\n  interval  = \"1s\"\n  timeout   = \"500ms\"\n  threshold = 2\n}"
	boxes := []*carrierBox{
		{name: "deaf", scen: "uas.xml", attrs: "prefixes = [\"1\"]\npriority = 1\n" + probe},
		{name: "backup", scen: "uas.xml", attrs: "prefixes = [\"1\"]\npriority = 2"},
	}
	startCarriers(t, boxes)
	port, adminPort := freePort(t), freePort(t)
	p := startProxy(t, writePolicy(t, carrierPolicyAdmin(port, adminPort, boxes)), addr(port))
	url := "http://" + addr(adminPort)
	deadline := time.Now().Add(15 * time.Second)
	down := false
	for !down && time.Now().Before(deadline) {
		cs := ctlCarriers(t, url)
		down = len(cs) == 2 && !cs[0].Up
		time.Sleep(300 * time.Millisecond)
	}
	if !down {
		t.Fatal("the deaf carrier was not marked down by probing within 15s")
	}
	const calls = 5
	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "13125550100", calls: calls, rate: 5, holdMS: 50})
	checkCaller(t, r, calls)
	deaf, backup := boxes[0].sipp.stop(t), boxes[1].sipp.stop(t)
	if invites(deaf) != 0 || invites(backup) != calls {
		t.Errorf("deaf got %d INVITEs, backup %d; want 0 and %d", invites(deaf), invites(backup), calls)
	}
	for _, m := range boxes[0].sipp.received(t) {
		checkOnlyExit(t, "deaf", m, p.addr)
	}
}

// carrierJSON is a carrier as `ctl carriers -json` prints it (the fields
// the tests read).
type carrierJSON struct {
	ID       string `json:"id"`
	Up       bool   `json:"up"`
	Quality  string `json:"quality"`
	Attempts int    `json:"attempts"`
	Answered int    `json:"answered"`
	Window   struct {
		Attempts int     `json:"attempts"`
		ASR      float64 `json:"asr"`
	} `json:"window"`
	Registration *struct {
		State string `json:"state"`
	} `json:"registration"`
}

// ctlCarriers runs `sipfront ctl carriers -json`; nil when it fails.
func ctlCarriers(t *testing.T, url string) []carrierJSON {
	t.Helper()
	out, _, code := runSipfront(t, nil, "ctl", "--admin", url, "carriers", "-json")
	var cs struct {
		Carriers []carrierJSON `json:"carriers"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &cs) != nil {
		return nil
	}
	return cs.Carriers
}

// TestCarrierHangsUp: the carrier ends the calls. Its BYE comes back to
// the Contact the proxy gave it (the exit) and reaches the caller's real
// Contact; every message the carrier receives names only the exit, in Via,
// Record-Route and Contact, answers included. The same holds with the
// proxy's topology hiding on, which then gives the Contact.
func TestCarrierHangsUp(t *testing.T) {
	needSipp(t)
	for _, hiding := range []bool{false, true} {
		t.Run(fmt.Sprintf("topology_hiding=%v", hiding), func(t *testing.T) { carrierHangsUp(t, hiding) })
	}
}

func carrierHangsUp(t *testing.T, hiding bool) {
	hanger := &carrierBox{name: "hanger", scen: "uas_hangup.xml", attrs: "prefixes = [\"1\"]", args: []string{"-d", "200"}}
	const calls = 10
	p, msgs := callOneCarrier(t, hanger, caller{scenario: "uac_hungup.xml", service: "13125550100", calls: calls, rate: 10}, hiding)
	oks := 0
	for _, m := range msgs {
		checkOnlyExit(t, "hanger", m, p.addr, addr(hanger.port))
		if strings.HasPrefix(m.firstLine(), "SIP/2.0 200") && strings.Contains(strings.Join(m.header("CSeq"), ""), "BYE") {
			oks++
		}
	}
	if oks != calls {
		t.Errorf("the carrier got %d answers to its BYEs, want %d", oks, calls)
	}
}

// callOneCarrier puts the proxy in front of one carrier, places the calls
// (all must succeed) and returns the proxy and what the carrier received.
func callOneCarrier(t *testing.T, box *carrierBox, c caller, hiding ...bool) (*proxyProc, []sipMessage) {
	t.Helper()
	startCarriers(t, []*carrierBox{box})
	port := freePort(t)
	policy := carrierPolicy(port, []*carrierBox{box})
	if len(hiding) > 0 && hiding[0] {
		policy = strings.Replace(policy, "proxy {\n", "proxy {\n  topology_hiding = true\n", 1)
	}
	p := startProxy(t, writePolicy(t, policy), addr(port))
	r := runCaller(t, p.addr, c)
	checkCaller(t, r, c.calls)
	box.sipp.stop(t)
	return p, box.sipp.received(t)
}
