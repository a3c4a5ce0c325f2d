package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// registrarPolicy is a policy with a registrar: REGISTERs go to it, calls
// to a registered user fork (fork, forkTimeout) to the user's contacts.
func registrarPolicy(proxyPort, adminPort, maxContacts int, fork, forkTimeout string) string {
	ft := ""
	if forkTimeout != "" {
		ft = fmt.Sprintf("  fork_timeout = %q\n", forkTimeout)
	}
	return fmt.Sprintf(`proxy {
  listen       = ["udp:%[1]s", "tcp:%[1]s"]
  advertise    = %[1]q
  domains      = ["sipfront.test"]
  ring_timeout = "30s"
  admin        = "127.0.0.1:%[2]d"
}

registrar {
  max_contacts = %[5]d
  min_expires  = "2s"
  max_expires  = "1h"
}

route "register" {
  when = "method == 'REGISTER'"
  to   = registrar
}

route "subscriber" {
  when = "registered(ruri.user)"
  to   = registrar
  fork = %[3]q
%[4]s}

route "nobody" { # a registrar route for a user without binding: 480
  when = "ruri.user == 'nobody'"
  to   = registrar
}
`, addr(proxyPort), adminPort, fork, ft, maxContacts)
}

// ua is a bare SIP user agent on one UDP socket of the test: it sends
// hand-written REGISTERs from a fixed local address (the binding's source).
type ua struct {
	conn  net.PacketConn
	proxy *net.UDPAddr
	local string
	sent  int
}

func newUA(t *testing.T, local, proxy string) *ua {
	t.Helper()
	conn, err := net.ListenPacket("udp", local)
	if err != nil {
		t.Fatalf("listen %s: %v", local, err)
	}
	raddr, err := net.ResolveUDPAddr("udp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	u := &ua{conn: conn, proxy: raddr, local: conn.LocalAddr().String()}
	t.Cleanup(func() { conn.Close() })
	return u
}

// register sends one REGISTER for user@domain and returns the final
// response as text. contacts are Contact header values ("*" included);
// expires is the Expires header ("" for none).
func (u *ua) register(t *testing.T, user, domain, callID string, cseq int, expires string, contacts ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", domain)
	u.sent++ // a new transaction each time, even for a replayed CSeq
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d-%d;rport\r\n", u.local, callID, cseq, u.sent)
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=reg%d\r\n", user, domain, cseq)
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", user, domain)
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d REGISTER\r\nMax-Forwards: 70\r\nUser-Agent: e2e-phone\r\n", callID, cseq)
	for _, c := range contacts {
		fmt.Fprintf(&b, "Contact: %s\r\n", c)
	}
	if expires != "" {
		fmt.Fprintf(&b, "Expires: %s\r\n", expires)
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	if _, err := u.conn.WriteTo([]byte(b.String()), u.proxy); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_ = u.conn.SetReadDeadline(deadline)
		n, _, err := u.conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("REGISTER %s/%d: no final response: %v", callID, cseq, err)
		}
		if statusOf(buf[:n]) >= 200 {
			return string(buf[:n])
		}
	}
}

// TestRegisterEdgeCases sends each REGISTER rule of RFC 3261 §10.3 to the
// real binary and checks the answer, then that bindings expire on time and
// survive a restart of the proxy.
func TestRegisterEdgeCases(t *testing.T) {
	port, adminPort := freePort(t), freePort(t)
	path := writePolicy(t, registrarPolicy(port, adminPort, 2, "parallel", ""))
	stateDir := t.TempDir()
	p := startProxy(t, path, addr(port), "--state-dir", stateDir)
	phone := newUA(t, "127.0.0.1:0", p.addr)
	c1 := "<sip:alice@127.0.0.1:7001>"
	c2 := "<sip:alice@127.0.0.1:7002>;q=0.5"
	c3 := "<sip:alice@127.0.0.1:7003>"

	steps := []struct {
		name     string
		callID   string
		cseq     int
		expires  string
		contacts []string
		domain   string
		code     int
		// want are the Contact values of the answer (a 200 lists all).
		want []string
	}{
		{"two contacts, q kept", "a", 1, "600", []string{c1, c2}, "", 200,
			[]string{"<sip:alice@127.0.0.1:7001>;expires=600", "<sip:alice@127.0.0.1:7002>;expires=600;q=0.5"}},
		{"interval too brief: 423", "a", 2, "1", []string{c1}, "", 423, nil},
		{"same Call-ID, lower CSeq: refused", "a", 1, "600", []string{c1}, "", 400, nil},
		{"foreign domain: 404, never relayed", "x", 1, "600", []string{c1}, "evil.example", 404, nil},
		{"max_contacts 2: the oldest is replaced", "b", 1, "600", []string{c3}, "", 200,
			[]string{"<sip:alice@127.0.0.1:7002>;expires=600;q=0.5", "<sip:alice@127.0.0.1:7003>;expires=600"}},
		{"star without Expires 0: 400", "a", 3, "60", []string{"*"}, "", 400, nil},
		{"star with Expires 0 removes all", "a", 4, "0", []string{"*"}, "", 200, nil},
	}
	for _, s := range steps {
		domain := s.domain
		if domain == "" {
			domain = "sipfront.test"
		}
		res := phone.register(t, "alice", domain, s.callID, s.cseq, s.expires, s.contacts...)
		if code := statusOf([]byte(res)); code != s.code {
			t.Fatalf("%s: got %d, want %d\n%s", s.name, code, s.code, res)
		}
		if s.code == 423 {
			if mx := headerValues(res, "Min-Expires"); len(mx) != 1 || mx[0] != "2" {
				t.Errorf("%s: Min-Expires %v, want [2]", s.name, mx)
			}
		}
		if s.code == 200 {
			got := strings.Join(headerValues(res, "Contact"), " | ")
			if want := strings.Join(s.want, " | "); !sameSet(got, want) {
				t.Errorf("%s: the 200 lists %q, want %q", s.name, got, want)
			}
		}
	}

	// Expiry on time: a 2 s binding is gone 3 s later, a 600 s one stays.
	phone.register(t, "bob", "sipfront.test", "e", 1, "", "<sip:bob@127.0.0.1:7010>;expires=2", "<sip:bob@127.0.0.1:7011>;expires=600")
	time.Sleep(3 * time.Second)
	res := phone.register(t, "bob", "sipfront.test", "q", 1, "")
	if got := headerValues(res, "Contact"); len(got) != 1 || !strings.HasPrefix(got[0], "<sip:bob@127.0.0.1:7011>") {
		t.Fatalf("bob after the short binding expired: %v", got)
	}

	// Metrics: registrations by result, and the bindings gauge (bob's one
	// live binding; the expired one swept).
	metrics := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", adminPort))
	for _, want := range []string{
		`sipfront_registrations_total{result="ok"} 5`, `sipfront_registrations_total{result="interval_too_brief"} 1`,
		`sipfront_registrations_total{result="out_of_order"} 1`, `sipfront_registrations_total{result="foreign_domain"} 1`,
		`sipfront_registrations_total{result="bad_request"} 1`, "sipfront_registrar_bindings 1",
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}

	// Restart: the proxy stops (SIGTERM) and starts on the same state
	// directory; bob's live binding is back, with its lifetime counting down.
	p.stop(t)
	p = startProxy(t, path, addr(port), "--state-dir", stateDir)
	res = phone.register(t, "bob", "sipfront.test", "q", 2, "")
	got := headerValues(res, "Contact")
	if len(got) != 1 || !strings.HasPrefix(got[0], "<sip:bob@127.0.0.1:7011>;expires=") || strings.HasSuffix(got[0], "=600") {
		t.Fatalf("bob after a restart: %v, want his 7011 binding with less than 600 s left", got)
	}
	// ctl sees it too, with the source of the REGISTER.
	out, err := exec.Command(binary, "ctl", "--admin", fmt.Sprintf("http://127.0.0.1:%d", adminPort), "registrations", "bob").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "sip:bob@127.0.0.1:7011") || !strings.Contains(string(out), phone.local) {
		t.Fatalf("ctl registrations bob: %v\n%s", err, out)
	}
	// explain --against decides with the live bindings: bob's call forks
	// to his contact.
	out, err = exec.Command(binary, "explain", path, "--method", "INVITE", "--ruri", "sip:bob@sipfront.test",
		"--against", fmt.Sprintf("http://127.0.0.1:%d", adminPort)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1. sip:bob@127.0.0.1:7011 q=1.0") || !strings.Contains(string(out), "route.subscriber to registrar") {
		t.Fatalf("explain --against: %v\n%s", err, out)
	}
}

// httpGet returns the body of a GET.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameSet compares two " | "-joined lists regardless of order.
func sameSet(a, b string) bool {
	as, bs := strings.Split(a, " | "), strings.Split(b, " | ")
	if len(as) != len(bs) {
		return false
	}
	seen := map[string]int{}
	for _, x := range as {
		seen[x]++
	}
	for _, x := range bs {
		if seen[x]--; seen[x] < 0 {
			return false
		}
	}
	return true
}
