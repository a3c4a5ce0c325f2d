package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestHostileMessages sends the hostile corpus of docs/security.md, each
// message its documented answer (0: silence), and checks after each that
// the proxy still answers OPTIONS. Nothing here may reach the member: it
// answers nothing (a relayed message would time out, not match).
func TestHostileMessages(t *testing.T) {
	port := freePort(t)
	self := addr(port)
	limits := "limits {\n  tcp_message_timeout = \"1s\"\n  tcp_max_per_source  = 4\n}\n\n"
	policy := policyText(port, pool{balance: "round-robin", members: []member{{name: "nobody", port: freePort(t)}}}, limits)
	p := startProxy(t, writePolicy(t, policy), self)

	long := func(n int) string { return strings.Repeat("a", n) }
	ruri := func(user string) edit { // the Request-URI only (To keeps alice)
		return func(ls []string) []string { ls[0] = "INVITE sip:" + user + "@" + self + " SIP/2.0"; return ls }
	}
	ownVia := func(ls []string) []string {
		// Our own Via under the sender's, from a source that is no peer.
		return append(ls[:2:2], append([]string{"Via: SIP/2.0/UDP " + self + ";branch=z9hG4bK-sf0123456789abcdef.0123456789abcdef"}, ls[2:]...)...)
	}
	header := func(name, value string, n int) edit {
		return func(ls []string) []string {
			extra := make([]string, n)
			for i := range extra {
				extra[i] = name + ": " + value
			}
			return append(ls[:3:3], append(extra, ls[3:]...)...)
		}
	}
	cases := []struct {
		name, network, local string
		want                 int
		msg                  []byte
	}{
		{"Request-URI of 32 KiB (over the message limit)", "udp", "", 513, invite(self, "alice", ruri(long(32<<10)))},
		{"Request-URI of 4 KiB", "udp", "", 414, invite(self, "alice", ruri(long(4<<10)))},
		{"NUL in the Request-URI", "udp", "", 400, invite(self, "al\x00ice")},
		{"NUL in a header", "udp", "", 400, invite(self, "alice", replace("Max-Forwards: 70", "Max-Forwards: 70\r\nSubject: a\x00b"))},
		{"invalid UTF-8 in a display name", "udp", "", 400, invite(self, "alice", replace("To: <sip:alice@sipfront.test>", "To: \"\xc3\x28\" <sip:alice@sipfront.test>"))},
		{"negative CSeq", "udp", "", 400, invite(self, "alice", replace("CSeq: 1 INVITE", "CSeq: -1 INVITE"))},
		{"CSeq above 2^31", "udp", "", 400, invite(self, "alice", replace("CSeq: 1 INVITE", "CSeq: 4294967296 INVITE"))},
		{"Max-Forwards 256", "udp", "", 400, invite(self, "alice", replace("Max-Forwards: 70", "Max-Forwards: 256"))},
		{"Expires not a number", "udp", "", 400, invite(self, "alice", replace("Max-Forwards: 70", "Max-Forwards: 70\r\nExpires: soon"))},
		{"Content-Length not a number", "udp", "", 400, invite(self, "alice", replace("Content-Length: 0", "Content-Length: zero"))},
		{"two From headers", "udp", "", 400, invite(self, "alice", replace("Max-Forwards: 70", "Max-Forwards: 70\r\nFrom: <sip:eve@evil.test>;tag=2"))},
		{"our own Via from outside", "udp", "127.0.2.1:0", 482, invite(self, "alice", ownVia)},
		{"header bomb", "udp", "", 400, invite(self, "alice", header("X-Bomb", "1", 200))},
		{"header line of 5000 octets", "udp", "", 400, invite(self, "alice", replace("Max-Forwards: 70", "Max-Forwards: 70\r\nSubject: "+long(5000)))},
		{"Via bomb (dropped: no answer can be routed)", "udp", "", 0, invite(self, "alice", header("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx", 100))},
		{"body of 20000 octets", "udp", "", 413, invite(self, "alice", replace("Content-Length: 0", "Content-Length: 20000"), body(long(20000)))},
		{"garbage", "udp", "", 0, []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")},
		{"no Content-Length on TCP", "tcp", "", 400, invite(self, "alice", without("Content-Length"), transport("TCP"))},
		{"NUL in the Request-URI over TCP", "tcp", "", 400, invite(self, "al\x00ice", transport("TCP"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := exchange(c.network, c.local, self, c.msg, 2*time.Second)
			if c.want == 0 {
				if err == nil {
					t.Errorf("got %d, want no answer", got)
				}
			} else if err != nil || got != c.want {
				t.Errorf("got %d (%v), want %d", got, err, c.want)
			}
			if code, err := options(p.addr, "udp", 2*time.Second); code != 200 {
				t.Fatalf("the proxy no longer answers OPTIONS: %d %v", code, err)
			}
		})
	}

	t.Run("framing error closes the TCP connection", func(t *testing.T) {
		c := dialTCP(t, self)
		msg := invite(self, "alice", without("Content-Length"), transport("TCP"))
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if reply := readUntilClosed(t, c, 5*time.Second); !strings.HasPrefix(reply, "SIP/2.0 400 ") {
			t.Errorf("answer before the close: %q", firstLine(reply))
		}
	})
	t.Run("partial TCP message is cut off after tcp_message_timeout", func(t *testing.T) {
		c := dialTCP(t, self)
		msg := invite(self, "alice", transport("TCP"))
		if _, err := c.Write(msg[:len(msg)/2]); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if reply := readUntilClosed(t, c, 10*time.Second); reply != "" {
			t.Errorf("a partial message was answered: %q", firstLine(reply))
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("closed after %s, want about 1s", d)
		}
	})
	t.Run("TCP connections per source are capped", func(t *testing.T) {
		var conns []net.Conn
		for range 4 {
			conns = append(conns, dialTCP(t, self))
		}
		// Each of the four is open: it answers OPTIONS.
		for i, c := range conns {
			if code := optionsOn(t, c, self); code != 200 {
				t.Fatalf("connection %d: %d", i, code)
			}
		}
		fifth := dialTCP(t, self)
		if reply := readUntilClosed(t, fifth, 5*time.Second); reply != "" {
			t.Errorf("the fifth connection got %q", firstLine(reply))
		}
	})
	// The proxy releases a connection's per-source slot when it sees the
	// close: under load that may take a moment after the client's close.
	var code int
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if code, err = options(p.addr, "tcp", 2*time.Second); code == 200 {
			break
		}
	}
	if code != 200 {
		t.Fatalf("after the TCP cases the proxy no longer answers OPTIONS over TCP: %d %v", code, err)
	}
}

func dialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readUntilClosed reads c until the peer closes it and returns what came;
// it fails the test if the connection stays open past wait.
func readUntilClosed(t *testing.T, c net.Conn, wait time.Duration) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %s (read %q)", wait, firstLine(string(b)))
	}
	return string(b)
}

// optionsOn sends an OPTIONS on an open connection and returns the status.
func optionsOn(t *testing.T, c net.Conn, proxy string) int {
	t.Helper()
	id := fmt.Sprintf("%d", time.Now().UnixNano())
	msg := crlf("OPTIONS sip:"+proxy+" SIP/2.0", "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-"+id,
		"Max-Forwards: 70", "From: <sip:probe@sipfront.test>;tag="+id, "To: <sip:"+proxy+">",
		"Call-ID: "+id+"@e2e", "CSeq: 1 OPTIONS", "Content-Length: 0", "")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer on the connection: %v", err)
	}
	var code int
	fmt.Sscanf(string(buf[:n]), "SIP/2.0 %d", &code)
	return code
}

func firstLine(s string) string { return strings.SplitN(s, "\r\n", 2)[0] }
