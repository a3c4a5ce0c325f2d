package e2e

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// authRealm is the realm and the From domain of the auth tests (the domain
// sipp's scenarios use).
const authRealm = "sipfront.test"

// subscribers are the digest users of the auth tests: user -> password.
var subscribers = map[string]string{
	"alice": "secret", "bob": "hunter2", "carol": "carol-pw", "dave": "dave-pw", "erin": "erin-pw",
	"frank": "frank-pw", "grace": "grace-pw",
}

// hexHash is hex(md5(s)) or hex(sha256(s)): the test computes digests on
// its own, not with the code under test.
func hexHash(alg, s string) string {
	if alg == "SHA-256" {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// subscribersCSV is the credentials file: user,domain,ha1,ha1_sha256.
func subscribersCSV() string {
	var b strings.Builder
	b.WriteString("user,domain,ha1,ha1_sha256\n")
	for u, pw := range subscribers {
		in := u + ":" + authRealm + ":" + pw
		fmt.Fprintf(&b, "%s,%s,%s,%s\n", u, authRealm, hexHash("MD5", in), hexHash("SHA-256", in))
	}
	return b.String()
}

// authPolicy is a one-pool policy whose auth stage challenges every
// out-of-dialog request except from trusted (a CIDR, "" for none), with
// the subscribers' file and attrs added to the auth block.
func authPolicy(t testing.TB, proxyPort, adminPort int, box int, trusted, attrs string) string {
	return authPolicyWith(t, proxyPort, adminPort, box, trusted, attrs, `credentials "subscribers" { file = "subscribers.csv" }`)
}

// authPolicyWith is authPolicy with its own credentials block (named
// subscribers).
func authPolicyWith(t testing.TB, proxyPort, adminPort int, box int, trusted, attrs, creds string) string {
	t.Helper()
	dir := t.TempDir()
	writeTB(t, dir, "subscribers.csv", subscribersCSV())
	var b strings.Builder
	fmt.Fprintf(&b, "proxy {\n  listen       = [\"udp:%[1]s\"]\n  advertise    = %[1]q\n  domains      = [%[3]q]\n  admin        = %[2]q\n  ring_timeout = \"30s\"\n}\n\n",
		addr(proxyPort), addr(adminPort), authRealm)
	trust := ""
	if trusted != "" {
		fmt.Fprintf(&b, "trusted \"pbx\" { sources = [%q] }\n\n", trusted)
		trust = "  trust       = [trusted.pbx]\n"
	}
	fmt.Fprintf(&b, "%s\n\n", creds)
	fmt.Fprintf(&b, "auth \"endpoints\" {\n  when        = \"!in_dialog\"\n%s  credentials = credentials.subscribers\n  realm       = %q\n%s}\n\n", trust, authRealm, attrs)
	fmt.Fprintf(&b, "pool \"boxes\" {\n  member \"box1\" { uri = \"sip:%s\" }\n}\n\nroute \"default\" {\n  to = pool.boxes\n}\n", addr(box))
	return writeTB(t, dir, "policy.hcl", b.String())
}

// responder is a minimal SIP endpoint behind the proxy: it answers every
// request 200 and counts the requests that still carry credentials.
type responder struct {
	conn     net.PacketConn
	port     int
	requests atomic.Int64
	leaked   atomic.Int64
	// lastLine is the request line of the last request.
	lastLine atomic.Pointer[string]
}

var credentialsLine = regexp.MustCompile(`(?im)^(proxy-)?authorization[ \t]*:`)

func startResponder(t testing.TB) *responder {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &responder{conn: conn, port: conn.LocalAddr().(*net.UDPAddr).Port}
	t.Cleanup(func() { conn.Close() })
	go r.serve()
	return r
}

func (r *responder) serve() {
	buf := make([]byte, 65535)
	for {
		n, from, err := r.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		if strings.HasPrefix(msg, "SIP/") || strings.HasPrefix(msg, "ACK ") {
			continue
		}
		r.requests.Add(1)
		line, _, _ := strings.Cut(msg, "\r\n")
		r.lastLine.Store(&line)
		if credentialsLine.MatchString(msg) {
			r.leaked.Add(1)
		}
		var lines []string
		lines = append(lines, "SIP/2.0 200 OK")
		for _, l := range strings.Split(msg, "\r\n") {
			name, _, _ := strings.Cut(l, ":")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "via", "from", "call-id", "cseq":
				lines = append(lines, l)
			case "to":
				lines = append(lines, l+";tag=resp")
			}
		}
		lines = append(lines, "Content-Length: 0", "", "")
		_, _ = r.conn.WriteTo([]byte(strings.Join(lines, "\r\n")), from)
	}
}

// sipClient sends raw requests from one local address (a 127.x.y.z of its
// own, so that the throttle of one case does not block another).
type sipClient struct {
	t     testing.TB
	conn  *net.UDPConn
	proxy *net.UDPAddr
	cseq  int
}

func newSIPClient(t testing.TB, localIP, proxyAddr string) *sipClient {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(localIP)})
	if err != nil {
		t.Fatalf("listen %s: %v", localIP, err)
	}
	t.Cleanup(func() { conn.Close() })
	raddr, err := net.ResolveUDPAddr("udp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	return &sipClient{t: t, conn: conn, proxy: raddr}
}

// sipRequest is one request of a sipClient.
type sipRequest struct {
	method, ruri, from string
	credentials        string // the credentials header's value, "" for none
}

// send sends req and returns the final response (status and whole text);
// status 0 means none came within wait.
func (c *sipClient) send(req sipRequest, wait time.Duration) (int, string) {
	c.t.Helper()
	c.cseq++
	id := fmt.Sprintf("%x", rand.Uint64())
	local := c.conn.LocalAddr().String()
	lines := []string{
		req.method + " " + req.ruri + " SIP/2.0",
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + id + ";rport",
		"Max-Forwards: 70",
		"From: <sip:" + req.from + "@" + authRealm + ">;tag=" + id,
		"To: <sip:" + req.from + "@" + authRealm + ">",
		"Call-ID: " + id + "@e2e",
		"CSeq: " + strconv.Itoa(c.cseq) + " " + req.method,
		"Contact: <sip:" + req.from + "@" + local + ">",
	}
	if req.credentials != "" {
		name := "Proxy-Authorization"
		if req.method == "REGISTER" {
			name = "Authorization"
		}
		lines = append(lines, name+": "+req.credentials)
	}
	lines = append(lines, "Content-Length: 0", "", "")
	if _, err := c.conn.WriteToUDP([]byte(strings.Join(lines, "\r\n")), c.proxy); err != nil {
		c.t.Fatal(err)
	}
	buf := make([]byte, 65535)
	deadline := time.Now().Add(wait)
	for {
		_ = c.conn.SetReadDeadline(deadline)
		n, _, err := c.conn.ReadFromUDP(buf)
		if err != nil {
			return 0, ""
		}
		msg := string(buf[:n])
		if code := statusOf(buf[:n]); code >= 200 && strings.Contains(msg, id+"@e2e") {
			return code, msg
		}
	}
}

// headerValues returns every value of the named header of a message
// (case-insensitive).
func headerValues(msg, name string) []string {
	var out []string
	for _, l := range strings.Split(msg, "\r\n") {
		n, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(n), name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// challengeOf returns the nonce of the challenge for alg in msg.
func challengeOf(t testing.TB, msg, header, alg string) string {
	t.Helper()
	for _, v := range headerValues(msg, header) {
		if strings.Contains(v, "algorithm="+alg) {
			m := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(v)
			if m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no %s challenge for %s in:\n%s", header, alg, msg)
	return ""
}

// digest computes a qop=auth answer (RFC 7616 §3.4.1).
type digest struct {
	user, password, alg, nonce, uri, method string
	nc                                      int
}

func (d digest) header() string {
	ha1 := hexHash(d.alg, d.user+":"+authRealm+":"+d.password)
	ha2 := hexHash(d.alg, d.method+":"+d.uri)
	nc := fmt.Sprintf("%08x", d.nc)
	resp := hexHash(d.alg, ha1+":"+d.nonce+":"+nc+":e2ecnonce:auth:"+ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, cnonce="e2ecnonce", qop=auth, nc=%s`,
		d.user, authRealm, d.nonce, d.uri, resp, d.alg, nc)
}

// register registers user through a 401 challenge from c and returns the
// final status of the answered REGISTER (or of the first, when it is not a
// challenge) with the response.
func (c *sipClient) register(user, password string) (int, string) {
	c.t.Helper()
	const ruri = "sip:" + authRealm
	code, res := c.send(sipRequest{method: "REGISTER", ruri: ruri, from: user}, 5*time.Second)
	if code != 401 {
		return code, res
	}
	n := challengeOf(c.t, res, "WWW-Authenticate", "MD5")
	d := digest{user: user, password: password, alg: "MD5", nonce: n, nc: 1, method: "REGISTER", uri: ruri}
	return c.send(sipRequest{method: "REGISTER", ruri: ruri, from: user, credentials: d.header()}, 5*time.Second)
}

// writeTB writes a file for a test or a benchmark and returns its path.
func writeTB(t testing.TB, dir, name, data string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
