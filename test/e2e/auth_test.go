package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestAuthSippCallsThroughChallenge: a sipp caller with the right password
// places 200 calls through a 407 challenge; none fails, and the box (a sipp
// that fails the call when it sees credentials) never sees an
// Authorization or Proxy-Authorization header.
func TestAuthSippCallsThroughChallenge(t *testing.T) {
	needSipp(t)
	const calls = 200
	boxPort, proxyPort, adminPort := freePort(t), freePort(t), freePort(t)
	box := startBox(t, "box1", "uas_noauth.xml", boxPort)
	p := startProxy(t, authPolicy(t, proxyPort, adminPort, boxPort, "", sippAlgorithms), addr(proxyPort))

	r := runCaller(t, p.addr, caller{scenario: "uac_auth.xml", service: "100", calls: calls, rate: 50, holdMS: 50,
		extra: []string{"-au", "alice", "-ap", subscribers["alice"], "-auth_uri", "100@" + addr(proxyPort)}})
	checkCaller(t, r, calls)
	counts := stopBoxes(t, []*sippProc{box})
	if n := invites(counts[0]); n != calls {
		t.Errorf("the box got %d INVITEs, want %d (only authenticated ones, each once)", n, calls)
	}
	if failed := column(counts[0], "FailedCall"); failed != 0 {
		t.Errorf("the box failed %d calls: it saw credentials", failed)
	}
	m := scrape(t, "http://"+addr(adminPort))
	if got := counterValue(m, "sipfront_auth_successes_total"); got != calls {
		t.Errorf("sipfront_auth_successes_total = %v, want %d", got, calls)
	}
	if got := counterValue(m, "sipfront_auth_challenges_total"); got < calls {
		t.Errorf("sipfront_auth_challenges_total = %v, want at least %d", got, calls)
	}
}

// sippAlgorithms: sipp 3.6 answers MD5 only and reads the first challenge,
// so its tests offer MD5 alone; the raw client tests SHA-256. (sipp also
// puts remote_ip:port in the digest uri unless -auth_uri names the
// R-URI, which the proxy checks.)
const sippAlgorithms = "  algorithms  = [\"MD5\"]\n"

// counterValue sums a metric family's values ("" labels: all series).
func counterValue(m map[string]*dto.MetricFamily, name string) float64 {
	f := m[name]
	if f == nil {
		return -1
	}
	sum := 0.0
	for _, s := range f.Metric {
		sum += value(s)
	}
	return sum
}

// TestAuthAnswers sends hand-made answers from their own source addresses
// (127.0.0.x, so that one case's failures never throttle another) through
// the real binary: every kind of answer gets its own response, an unknown
// user and a wrong password are indistinguishable, a trusted source is
// never challenged, the throttle blocks after max_failures and releases
// after block, and ctl shows and clears its table.
func TestAuthAnswers(t *testing.T) {
	proxyPort, adminPort := freePort(t), freePort(t)
	box := startResponder(t)
	attrs := "  nonce_ttl      = \"1s\"\n  max_failures   = 3\n  failure_window = \"30s\"\n  block          = \"2s\"\n"
	p := startProxy(t, authPolicy(t, proxyPort, adminPort, box.port, "127.0.0.3/32", attrs), addr(proxyPort))
	const ruri = "sip:100@" + authRealm
	wait := 5 * time.Second
	// login answers a fresh challenge for user with password from ip.
	challenge := func(c *sipClient, method, from string) (int, string) {
		return c.send(sipRequest{method: method, ruri: ruri, from: from}, wait)
	}
	answer := func(c *sipClient, method, from string, d digest) (int, string) {
		d.method, d.uri = method, cmpOr(d.uri, ruri)
		return c.send(sipRequest{method: method, ruri: ruri, from: from, credentials: d.header()}, wait)
	}
	nonceFor := func(t *testing.T, c *sipClient, method, from, alg string) string {
		code, res := challenge(c, method, from)
		header := "Proxy-Authenticate"
		if method == "REGISTER" {
			header = "WWW-Authenticate"
		}
		if want := map[bool]int{true: 401, false: 407}[method == "REGISTER"]; code != want {
			t.Fatalf("%s without credentials: %d, want %d\n%s", method, code, want, res)
		}
		return challengeOf(t, res, header, alg)
	}

	t.Run("sha-256 answer relayed without credentials", func(t *testing.T) {
		c := newSIPClient(t, "127.0.0.11", p.addr)
		n := nonceFor(t, c, "MESSAGE", "alice", "SHA-256")
		if code, res := answer(c, "MESSAGE", "alice", digest{user: "alice", password: subscribers["alice"], alg: "SHA-256", nonce: n, nc: 1}); code != 200 {
			t.Fatalf("right SHA-256 answer: %d\n%s", code, res)
		}
	})
	t.Run("register is challenged 401 and answered", func(t *testing.T) {
		c := newSIPClient(t, "127.0.0.12", p.addr)
		n := nonceFor(t, c, "REGISTER", "bob", "MD5")
		if code, res := answer(c, "REGISTER", "bob", digest{user: "bob", password: subscribers["bob"], alg: "MD5", nonce: n, nc: 1}); code != 200 {
			t.Fatalf("right MD5 answer to REGISTER: %d\n%s", code, res)
		}
	})
	t.Run("unknown user and wrong password look the same", func(t *testing.T) {
		var got []string
		for i, who := range []string{"carol", "mallory"} {
			c := newSIPClient(t, fmt.Sprintf("127.0.0.%d", 13+i), p.addr)
			n := nonceFor(t, c, "MESSAGE", who, "MD5")
			code, res := answer(c, "MESSAGE", who, digest{user: who, password: "wrong", alg: "MD5", nonce: n, nc: 1})
			if code != 407 {
				t.Fatalf("%s with a wrong password: %d, want 407\n%s", who, code, res)
			}
			got = append(got, shape(res))
		}
		if got[0] != got[1] {
			t.Errorf("wrong password and unknown user differ:\n%s\n---\n%s", got[0], got[1])
		}
	})
	t.Run("stale nonce", func(t *testing.T) {
		c := newSIPClient(t, "127.0.0.15", p.addr)
		n := nonceFor(t, c, "MESSAGE", "dave", "MD5")
		time.Sleep(1500 * time.Millisecond) // past nonce_ttl: the condition under test is time itself
		code, res := answer(c, "MESSAGE", "dave", digest{user: "dave", password: subscribers["dave"], alg: "MD5", nonce: n, nc: 1})
		if code != 407 || !strings.Contains(strings.Join(headerValues(res, "Proxy-Authenticate"), " "), "stale=true") {
			t.Fatalf("right answer on an expired nonce: %d, want 407 with stale=true\n%s", code, res)
		}
		fresh := challengeOf(t, res, "Proxy-Authenticate", "MD5")
		if code, res := answer(c, "MESSAGE", "dave", digest{user: "dave", password: subscribers["dave"], alg: "MD5", nonce: fresh, nc: 1}); code != 200 {
			t.Fatalf("answer on the stale challenge's nonce: %d\n%s", code, res)
		}
	})
	t.Run("replayed nc", func(t *testing.T) {
		c := newSIPClient(t, "127.0.0.16", p.addr)
		n := nonceFor(t, c, "MESSAGE", "erin", "MD5")
		d := digest{user: "erin", password: subscribers["erin"], alg: "MD5", nonce: n, nc: 1}
		if code, res := answer(c, "MESSAGE", "erin", d); code != 200 {
			t.Fatalf("first use: %d\n%s", code, res)
		}
		if code, res := answer(c, "MESSAGE", "erin", d); code != 407 || strings.Contains(res, "stale=true") {
			t.Fatalf("replayed nc: %d, want 407 without stale\n%s", code, res)
		}
		d.nc = 2
		if code, res := answer(c, "MESSAGE", "erin", d); code != 200 {
			t.Fatalf("next nc on the same nonce: %d\n%s", code, res)
		}
	})
	t.Run("uri of another request", func(t *testing.T) {
		c := newSIPClient(t, "127.0.0.17", p.addr)
		n := nonceFor(t, c, "MESSAGE", "frank", "MD5")
		d := digest{user: "frank", password: subscribers["frank"], alg: "MD5", nonce: n, nc: 1, uri: "sip:999@" + authRealm}
		if code, res := answer(c, "MESSAGE", "frank", d); code != 407 {
			t.Fatalf("answer for another uri: %d, want 407\n%s", code, res)
		}
	})
	t.Run("from spoofing", func(t *testing.T) {
		c := newSIPClient(t, "127.0.0.18", p.addr)
		n := nonceFor(t, c, "MESSAGE", "bob", "MD5")
		d := digest{user: "grace", password: subscribers["grace"], alg: "MD5", nonce: n, nc: 1}
		if code, res := answer(c, "MESSAGE", "bob", d); code != 403 {
			t.Fatalf("grace's credentials with From bob: %d, want 403\n%s", code, res)
		}
	})
	t.Run("trusted source is never challenged", func(t *testing.T) {
		c := newSIPClient(t, "127.0.0.3", p.addr)
		for i := 0; i < 5; i++ {
			if code, res := challenge(c, "MESSAGE", "pbx"); code != 200 {
				t.Fatalf("trusted source without credentials: %d, want 200 (relayed)\n%s", code, res)
			}
		}
	})
	t.Run("throttle blocks and releases", func(t *testing.T) {
		c := newSIPClient(t, "127.0.0.19", p.addr)
		for i := 1; i <= 3; i++ {
			who := fmt.Sprintf("nobody%d", i)
			n := nonceFor(t, c, "MESSAGE", who, "MD5")
			if code, _ := answer(c, "MESSAGE", who, digest{user: who, password: "guess", alg: "MD5", nonce: n, nc: 1}); code != 407 {
				t.Fatalf("failure %d: %d, want 407", i, code)
			}
		}
		// Blocked: even a right answer is refused, without a challenge.
		if code, res := challenge(c, "MESSAGE", "alice"); code != 403 {
			t.Fatalf("blocked source: %d, want 403\n%s", code, res)
		}
		out, _, _ := runSipfront(t, nil, "ctl", "--admin", "http://"+addr(adminPort), "throttle")
		if f := strings.Fields(lineWith(out, "127.0.0.19")); len(f) < 5 || f[1] != "source" || f[len(f)-1] == "-" {
			t.Fatalf("ctl throttle does not show the blocked source:\n%s", out)
		}
		// It clears by itself after block (2s).
		deadline := time.Now().Add(15 * time.Second)
		for {
			code, res := challenge(c, "MESSAGE", "alice")
			if code == 407 {
				n := challengeOf(t, res, "Proxy-Authenticate", "MD5")
				if code, res := answer(c, "MESSAGE", "alice", digest{user: "alice", password: subscribers["alice"], alg: "MD5", nonce: n, nc: 1}); code != 200 {
					t.Fatalf("after the block: %d\n%s", code, res)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still %d 15s after a 2s block", code)
			}
			time.Sleep(200 * time.Millisecond)
		}
		// ctl unblock lifts a block at once.
		for i := 1; i <= 3; i++ {
			who := fmt.Sprintf("other%d", i)
			n := nonceFor(t, c, "MESSAGE", who, "MD5")
			answer(c, "MESSAGE", who, digest{user: who, password: "guess", alg: "MD5", nonce: n, nc: 1})
		}
		if code, _ := challenge(c, "MESSAGE", "alice"); code != 403 {
			t.Fatalf("blocked again: %d, want 403", code)
		}
		if out, errOut, code := runSipfront(t, nil, "ctl", "--admin", "http://"+addr(adminPort), "unblock", "127.0.0.19"); code != 0 {
			t.Fatalf("ctl unblock: exit %d\n%s%s", code, out, errOut)
		}
		if code, _ := challenge(c, "MESSAGE", "alice"); code != 407 {
			t.Fatalf("after ctl unblock: %d, want 407", code)
		}
	})
	if n := box.leaked.Load(); n != 0 {
		t.Errorf("the box saw credentials in %d of %d requests", n, box.requests.Load())
	}
	m := scrape(t, "http://"+addr(adminPort))
	for _, name := range []string{"sipfront_auth_failures_total", "sipfront_auth_stale_total", "sipfront_auth_forbidden_total",
		"sipfront_auth_throttled_total", "sipfront_auth_blocks_total"} {
		if counterValue(m, name) <= 0 {
			t.Errorf("%s = %v, want > 0", name, counterValue(m, name))
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// shape is a response with what differs between any two responses (tags,
// branch, Call-ID, nonce, CSeq) blanked: what an observer could compare.
func shape(res string) string {
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`tag=[^;\r\n>]+`), regexp.MustCompile(`branch=[^;\r\n]+`), regexp.MustCompile(`nonce="[^"]+"`),
		regexp.MustCompile(`(?m)^Call-ID:.*$`), regexp.MustCompile(`(?m)^CSeq:.*$`), regexp.MustCompile(`(?m)^From:.*$`),
		regexp.MustCompile(`(?m)^To:.*$`), regexp.MustCompile(`(?m)^Via:.*$`),
	} {
		res = re.ReplaceAllString(res, "~")
	}
	return res
}

// TestAuthTrustedDIDAlias: a DID call from a trusted carrier skips the
// challenge, the alias table maps the DID to alice, the route for alice
// takes it, and alice's box receives it with alice in the Request-URI.
func TestAuthTrustedDIDAlias(t *testing.T) {
	proxyPort, adminPort := freePort(t), freePort(t)
	aliceBox, otherBox := startResponder(t), startResponder(t)
	dir := t.TempDir()
	writeFile(t, dir, "subscribers.csv", subscribersCSV())
	writeFile(t, dir, "dids.csv", "did,user\n+15559870001,alice\n+15559870002,bob\n")
	policy := writeFile(t, dir, "policy.hcl", fmt.Sprintf(`proxy {
  listen    = ["udp:%[1]s"]
  advertise = %[1]q
  admin     = %[2]q
}

trusted "carriers" { sources = ["127.0.0.4/32"] }

credentials "subscribers" { file = "subscribers.csv" }

auth "endpoints" {
  when        = "!in_dialog"
  trust       = [trusted.carriers]
  credentials = credentials.subscribers
  realm       = %[3]q
}

aliases "dids" {
  file = "dids.csv"
  when = "ruri.user.matches('^[+][0-9]+$')"
}

pool "alice" {
  member "a1" { uri = "sip:%[4]s" }
}

pool "others" {
  member "o1" { uri = "sip:%[5]s" }
}

route "alice" {
  when = "ruri.user == 'alice'"
  to   = pool.alice
}

route "default" { to = pool.others }
`, addr(proxyPort), addr(adminPort), authRealm, addr(aliceBox.port), addr(otherBox.port)))
	p := startProxy(t, policy, addr(proxyPort))
	carrier := newSIPClient(t, "127.0.0.4", p.addr)
	if code, res := carrier.send(sipRequest{method: "MESSAGE", ruri: "sip:+15559870001@" + authRealm, from: "+15551112222"}, 5*time.Second); code != 200 {
		t.Fatalf("DID call from the trusted carrier: %d, want 200 (relayed)\n%s", code, res)
	}
	if aliceBox.requests.Load() != 1 || otherBox.requests.Load() != 0 {
		t.Fatalf("alice's box got %d requests, the other box %d; want 1 and 0", aliceBox.requests.Load(), otherBox.requests.Load())
	}
	if line := *aliceBox.lastLine.Load(); !strings.HasPrefix(line, "MESSAGE sip:alice@") {
		t.Errorf("alice's box got %q, want the R-URI user mapped to alice", line)
	}
	// The same DID from an untrusted source is challenged first.
	other := newSIPClient(t, "127.0.0.5", p.addr)
	if code, _ := other.send(sipRequest{method: "MESSAGE", ruri: "sip:+15559870001@" + authRealm, from: "alice"}, 5*time.Second); code != 407 {
		t.Fatalf("DID call from an untrusted source: %d, want 407", code)
	}
}

// TestAuthBlockDrop: with block_drop, a blocked source gets silence.
func TestAuthBlockDrop(t *testing.T) {
	proxyPort, adminPort := freePort(t), freePort(t)
	box := startResponder(t)
	attrs := "  max_failures = 2\n  block        = \"1m\"\n  block_drop   = true\n"
	p := startProxy(t, authPolicy(t, proxyPort, adminPort, box.port, "", attrs), addr(proxyPort))
	c := newSIPClient(t, "127.0.0.30", p.addr)
	const ruri = "sip:100@" + authRealm
	for i := 1; i <= 2; i++ {
		code, res := c.send(sipRequest{method: "MESSAGE", ruri: ruri, from: "alice"}, 5*time.Second)
		if code != 407 {
			t.Fatalf("challenge %d: %d\n%s", i, code, res)
		}
		n := challengeOf(t, res, "Proxy-Authenticate", "MD5")
		d := digest{user: "alice", password: "wrong", alg: "MD5", nonce: n, nc: 1, method: "MESSAGE", uri: ruri}
		if code, _ := c.send(sipRequest{method: "MESSAGE", ruri: ruri, from: "alice", credentials: d.header()}, 5*time.Second); code != 407 {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	if code, res := c.send(sipRequest{method: "MESSAGE", ruri: ruri, from: "alice"}, 2*time.Second); code != 0 {
		t.Fatalf("blocked source with block_drop: %d, want no answer\n%s", code, res)
	}
}

// TestAuthSippTrustedNeverChallenged: calls from a trusted source (a sipp
// caller that cannot answer a challenge) all go through, and the proxy
// challenges nothing.
func TestAuthSippTrustedNeverChallenged(t *testing.T) {
	needSipp(t)
	const calls = 50
	boxPort, proxyPort, adminPort := freePort(t), freePort(t), freePort(t)
	box := startBox(t, "box1", "uas_noauth.xml", boxPort)
	p := startProxy(t, authPolicy(t, proxyPort, adminPort, boxPort, "127.0.0.1/32", ""), addr(proxyPort))
	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "100", calls: calls, rate: 50, holdMS: 50})
	checkCaller(t, r, calls)
	if n := invites(stopBoxes(t, []*sippProc{box})[0]); n != calls {
		t.Errorf("the box got %d INVITEs, want %d", n, calls)
	}
	m := scrape(t, "http://"+addr(adminPort))
	if got := counterValue(m, "sipfront_auth_challenges_total"); got != 0 {
		t.Errorf("sipfront_auth_challenges_total = %v, want 0 for a trusted source", got)
	}
}
