package runtime

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// rawRequest builds an OPTIONS by hand; edit drops or replaces headers.
func rawRequest(ruri string, n int, edit func(h map[string]string)) string {
	h := map[string]string{
		"Via":            fmt.Sprintf("SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-raw%d;rport", n),
		"From":           "<sip:alice@127.0.0.1>;tag=a" + strconv.Itoa(n),
		"To":             "<sip:bob@127.0.0.1>",
		"Call-ID":        "raw-" + strconv.Itoa(n),
		"CSeq":           "1 OPTIONS",
		"Max-Forwards":   "70",
		"Content-Length": "0",
	}
	if edit != nil {
		edit(h)
	}
	if r, ok := h["ruri"]; ok {
		ruri = r
	}
	version := "SIP/2.0"
	if v, ok := h["version"]; ok {
		version = v
	}
	var b strings.Builder
	b.WriteString("OPTIONS " + ruri + " " + version + "\r\n")
	for _, k := range []string{"Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length"} {
		if v, ok := h[k]; ok {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// exchange sends one datagram and returns the first response line with a
// final status.
func exchange(t *testing.T, conn net.PacketConn, to net.Addr, msg string) string {
	t.Helper()
	if _, err := conn.WriteTo([]byte(msg), to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no answer to %q: %v", strings.SplitN(msg, "\r\n", 2)[0], err)
		}
		line := strings.SplitN(string(buf[:n]), "\r\n", 2)[0]
		if !strings.HasPrefix(line, "SIP/2.0 1") {
			return line
		}
	}
}

func TestValidation(t *testing.T) {
	port := freePort(t)
	// The only member is the proxy itself: whatever passes validation
	// comes back and must be caught as a loop.
	self := &graph.Member{ID: "pool.asterisk.member.self", Name: "self", Host: "127.0.0.1", Port: port, Transport: "udp", Weight: 1}
	s := startProxy(t, testGraph(t, port, []*graph.Member{self}, nil), nil)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	proxy := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	bob := "sip:bob@127.0.0.1:" + strconv.Itoa(port)
	cases := []struct {
		name string
		edit func(map[string]string)
		want string
	}{
		{"missing To", func(h map[string]string) { delete(h, "To") }, "400 Missing To header"},
		{"missing From", func(h map[string]string) { delete(h, "From") }, "400 Missing From header"},
		{"missing Call-ID", func(h map[string]string) { delete(h, "Call-ID") }, "400 Missing Call-ID header"},
		// RFC 3261 §16.3 step 3: no Max-Forwards passes validation; the
		// request reaches the proxy again and is caught as the loop.
		{"missing Max-Forwards", func(h map[string]string) { delete(h, "Max-Forwards") }, "482 Loop Detected"},
		{"two Call-IDs", func(h map[string]string) { h["Call-ID"] += "\r\nCall-ID: another" }, "400 Multiple Call-ID headers"},
		{"two Max-Forwards", func(h map[string]string) { h["Max-Forwards"] += "\r\nMax-Forwards: 5" }, "400 Multiple Max-Forwards headers"},
		{"Proxy-Require", func(h map[string]string) { h["CSeq"] += "\r\nProxy-Require: foo, bar" }, "420 Bad Extension"},
		{"unknown scheme", func(h map[string]string) { h["ruri"] = "nobodyKnowsThisScheme:opaque" }, "416 Unsupported URI Scheme"},
		{"headers in the Request-URI", func(h map[string]string) { h["ruri"] = "sip:bob@127.0.0.1?Route=%3Csip:example.com%3E" }, "400 Request-URI must not carry headers"},
		{"SIP/7.0", func(h map[string]string) { h["version"] = "SIP/7.0" }, "505 Version Not Supported"},
		{"CSeq method in another case", func(h map[string]string) { h["CSeq"] = "1 options" }, "482 Loop Detected"},
		{"CSeq method", func(h map[string]string) { h["CSeq"] = "1 BYE" }, "400 CSeq method does not match the request method"},
		{"Content-Length too long", func(h map[string]string) { h["Content-Length"] = "40" }, "400 Content-Length does not match the body"},
		{"Max-Forwards 0", func(h map[string]string) { h["Max-Forwards"] = "0" }, "483 Too Many Hops"},
		{"loop", nil, "482 Loop Detected"},
	}
	for i, c := range cases {
		got := exchange(t, conn, proxy, rawRequest(bob, i, c.edit))
		if got != "SIP/2.0 "+c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	if _, err := conn.WriteTo([]byte("this is not SIP\r\n\r\n"), proxy); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the garbage datagram counted", func() bool { return s.Dropped() == 1 })
	ping := rawRequest("sip:127.0.0.1:"+strconv.Itoa(port), 99, nil)
	if got := exchange(t, conn, proxy, ping); got != "SIP/2.0 200 OK" {
		t.Errorf("OPTIONS to the proxy after the bad requests: %q, want 200", got)
	}
}

func TestReloadUnderTraffic(t *testing.T) {
	b1, b2 := startBox(t, "ast1", boxAnswer), startBox(t, "ast2", boxAnswer)
	port := freePort(t)
	var gen atomic.Int32
	var broken atomic.Bool
	load := func() (*graph.Graph, error) {
		if broken.Load() {
			return nil, errors.New("policy.hcl:3: error: broken on purpose")
		}
		n := gen.Add(1)
		return testGraph(t, port, []*graph.Member{b1.member("ast1", "udp"), b2.member("ast2", "udp")}, func(g *graph.Graph) {
			g.Hash = fmt.Sprintf("gen-%d", n)
		}), nil
	}
	s := startProxy(t, nil, load)
	c := startCaller(t)
	const calls = 40
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range calls {
			if err := c.call(t, port, "udp"); err != nil {
				errs <- fmt.Errorf("call %d: %w", i, err)
			}
		}
	}()
	for i := range 10 {
		broken.Store(i == 5)
		err := s.Reload()
		if i == 5 {
			if err == nil {
				t.Error("a broken policy was accepted")
			}
			if s.Graph().Hash != "gen-6" {
				t.Errorf("after a refused reload the graph is %s, want gen-6", s.Graph().Hash)
			}
		} else if err != nil {
			t.Errorf("reload %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s.Graph().Hash != "gen-10" {
		t.Errorf("graph after reloads = %s, want gen-10", s.Graph().Hash)
	}
	if got := b1.invites.Load() + b2.invites.Load(); got != calls {
		t.Errorf("boxes got %d INVITEs, want %d", got, calls)
	}
}

func TestSupported(t *testing.T) {
	g := &graph.Graph{
		Auth:      []*graph.Auth{{ID: "auth.endpoints", Name: "endpoints", Pos: graph.Pos{File: "policy.hcl", Line: 42}}},
		Registrar: &graph.Registrar{ID: "registrar", Pos: graph.Pos{File: "policy.hcl", Line: 50}},
		Pools: []*graph.Pool{{ID: "pool.pbx", Name: "pbx", Members: []*graph.Member{
			{ID: "pool.pbx.member.a", Name: "a", Transport: "udp"},
			{ID: "pool.pbx.member.b", Name: "b", Transport: "tls", Pos: graph.Pos{File: "policy.hcl", Line: 60}},
		}}},
	}
	err := Supported(g)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`auth "endpoints" (policy.hcl:42) is not served by this version of sipfront`,
		`member "b" of pool "pbx" (policy.hcl:60) uses tls, which this version of sipfront cannot reach`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "registrar") {
		t.Errorf("the registrar was refused: %v", err)
	}
	if strings.Contains(err.Error(), `member "a"`) {
		t.Errorf("a udp member was refused: %v", err)
	}
	if err := Supported(&graph.Graph{}); err != nil {
		t.Errorf("empty graph: %v", err)
	}
}
