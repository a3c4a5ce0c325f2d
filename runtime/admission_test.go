package runtime

import (
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

// countingObserver counts requests by decidedBy and final responses by
// code.
type countingObserver struct {
	nopObserver
	mu        sync.Mutex
	decided   map[graph.ID]int
	responses map[int]int
}

func newCountingObserver() *countingObserver {
	return &countingObserver{decided: map[graph.ID]int{}, responses: map[int]int{}}
}

func (o *countingObserver) Request(method string, by graph.ID) {
	o.mu.Lock()
	o.decided[graph.ID(method+" "+string(by))]++
	o.mu.Unlock()
}

func (o *countingObserver) Response(code int) {
	o.mu.Lock()
	o.responses[code]++
	o.mu.Unlock()
}

func (o *countingObserver) count(method string, by graph.ID) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.decided[graph.ID(method+" "+string(by))]
}

// rawInvite builds an initial INVITE to bob through the proxy, answered to
// the sender's address.
func rawInvite(from net.Addr, proxyPort, n int) string {
	return fmt.Sprintf("INVITE sip:bob@127.0.0.1:%d SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=z9hG4bK-ovl%d;rport\r\n"+
		"From: <sip:alice@127.0.0.1>;tag=ovl%d\r\n"+
		"To: <sip:bob@127.0.0.1>\r\n"+
		"Call-ID: ovl-%d\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Max-Forwards: 70\r\n"+
		"Content-Length: 0\r\n\r\n", proxyPort, from, n, n, n)
}

// final is the first final answer to one raw INVITE.
type final struct {
	code       int
	retryAfter string
	after      time.Duration
}

// readFinals reads answers on conn until every Call-ID of want has a final
// one or the deadline passes.
func readFinals(t *testing.T, conn net.PacketConn, sent time.Time, want int, deadline time.Duration) map[string]final {
	t.Helper()
	got := map[string]final{}
	buf := make([]byte, 65535)
	conn.SetReadDeadline(sent.Add(deadline))
	for len(got) < want {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("%d of %d INVITEs answered before the deadline: %v", len(got), want, err)
		}
		msg := string(buf[:n])
		code, _ := strconv.Atoi(strings.Fields(msg)[1])
		if code < 200 {
			continue
		}
		cid := headerValue(msg, "Call-ID")
		if _, seen := got[cid]; !seen {
			got[cid] = final{code: code, retryAfter: headerValue(msg, "Retry-After"), after: time.Since(sent)}
		}
	}
	return got
}

func headerValue(msg, name string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestOverloadShedsEarly: with an admission limit of 4 and three members
// that answer nothing (standing in for answers the proxy is too slow to
// take), a burst of 20 INVITEs gets 16 immediate 503s with Retry-After;
// the 4 admitted time out on every member, yet no member is marked down
// or degraded, since the proxy was overloaded when they timed out. When
// the members answer again, calls go through, and once the overload is
// over timeouts count against a member again.
func TestOverloadShedsEarly(t *testing.T) {
	const limit, burst = 4, 20
	boxes := []*box{startBox(t, "ast1", boxSilent), startBox(t, "ast2", boxSilent), startBox(t, "ast3", boxSilent)}
	var members []*graph.Member
	for _, b := range boxes {
		members = append(members, b.member(b.name, "udp"))
	}
	port := freePort(t)
	g := testGraph(t, port, members, func(g *graph.Graph) { g.Pools[0].Failover.Timeout = 300 * time.Millisecond })
	obs := newCountingObserver()
	s := startProxyConfig(t, Config{Load: func() (*graph.Graph, error) { return g, nil }, Observer: obs, MaxInflight: limit})

	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	proxy := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	sent := time.Now()
	for i := range burst {
		if _, err := conn.WriteTo([]byte(rawInvite(conn.LocalAddr(), port, i)), proxy); err != nil {
			t.Fatal(err)
		}
		// The first INVITEs must be admitted before the rest arrive.
		if i < limit {
			time.Sleep(20 * time.Millisecond)
		}
	}
	got := readFinals(t, conn, sent, burst, 10*time.Second)
	var shed, timedOut int
	var slowestShed, fastestTimeout time.Duration
	for cid, f := range got {
		switch f.code {
		case 503:
			shed++
			slowestShed = max(slowestShed, f.after)
			if f.retryAfter != "1" {
				t.Errorf("%s: 503 with Retry-After %q, want 1", cid, f.retryAfter)
			}
		case 408:
			timedOut++
			if fastestTimeout == 0 || f.after < fastestTimeout {
				fastestTimeout = f.after
			}
		default:
			t.Errorf("%s: %d, want 503 (shed) or 408 (admitted, no member answered)", cid, f.code)
		}
	}
	t.Logf("burst of %d, limit %d: %d shed (503, slowest after %v), %d admitted and timed out (408, first after %v)",
		burst, limit, shed, slowestShed.Round(time.Millisecond), timedOut, fastestTimeout.Round(time.Millisecond))
	if shed != burst-limit || timedOut != limit {
		t.Errorf("%d shed and %d timed out, want %d and %d", shed, timedOut, burst-limit, limit)
	}
	// The admitted INVITEs took 3 tries × 300 ms; a shed one must not wait
	// for any of that.
	if slowestShed > 250*time.Millisecond {
		t.Errorf("slowest 503 came %v after the burst: shedding must answer at once", slowestShed)
	}
	if n := s.Shed(); n != burst-limit {
		t.Errorf("Shed() = %d, want %d", n, burst-limit)
	}
	if n := obs.count("INVITE", DecidedOverload); n != burst-limit {
		t.Errorf("observer: %d INVITEs decided by %q, want %d", n, DecidedOverload, burst-limit)
	}
	eventually(t, "no INVITE in flight", func() bool { return s.InflightInvites() == 0 })
	for _, m := range members {
		if !s.State().Up(m.ID) || s.State().Degraded(m.ID) {
			t.Errorf("%s: up=%v degraded=%v after timeouts under overload, want up and not degraded",
				m.ID, s.State().Up(m.ID), s.State().Degraded(m.ID))
		}
	}

	// Recovery: the members answer again.
	for _, b := range boxes {
		b.mode.Store(int32(boxAnswer))
	}
	c := startCaller(t)
	for i := range 6 {
		if err := c.call(t, port, "udp"); err != nil {
			t.Fatalf("call %d after the overload: %v", i, err)
		}
	}

	// Out of overload, a member that times out counts failures again and
	// goes down once another member is in service.
	time.Sleep(overloadWindow)
	boxes[0].mode.Store(int32(boxSilent))
	calls := 0
	for ; calls < 15 && s.State().Up(members[0].ID); calls++ {
		if err := c.call(t, port, "udp"); err != nil {
			t.Fatalf("call %d with ast1 silent: %v", calls, err)
		}
	}
	if s.State().Up(members[0].ID) {
		t.Errorf("ast1 still up after timing out on %d calls outside overload", calls)
	}
	if n := s.InflightInvites(); n != 0 {
		t.Errorf("InflightInvites() = %d after every call ended, want 0", n)
	}
}

// TestAdmissionLimitFromGraph: the limit comes from the graph's
// proxy.max_inflight (DefaultMaxInflight when a hand-built graph has
// none), a reload that changes it applies to the next INVITE, and
// Config.MaxInflight (serve's --max-inflight) overrides the graph.
func TestAdmissionLimitFromGraph(t *testing.T) {
	boxes := []*box{startBox(t, "ast1", boxSilent), startBox(t, "ast2", boxSilent)}
	var members []*graph.Member
	for _, b := range boxes {
		members = append(members, b.member(b.name, "udp"))
	}
	port := freePort(t)
	withLimit := func(n int) *graph.Graph {
		return testGraph(t, port, members, func(g *graph.Graph) {
			g.Proxy.MaxInflight = n
			g.Pools[0].Failover.Timeout = 200 * time.Millisecond
		})
	}
	var cur atomic.Pointer[graph.Graph]
	cur.Store(withLimit(0))
	load := func() (*graph.Graph, error) { return cur.Load(), nil }

	// Config overrides, on New and on reload; a negative Config is no limit.
	for _, c := range []struct{ cfg, graph, want int }{{0, 0, DefaultMaxInflight}, {0, 7, 7}, {3, 7, 3}, {-1, 7, -1}} {
		cur.Store(withLimit(c.graph))
		s, err := New(Config{Load: load, Logger: quiet, MaxInflight: c.cfg})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.MaxInflight(); got != int64(c.want) {
			t.Errorf("Config.MaxInflight %d, graph %d: limit %d, want %d", c.cfg, c.graph, got, c.want)
		}
		cur.Store(withLimit(c.graph + 5))
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		want := int64(c.want)
		if c.cfg == 0 {
			want = int64(c.graph + 5)
		}
		if got := s.MaxInflight(); got != want {
			t.Errorf("Config.MaxInflight %d, graph %d reloaded to %d: limit %d, want %d", c.cfg, c.graph, c.graph+5, got, want)
		}
	}

	// Served: limit 2 sheds 3 of a burst of 5; after a reload to 10, a
	// burst of 5 is admitted whole.
	cur.Store(withLimit(2))
	obs := newCountingObserver()
	s := startProxyConfig(t, Config{Load: load, Observer: obs})
	// Each burst has its own socket: the 503s of an earlier one are
	// retransmitted (nothing ACKs them) and must not be read as answers.
	burst := func(first, n, admitFirst int) map[string]final {
		t.Helper()
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		proxy := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
		sent := time.Now()
		for i := range n {
			if _, err := conn.WriteTo([]byte(rawInvite(conn.LocalAddr(), port, first+i)), proxy); err != nil {
				t.Fatal(err)
			}
			if i < admitFirst {
				time.Sleep(20 * time.Millisecond)
			}
		}
		return readFinals(t, conn, sent, n, 5*time.Second)
	}
	count := func(got map[string]final, code int) (n int) {
		for _, f := range got {
			if f.code == code {
				n++
			}
		}
		return n
	}
	if got := burst(0, 5, 2); count(got, 503) != 3 || count(got, 408) != 2 {
		t.Errorf("limit 2, burst of 5: %d shed, %d timed out; want 3 and 2", count(got, 503), count(got, 408))
	}
	eventually(t, "no INVITE in flight", func() bool { return s.InflightInvites() == 0 })
	cur.Store(withLimit(10))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := burst(100, 5, 0); count(got, 503) != 0 || count(got, 408) != 5 {
		t.Errorf("reloaded to limit 10, burst of 5: %d shed, %d timed out; want 0 and 5", count(got, 503), count(got, 408))
	}
	if n, m := s.Shed(), obs.count("INVITE", DecidedOverload); n != 3 || m != 3 {
		t.Errorf("Shed() = %d, observer saw %d decided by %q; want 3", n, m, DecidedOverload)
	}
}
