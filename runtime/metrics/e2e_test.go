package metrics

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func init() { sip.SetDefaultLogger(quiet) }

func freeAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// startBox runs a UDP "Asterisk" that answers every INVITE with code
// (200 makes a dialog, ended by the caller's BYE).
func startBox(t *testing.T, code int) *graph.Member {
	t.Helper()
	addr := freeAddr(t)
	host, ps, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(ps)
	ua, _ := sipgo.NewUA()
	t.Cleanup(func() { ua.Close() })
	srv, _ := sipgo.NewServer(ua)
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port))
	dsc := sipgo.NewDialogServerCache(cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: host, Port: port}})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := dsc.ReadInvite(req, tx)
		if err != nil {
			return
		}
		if code != 200 {
			defer dlg.Close()
		}
		_ = dlg.Respond(code, strconv.Itoa(code), nil)
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = dsc.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := dsc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No Dialog", nil))
		}
	})
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() { conn.Close() })
	name := "box" + strconv.Itoa(code)
	return &graph.Member{ID: graph.ID("pool.asterisk.member." + name), Name: name, Host: host, Port: port,
		Transport: "udp", Weight: 1, URI: "sip:" + addr}
}

// Calls placed through a real proxy show up in /metrics, parsed with the
// Prometheus text parser: every INVITE counted with the route that decided
// it, every try per member, the failovers off the busy box, and no call
// left active after the BYEs.
func TestMetricsMatchCallsThroughProxy(t *testing.T) {
	busy, ok := startBox(t, 503), startBox(t, 200)
	proxyAddr := freeAddr(t)
	pool := &graph.Pool{ID: "pool.asterisk", Name: "asterisk", Balance: graph.BalanceRoundRobin,
		Failover: graph.Failover{On: []int{503}, MaxTries: 2, Timeout: time.Second},
		Members:  []*graph.Member{busy, ok}}
	g := &graph.Graph{Hash: "metrics-e2e",
		Proxy:  graph.Proxy{Listen: []graph.Listen{{Transport: "udp", Addr: proxyAddr}}, Advertise: proxyAddr},
		Pools:  []*graph.Pool{pool},
		Routes: []*graph.Route{{ID: "route.all", Name: "all", Target: graph.TargetPool, Pool: pool}}}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	m := New(nil)
	srv, err := runtime.New(runtime.Config{Load: func() (*graph.Graph, error) { return g, nil },
		Logger: quiet, Observer: m, Grace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m.Attach(srv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatal(err)
	}

	const calls = 12
	placeCalls(t, proxyAddr, calls)
	sendGarbage(t, proxyAddr)

	// The caller has the BYE's 200 a moment before the proxy's handler
	// ends the dialog, and the garbage datagram is read asynchronously:
	// wait (bounded) for both to show.
	f := scrape(t, m.Handler())
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		active, _ := value(f, "sipfront_active_calls", map[string]string{"member": string(ok.ID)})
		dropped, _ := value(f, "sipfront_dropped_datagrams_total", nil)
		if active == 0 && dropped >= 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
		f = scrape(t, m.Handler())
	}
	expect(t, f, "sipfront_requests_total", map[string]string{"method": "INVITE", "decided_by": "route.all"}, calls)
	// In-dialog requests have their own label, apart from intake answers.
	for _, method := range []string{"ACK", "BYE"} {
		expect(t, f, "sipfront_requests_total", map[string]string{"method": method, "decided_by": "in_dialog"}, calls)
	}
	expect(t, f, "sipfront_relays_total", map[string]string{"member": string(ok.ID)}, calls)
	tries, _ := value(f, "sipfront_relays_total", map[string]string{"member": string(busy.ID)})
	expect(t, f, "sipfront_failovers_total", map[string]string{"member": string(busy.ID), "code": "503"}, tries)
	if tries < 1 || tries > 3 {
		t.Errorf("busy box tried %v times; want 1..3 (down after 3 failures)", tries)
	}
	expect(t, f, "sipfront_member_up", map[string]string{"member": string(busy.ID)}, 0)
	expect(t, f, "sipfront_member_state_changes_total", map[string]string{"member": string(busy.ID)}, 1)
	expect(t, f, "sipfront_active_calls", map[string]string{"member": string(ok.ID)}, 0)
	expect(t, f, "sipfront_inflight_invites", nil, 0)
	expect(t, f, "sipfront_dropped_datagrams_total", nil, 1)
	if n, _ := value(f, "sipfront_responses_total", map[string]string{"code": "200"}); n < calls {
		t.Errorf("200 responses = %v, want at least %d", n, calls)
	}
	if n, ok := value(f, "sipfront_decision_seconds", nil); !ok || n < calls {
		t.Errorf("decisions observed = %v, want at least %d", n, calls)
	}
}

// sendGarbage sends one datagram that is not SIP to the proxy.
func sendGarbage(t *testing.T, proxyAddr string) {
	t.Helper()
	c, err := net.Dial("udp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("\x00\x01 this is not SIP\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
}

// placeCalls places n sequential calls (INVITE, 200, ACK, BYE) through the
// proxy and fails the test on the first failed one.
func placeCalls(t *testing.T, proxyAddr string, n int) {
	t.Helper()
	addr := freeAddr(t)
	host, ps, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(ps)
	phost, pps, _ := net.SplitHostPort(proxyAddr)
	pport, _ := strconv.Atoi(pps)
	ua, _ := sipgo.NewUA()
	defer ua.Close()
	srv, _ := sipgo.NewServer(ua)
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port))
	dc := sipgo.NewDialogClientCache(cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: host, Port: port}})
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() { _ = srv.ServeUDP(conn) }()
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		sess, err := dc.Invite(ctx, sip.Uri{Scheme: "sip", User: "bob", Host: phost, Port: pport}, nil)
		if err == nil {
			err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
		}
		if err == nil {
			err = sess.Ack(ctx)
		}
		if err == nil {
			err = sess.Bye(ctx)
		}
		if sess != nil {
			sess.Close()
		}
		cancel()
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
}
