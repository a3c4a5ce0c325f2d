package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
)

// freePort returns a port free for both UDP and TCP on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		u.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// boxMode says how a test box answers INVITEs.
type boxMode int

const (
	boxAnswer boxMode = iota // 180 then 200
	boxBusy                  // 503
	boxRing                  // 180, then rings until cancelled
	boxDead                  // a socket that never answers anything
	boxSilent                // a UA that ignores every datagram while in this mode
)

// box is an in-process "Asterisk": a sipgo UA that answers INVITEs.
type box struct {
	name    string
	port    int
	mode    atomic.Int32
	invites atomic.Int32
	acks    atomic.Int32
	byes    atomic.Int32
	cancels atomic.Int32
	cli     *sipgo.Client
	dsc     *sipgo.DialogServerCache
	mu      sync.Mutex
	last    *sipgo.DialogServerSession
	lastReq *sip.Request
}

func startBox(t testing.TB, name string, mode boxMode) *box {
	t.Helper()
	b := &box{name: name, port: freePort(t)}
	b.mode.Store(int32(mode))
	addr := "127.0.0.1:" + strconv.Itoa(b.port)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if mode == boxDead {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		go func() { // read and discard
			buf := make([]byte, 65535)
			for {
				if _, _, err := c.ReadFrom(buf); err != nil {
					return
				}
				b.invites.Add(1)
			}
		}()
		return b
	}
	// A silent box drops datagrams before its transaction layer sees
	// them: not even sipgo's automatic 100 Trying goes out.
	silence := func(_ sip.TransportReadProps, data []byte) ([]byte, error) {
		if boxMode(b.mode.Load()) == boxSilent {
			return nil, nil
		}
		return data, nil
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(name),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerReadFilter(silence)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	srv, _ := sipgo.NewServer(ua)
	b.cli, _ = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(b.port))
	b.dsc = sipgo.NewDialogServerCache(b.cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: name, Host: "127.0.0.1", Port: b.port}})
	srv.OnInvite(b.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		b.acks.Add(1)
		b.dsc.ReadAck(req, tx)
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		b.byes.Add(1)
		if err := b.dsc.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "No Dialog", nil))
		}
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	// A CANCEL retransmitted after its INVITE ended (the box was silent).
	srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	})
	serveBoth(t, ctx, srv, addr)
	return b
}

// serveBoth serves UDP and TCP on addr and waits until both are up.
func serveBoth(t testing.TB, ctx context.Context, srv *sipgo.Server, addr string) {
	t.Helper()
	for _, n := range []string{"udp", "tcp"} {
		ready := make(chan struct{})
		go srv.ListenAndServe(context.WithValue(ctx, sipgo.ListenReadyCtxKey, sipgo.ListenReadyCtxValue(ready)), n, addr)
		select {
		case <-ready:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s %s not ready", n, addr)
		}
	}
}

func (b *box) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	b.invites.Add(1)
	b.mu.Lock()
	b.lastReq = req
	b.mu.Unlock()
	dlg, err := b.dsc.ReadInvite(req, tx)
	if err != nil {
		return
	}
	cancelled := make(chan struct{})
	tx.OnCancel(func(*sip.Request) { b.cancels.Add(1); close(cancelled) })
	switch boxMode(b.mode.Load()) {
	case boxBusy:
		defer dlg.Close()
		dlg.Respond(503, "Service Unavailable", nil)
	case boxRing:
		defer dlg.Close()
		dlg.Respond(180, "Ringing", nil)
		select {
		case <-cancelled:
		case <-tx.Done():
		case <-time.After(20 * time.Second):
		}
	default:
		dlg.Respond(180, "Ringing", nil)
		b.mu.Lock()
		b.last = dlg
		b.mu.Unlock()
		dlg.Respond(200, "OK", nil)
	}
}

func (b *box) member(name string, transport string) *graph.Member {
	return &graph.Member{ID: graph.ID("pool.asterisk.member." + name), Name: name, Host: "127.0.0.1",
		Port: b.port, Transport: transport, Weight: 1, URI: fmt.Sprintf("sip:127.0.0.1:%d", b.port)}
}

// testGraph builds a policy by hand: one pool of members, one route.
func testGraph(t testing.TB, proxyPort int, members []*graph.Member, tune func(*graph.Graph)) *graph.Graph {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(proxyPort)
	pool := &graph.Pool{ID: "pool.asterisk", Name: "asterisk", Balance: graph.BalanceRoundRobin,
		Failover: graph.Failover{On: []int{500, 503}, MaxTries: 3, Timeout: 400 * time.Millisecond},
		Members:  members}
	g := &graph.Graph{
		Hash:   fmt.Sprintf("test-%d", time.Now().UnixNano()),
		Proxy:  graph.Proxy{Listen: []graph.Listen{{Transport: "udp", Addr: addr}, {Transport: "tcp", Addr: addr}}, Advertise: addr},
		Pools:  []*graph.Pool{pool},
		Routes: []*graph.Route{{ID: "route.all", Name: "all", Target: graph.TargetPool, Pool: pool}},
	}
	if tune != nil {
		tune(g)
	}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	return g
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startProxy runs a Server on g until the test ends. load, when set,
// replaces the graph source (for reload tests).
func startProxy(t testing.TB, g *graph.Graph, load func() (*graph.Graph, error)) *Server {
	t.Helper()
	if load == nil {
		load = func() (*graph.Graph, error) { return g, nil }
	}
	return startProxyConfig(t, Config{Load: load})
}

// startProxyConfig runs a Server with cfg until the test ends; the logger
// defaults to quiet and the grace period to 2 s.
func startProxyConfig(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.Grace == 0 {
		cfg.Grace = 2 * time.Second
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	})
	return s
}

// caller is an in-process SIP phone that calls through the proxy.
type caller struct {
	port int
	cli  *sipgo.Client
	dc   *sipgo.DialogClientCache
	byes atomic.Int32
}

func startCaller(t testing.TB) *caller {
	t.Helper()
	c := &caller{port: freePort(t)}
	addr := "127.0.0.1:" + strconv.Itoa(c.port)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("alice"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	srv, _ := sipgo.NewServer(ua)
	c.cli, _ = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(c.port))
	c.dc = sipgo.NewDialogClientCache(c.cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: c.port}})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		c.byes.Add(1)
		if err := c.dc.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "No Dialog", nil))
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	serveBoth(t, ctx, srv, addr)
	return c
}

// invite starts a call to bob through the proxy and waits for the answer.
func (c *caller) invite(ctx context.Context, proxyPort int, transport string, body []byte) (*sipgo.DialogClientSession, error) {
	uri := sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: proxyPort}
	if transport != "udp" {
		uri.UriParams = sip.HeaderParams{{K: "transport", V: transport}}
	}
	sess, err := c.dc.Invite(ctx, uri, body)
	if err != nil {
		return nil, err
	}
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		return sess, err
	}
	return sess, nil
}

// call places one full call: INVITE, 200, ACK, BYE.
func (c *caller) call(t testing.TB, proxyPort int, transport string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := c.invite(ctx, proxyPort, transport, nil)
	if err != nil {
		return fmt.Errorf("invite: %w", err)
	}
	defer sess.Close()
	if err := sess.Ack(ctx); err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	if err := sess.Bye(ctx); err != nil {
		return fmt.Errorf("bye: %w", err)
	}
	return nil
}

// statusOf extracts the final status of a failed WaitAnswer.
func statusOf(err error) int {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res.StatusCode
	}
	return 0
}

// eventually polls cond for up to 5 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// activeCalls sums the active calls of the members.
func activeCalls(s *Server, ms ...*graph.Member) int {
	n := 0
	for _, m := range ms {
		n += s.State().ActiveCalls(m.ID)
	}
	return n
}
