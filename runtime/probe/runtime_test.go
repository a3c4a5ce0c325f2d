package probe

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime"
	"github.com/sipfront/sipfront/runtime/state"
)

// The runtime's server and store are what serve wires in.
var (
	_ Source = (*runtime.Server)(nil)
	_ Health = (*state.Store)(nil)
)

// sourceRecorder is a peer that remembers where its OPTIONS came from.
type sourceRecorder struct {
	mu      sync.Mutex
	sources map[string]int
}

func (r *sourceRecorder) seen() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.sources))
	for k, v := range r.sources {
		out[k] = v
	}
	return out
}

func recordingPeer(t *testing.T) (*sourceRecorder, string, func()) {
	t.Helper()
	rec := &sourceRecorder{sources: map[string]int{}}
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		rec.mu.Lock()
		rec.sources[req.Source()]++
		rec.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeUDP(conn) }()
	stop := func() { _ = conn.Close(); _ = ua.Close() }
	t.Cleanup(stop)
	return rec, conn.LocalAddr().String(), stop
}

// Probing through the real runtime: OPTIONS leave from the proxy's
// listening address, and a member that stops answering is marked down in
// the runtime's store within interval × down_after (+ one interval).
func TestProbeThroughRuntime(t *testing.T) {
	rec, addr, stop := recordingPeer(t)
	host, ps, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(ps)
	proxyAddr := freeUDPAddr(t)
	pr := testProbe()
	pool := &graph.Pool{ID: "pool.asterisk", Name: "asterisk", Balance: graph.BalanceRoundRobin, Probe: pr,
		Failover: graph.Failover{On: []int{503}, MaxTries: 2, Timeout: time.Second},
		Members: []*graph.Member{{ID: "pool.asterisk.member.ast1", Name: "ast1", Host: host, Port: port,
			Transport: "udp", Weight: 1, URI: "sip:" + addr}}}
	g := &graph.Graph{Hash: "e2e", Proxy: graph.Proxy{Listen: []graph.Listen{{Transport: "udp", Addr: proxyAddr}}, Advertise: proxyAddr},
		Pools: []*graph.Pool{pool}, Routes: []*graph.Route{{ID: "route.all", Name: "all", Target: graph.TargetPool, Pool: pool}}}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	srv, err := runtime.New(runtime.Config{Load: func() (*graph.Graph, error) { return g, nil }, Grace: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("runtime: %v", err)
	}

	p := runProber(t, srv, srv.State())
	id := pool.Members[0].ID
	waitProbed(t, p, id, 2)
	if got := rec.seen(); got[proxyAddr] < 2 || len(got) != 1 {
		t.Errorf("OPTIONS came from %v, want only the proxy's listener %s", got, proxyAddr)
	}

	stopped := time.Now()
	stop()
	limit := pr.Interval*time.Duration(pr.DownAfter+1) + slack
	for !time.Now().After(stopped.Add(2 * time.Second)) {
		if !srv.State().Up(id) {
			if took := time.Since(stopped); took > limit {
				t.Errorf("down after %s, want within %s", took, limit)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("member still up 2s after it stopped answering")
}

// TestMain creates one runtime.Server before any test starts a SIP stack:
// runtime.New sets sipgo's process-wide default logger once, and doing that
// while another test's UDP goroutines read it is a data race (in the test
// process only; serve creates one server before any SIP traffic).
func TestMain(m *testing.M) {
	g := &graph.Graph{Hash: "init", Proxy: graph.Proxy{
		Listen: []graph.Listen{{Transport: "udp", Addr: "127.0.0.1:5060"}}, Advertise: "127.0.0.1:5060"}}
	if err := g.Seal(); err != nil {
		panic(err)
	}
	if _, err := runtime.New(runtime.Config{Load: func() (*graph.Graph, error) { return g, nil }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
