package edge

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

func request(i int, edit func(string) string) []byte {
	m := fmt.Sprintf("OPTIONS sip:edge@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-%d;rport\r\n"+
		"From: <sip:a@b>;tag=%d\r\nTo: <sip:edge@127.0.0.1>\r\nCall-ID: %d@edge\r\nCSeq: 1 OPTIONS\r\n"+
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", i, i, i)
	if edit != nil {
		m = edit(m)
	}
	return []byte(m)
}

// serveUDP wraps a real UDP socket and hands every datagram ReadFrom
// passes to the returned channel, as sipgo's read loop would.
func serveUDP(t *testing.T, gd *Guard) (*net.UDPAddr, <-chan string) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	pc := NewPacketConn(conn, gd)
	passed := make(chan string, 1024)
	go func() {
		buf := make([]byte, 65535)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			passed <- string(buf[:n])
		}
	}()
	return conn.LocalAddr().(*net.UDPAddr), passed
}

func guard(t *testing.T, sec graph.Security) *Guard {
	t.Helper()
	g := &graph.Graph{Security: sec}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	return NewGuard(g, slog.New(slog.DiscardHandler))
}

func TestPacketConn(t *testing.T) {
	gd := guard(t, graph.Security{ServerHeader: "edge-test"})
	proxy, passed := serveUDP(t, gd)
	client, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for _, tc := range []struct {
		name  string
		msg   []byte
		pass  bool
		reply string
	}{
		{"valid", request(1, nil), true, ""},
		{"extra octets cut off", append(request(2, nil), "trailing"...), true, ""},
		{"bad Max-Forwards", request(3, func(m string) string { return strings.Replace(m, "Max-Forwards: 70", "Max-Forwards: x", 1) }), false, "SIP/2.0 400 Bad Max-Forwards"},
		{"garbage", []byte("\x00\x01\x00\x00"), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := client.WriteTo(tc.msg, proxy); err != nil {
				t.Fatal(err)
			}
			if tc.pass {
				select {
				case got := <-passed:
					if !strings.HasSuffix(got, "Content-Length: 0\r\n\r\n") {
						t.Errorf("passed %q", got)
					}
				case <-time.After(2 * time.Second):
					t.Fatal("not passed")
				}
				return
			}
			_ = client.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			buf := make([]byte, 4096)
			n, _, err := client.ReadFrom(buf)
			switch {
			case tc.reply == "" && err == nil:
				t.Errorf("answered %q", buf[:n])
			case tc.reply != "" && (err != nil || !strings.HasPrefix(string(buf[:n]), tc.reply+"\r\n")):
				t.Errorf("answer %q (%v), want %s", buf[:n], err, tc.reply)
			case tc.reply != "" && !strings.Contains(string(buf[:n]), "\r\nServer: edge-test\r\n"):
				t.Errorf("answer without the Server header: %q", buf[:n])
			}
			select {
			case got := <-passed:
				t.Errorf("passed to sipgo: %q", got)
			default:
			}
		})
	}
}

func TestPacketConnFlood(t *testing.T) {
	for _, tc := range []struct {
		action graph.FloodAction
		want   string
	}{{graph.FloodDrop, ""}, {graph.FloodReply503, "SIP/2.0 503 Service Unavailable"}} {
		t.Run(fmt.Sprint(tc.action), func(t *testing.T) {
			gd := guard(t, graph.Security{Flood: &graph.Flood{Window: time.Minute, MaxRequests: 5, Block: time.Minute,
				Action: tc.action, MaxSources: 1024}})
			proxy, passed := serveUDP(t, gd)
			client, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			for i := range 5 {
				client.WriteTo(request(i, nil), proxy)
				<-passed
			}
			client.WriteTo(request(99, nil), proxy)
			_ = client.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			buf := make([]byte, 4096)
			n, _, err := client.ReadFrom(buf)
			if tc.want == "" && err == nil || tc.want != "" && !strings.HasPrefix(string(buf[:n]), tc.want) {
				t.Errorf("sixth request: %q %v, want %q", buf[:n], err, tc.want)
			}
			if !strings.Contains(string(buf[:n]), "Retry-After: 60") && tc.want != "" {
				t.Errorf("503 without Retry-After: %q", buf[:n])
			}
			if !gd.Flooding(netip.MustParseAddr("127.0.0.1")) {
				t.Error("Flooding false for the blocked source")
			}
			select {
			case got := <-passed:
				t.Errorf("a blocked request reached sipgo: %q", got)
			default:
			}
		})
	}
}

func TestListenerLimits(t *testing.T) {
	gd := guard(t, graph.Security{Limits: graph.EdgeLimits{TCPMaxPerSource: 2, TCPMessageTimeout: time.Second}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	l := NewListener(ln, gd)
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
			go func() { // what sipgo's reader does: read until an error
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := dial(), dial()
	<-accepted
	<-accepted
	third := dial()
	_ = third.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("third connection from one source: %v, want closed", err)
	}
	// A slow sender is cut off after tcp_message_timeout.
	a.Write(request(1, nil)[:20])
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := a.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("slow sender: %v, want closed", err)
	}
	_ = b
	if s := gd.Stats(); s.TCPClosed["per_source_limit"] != 1 || s.TCPClosed["incomplete_timeout"] != 1 {
		t.Errorf("stats %+v", s.TCPClosed)
	}
}

// TestAdmitAllocatesNothing: a passing datagram and one from a blocked
// source cost no allocation at the edge (an attacker cannot make the
// proxy allocate before flood control and the raw check have run).
func TestAdmitAllocatesNothing(t *testing.T) {
	gd := guard(t, graph.Security{Flood: &graph.Flood{Window: time.Minute, MaxRequests: 1 << 30, Block: time.Minute, MaxSources: 1024}})
	c := NewPacketConn(nil, gd)
	msg := request(1, nil)
	ok := netip.MustParseAddrPort("192.0.2.1:5060")
	if n := testing.AllocsPerRun(200, func() { c.admit(msg, ok) }); n != 0 {
		t.Errorf("passing datagram: %.0f allocations", n)
	}
	gd = guard(t, graph.Security{Flood: &graph.Flood{Window: time.Minute, MaxRequests: 1, Block: time.Minute, MaxSources: 1024}})
	c = NewPacketConn(nil, gd)
	c.admit(msg, ok)
	c.admit(msg, ok) // blocked from here on
	if n := testing.AllocsPerRun(200, func() { c.admit(msg, ok) }); n != 0 {
		t.Errorf("blocked source: %.0f allocations", n)
	}
}
