package probe

import (
	"context"
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

// The SIP stack logs unmatched responses and closed sockets at info level;
// the tests provoke both on purpose.
func init() { sip.SetDefaultLogger(slog.New(slog.NewTextHandler(io.Discard, nil))) }

// peer is a SIP UAS on 127.0.0.1 standing in for an Asterisk box. It answers
// OPTIONS with code; stop closes its socket so it answers nothing, start
// opens the same port again.
type peer struct {
	t    *testing.T
	addr string
	code atomic.Int32
	ua   *sipgo.UserAgent
	conn net.PacketConn
}

func newPeer(t *testing.T, code int) *peer {
	t.Helper()
	p := &peer{t: t, addr: freeUDPAddr(t)}
	p.code.Store(int32(code))
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *peer) start() {
	p.t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		p.t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		p.t.Fatal(err)
	}
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		code := int(p.code.Load())
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, strconv.Itoa(code), nil))
	})
	conn, err := net.ListenPacket("udp", p.addr)
	if err != nil {
		p.t.Fatalf("peer listen %s: %v", p.addr, err)
	}
	p.ua, p.conn = ua, conn
	go func() { _ = srv.ServeUDP(conn) }()
}

func (p *peer) stop() {
	if p.ua == nil {
		return
	}
	_ = p.conn.Close()
	_ = p.ua.Close()
	p.ua, p.conn = nil, nil
}

func (p *peer) hostPort() (string, int) {
	h, ps, _ := net.SplitHostPort(p.addr)
	port, _ := strconv.Atoi(ps)
	return h, port
}

func freeUDPAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// source is a Source with a swappable graph whose Options sends a real
// OPTIONS from a sipgo client, as runtime.Server does from its listener.
type source struct {
	g      atomic.Pointer[graph.Graph]
	client *sipgo.Client
}

func newSource(t *testing.T, g *graph.Graph) *source {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	c, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	s := &source{client: c}
	s.g.Store(g)
	return s
}

func (s *source) Graph() *graph.Graph { return s.g.Load() }

func (s *source) Options(ctx context.Context, m *graph.Member) (int, error) {
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: m.Host, Port: m.Port})
	res, err := s.client.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// health records the verdicts like the state store would.
type health struct {
	mu      sync.Mutex
	down    map[graph.ID]bool
	changes []change
}

type change struct {
	id     graph.ID
	up     bool
	reason string
	at     time.Time
}

func newHealth() *health { return &health{down: map[graph.ID]bool{}} }

func (h *health) Up(id graph.ID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.down[id]
}

func (h *health) SetUp(id graph.ID, up bool, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down[id] = !up
	h.changes = append(h.changes, change{id, up, reason, time.Now()})
}

// waitFor polls until the member reaches state up and returns when the
// change was recorded; it fails the test after limit.
func (h *health) waitFor(t *testing.T, id graph.ID, up bool, limit time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		for i := len(h.changes) - 1; i >= 0; i-- {
			if c := h.changes[i]; c.id == id {
				if c.up == up {
					h.mu.Unlock()
					return c.at
				}
				break
			}
		}
		h.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s did not become up=%v within %s; changes: %+v", id, up, limit, h.snapshot())
	return time.Time{}
}

func (h *health) snapshot() []change {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]change(nil), h.changes...)
}

// poolGraph builds a sealed graph with one probed pool over the peers.
func poolGraph(t *testing.T, pr *graph.Probe, peers ...*peer) *graph.Graph {
	t.Helper()
	pool := &graph.Pool{ID: "pool.asterisk", Name: "asterisk", Balance: graph.BalanceRoundRobin, Probe: pr}
	for i, p := range peers {
		host, port := p.hostPort()
		name := fmt.Sprintf("ast%d", i+1)
		pool.Members = append(pool.Members, &graph.Member{
			ID: graph.ID("pool.asterisk.member." + name), Name: name,
			URI: "sip:" + p.addr, Host: host, Port: port, Transport: "udp", Weight: 1,
		})
	}
	g := &graph.Graph{Hash: fmt.Sprint(len(peers)), Pools: []*graph.Pool{pool}}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	return g
}

// runProber starts a prober and stops it at the end of the test, checking
// that it returns promptly.
func runProber(t *testing.T, src Source, h Health) *Prober {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := New(src, h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Error("prober did not stop within 2s of cancel")
		}
	})
	return p
}
