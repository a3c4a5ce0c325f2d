package runtime

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// logCapture is a slog handler that keeps the records it is given.
type logCapture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	c.recs = append(c.recs, r.Clone())
	c.mu.Unlock()
	return nil
}

// lines returns the attributes of every record with message msg.
func (c *logCapture) lines(msg string) []map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]string
	for _, r := range c.recs {
		if r.Message != msg {
			continue
		}
		m := map[string]string{"level": r.Level.String()}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	return out
}

// TestFilterLogRateLimited: a filter that replies and logs writes its
// message with the request's details, at most once a second, and the next
// line carries the number of matches held back.
func TestFilterLogRateLimited(t *testing.T) {
	port := freePort(t)
	cond, errs := graph.CompileCondition("user_agent == 'friendly-scanner'")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	g := testGraph(t, port, nil, func(g *graph.Graph) {
		g.Filters = []*graph.Filter{{ID: "filter.scanners", Name: "scanners", When: cond,
			Action: graph.FilterReply, Status: 403, Reason: "Forbidden", Log: "scanner refused"}}
	})
	logs := &logCapture{}
	startProxyConfig(t, Config{Load: func() (*graph.Graph, error) { return g, nil }, Logger: slog.New(logs)})
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	proxy := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	scan := func(n int) {
		msg := rawRequest("sip:100@127.0.0.1", n, nil)
		msg = msg[:len(msg)-2] + "User-Agent: friendly-scanner\r\n\r\n"
		if got := exchange(t, conn, proxy, msg); got != "SIP/2.0 403 Forbidden" {
			t.Fatalf("scan %d: %q, want 403", n, got)
		}
	}
	const burst = 30
	for i := range burst {
		scan(i)
	}
	lines := logs.lines("scanner refused")
	if len(lines) != 1 {
		t.Fatalf("%d log lines for a burst of %d matches, want 1", len(lines), burst)
	}
	l := lines[0]
	for k, want := range map[string]string{"level": "WARN", "filter": "filter.scanners", "method": "OPTIONS",
		"call_id": "raw-0", "graph": g.Hash, "suppressed": "0", "action": "reply"} {
		if l[k] != want {
			t.Errorf("log line %s=%q, want %q (line %v)", k, l[k], want, l)
		}
	}
	if l["source"] != conn.LocalAddr().String() {
		t.Errorf("log line source=%q, want %s", l["source"], conn.LocalAddr())
	}
	time.Sleep(filterLogEvery + 50*time.Millisecond)
	scan(burst)
	lines = logs.lines("scanner refused")
	if len(lines) != 2 {
		t.Fatalf("%d log lines after the pause, want 2", len(lines))
	}
	if got := lines[1]["suppressed"]; got != strconv.Itoa(burst-1) {
		t.Errorf("second line suppressed=%s, want %d", got, burst-1)
	}
}

// TestFilterLogSuppressedPathIsFree: a suppressed match takes no lock and
// allocates nothing.
func TestFilterLogSuppressedPathIsFree(t *testing.T) {
	var l logLimiter
	now := time.Now().UnixNano()
	if _, ok := l.allow(now); !ok {
		t.Fatal("first line refused")
	}
	if n := testing.AllocsPerRun(1000, func() { l.allow(now) }); n != 0 {
		t.Errorf("suppressed match: %v allocations", n)
	}
	if n, ok := l.allow(now + int64(filterLogEvery)); !ok || n != 1001 {
		t.Errorf("after the interval: allow=%v suppressed=%d, want true 1001", ok, n)
	}
}
