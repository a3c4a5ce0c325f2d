// Package runtime is the proxy core of sipfront: a stateful SIP proxy
// (RFC 3261 §16) on sipgo that executes the compiled decision graph for
// every request. It is the wiring: lifecycle (Run, Reload, drain, the
// atomic graph swap), the sipgo stack, dispatch (initial, in-dialog, ACK,
// CANCEL), admission control and the composed graph.State. The concerns
// live in their own packages: intake (validation), forward (relaying,
// branches, CANCEL), target (what the failover loop tries), dialog (the
// dialog table), state (pool-member state).
//
// The package never imports the policy language: it is handed a Load
// function that returns a sealed *graph.Graph.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/carrier"
	"github.com/sipfront/sipfront/runtime/dialog"
	"github.com/sipfront/sipfront/runtime/edge"
	"github.com/sipfront/sipfront/runtime/forward"
	"github.com/sipfront/sipfront/runtime/intake"
	"github.com/sipfront/sipfront/runtime/registrar"
	"github.com/sipfront/sipfront/runtime/state"
	"github.com/sipfront/sipfront/runtime/stubs"
	"github.com/sipfront/sipfront/runtime/target"
)

// sipgoGlobals sets sipgo's process-wide knobs once.
var sipgoGlobals sync.Once

// DefaultGrace bounds how long Run waits for transactions in progress after
// its context is cancelled.
const DefaultGrace = 30 * time.Second

// defaultRingTimeout is Timer C when the policy sets none (RFC 3261 §16.6
// asks for more than three minutes; three is what most proxies use).
const defaultRingTimeout = 3 * time.Minute

// Config configures a Server.
type Config struct {
	// Load compiles the policy; it is called by New and on every Reload.
	Load func() (*graph.Graph, error)
	// Logger receives the proxy's logs; nil means slog.Default().
	Logger *slog.Logger
	// State holds member health, call counts and affinity; nil: New
	// creates one.
	State *state.Store
	// Registrations, Auth and Carriers are the other parts of the state a
	// decision reads; nil means the stubs of runtime/stubs (nobody
	// registered, every request challenged, every carrier available).
	Registrations graph.Registrations
	Auth          graph.Authenticator
	Carriers      graph.Carriers
	// Registrar answers REGISTER for routes to the registrar and holds the
	// contacts calls to registered users fork to; it also answers
	// registered() when Registrations is nil. nil: no registrar (serve
	// refuses policies with one unless Served says otherwise).
	Registrar *registrar.Registrar
	// Served is what this runtime serves; the zero value means
	// DefaultServed.
	Served Served
	// Observer receives per-request events; nil means none.
	Observer Observer
	// Grace bounds the wait for transactions in progress on shutdown; zero
	// means DefaultGrace.
	Grace time.Duration
	// MaxInflight bounds the initial INVITEs admitted and not yet answered
	// by a member (admission control); beyond it a new INVITE gets 503
	// with Retry-After at once. Zero means the graph's proxy.max_inflight,
	// read again on every reload (DefaultMaxInflight when the graph has
	// none); a positive value overrides the graph; negative means no
	// limit.
	MaxInflight int
	// NoAckTimeout ends a dialog whose 2xx was not acknowledged this long
	// after it came; zero means dialog.NoAckTimeout (64·T1).
	NoAckTimeout time.Duration
}

// Observer receives per-request events; implementations must be cheap and
// lock-free, since they run on the request path.
type Observer interface {
	// Request is called once per request the proxy handles; decidedBy is
	// the filter or route that decided, "" when none did.
	Request(method string, decidedBy graph.ID)
	// Response is called for every final response sent upstream.
	Response(code int)
	// Relay is called for each try sent to a member.
	Relay(member graph.ID)
	// Failover is called for a try that failed over (code 0 means timeout
	// or transport error).
	Failover(from graph.ID, code int)
	// Reload is called after every reload attempt.
	Reload(ok bool)
	// DecisionTime reports how long one graph decision took.
	DecisionTime(d time.Duration)
}

type nopObserver struct{}

func (nopObserver) Request(string, graph.ID)   {}
func (nopObserver) Response(int)               {}
func (nopObserver) Relay(graph.ID)             {}
func (nopObserver) Failover(graph.ID, int)     {}
func (nopObserver) Reload(bool)                {}
func (nopObserver) DecisionTime(time.Duration) {}

// Server is a running (or ready to run) proxy.
type Server struct {
	cfg   Config
	log   *slog.Logger
	obs   Observer
	store *state.Store
	// state is what decisions read: store composed with the other domains.
	state   graph.State
	dialogs *dialog.Table
	// carriers is the carriers' limits, quality and health; its calls
	// are the dialog table's.
	carriers *carrier.Store
	graph    atomic.Pointer[graph.Graph]

	ua    *sipgo.UserAgent
	relay *forward.Relay
	// self is fixed at New from the first graph: listeners and the
	// advertised address only change on restart.
	self      *forward.Self
	validator intake.Validator
	// edge checks every message before sipgo parses it: flood control,
	// the raw check and the limits (runtime/edge).
	edge *edge.Guard

	ready    chan struct{}
	draining atomic.Bool
	// inflight counts handlers running; drain polls it (a WaitGroup may
	// not be Added to while Wait runs).
	inflight atomic.Int64
	reloadMu sync.Mutex

	// dropped counts datagrams sipgo could not parse.
	dropped atomic.Uint64
	// timeDecisions is false when there is no Observer: the clock is then
	// not read around each decision.
	timeDecisions bool

	// filterLogs rate-limits the log lines of filters (filterlog.go);
	// orphanFilterLog serves filters a reload removed.
	filterLogs      atomic.Pointer[filterLimiters]
	orphanFilterLog logLimiter

	// Admission control (admission.go): maxInflight is the limit in force
	// (negative: none; set from the graph on New and Reload); waiting
	// counts the initial INVITEs admitted and not yet answered by a
	// member; shedAt is when the last one was shed (Unix ns), shed how
	// many were.
	maxInflight atomic.Int64
	waiting     atomic.Int64
	shedAt      atomic.Int64
	shed        atomic.Uint64
	shedLog     logLimiter
	// dialogLog rate-limits the log lines of refused in-dialog requests.
	dialogLog logLimiter
}

// New loads and checks the first graph and prepares the SIP stack; it opens
// no sockets (Run does).
func New(cfg Config) (*Server, error) {
	if cfg.Load == nil {
		return nil, errors.New("runtime: Config.Load is nil")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, obs: cfg.Observer, store: cfg.State, ready: make(chan struct{})}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.obs == nil {
		s.obs = nopObserver{}
	}
	_, nop := s.obs.(nopObserver)
	s.timeDecisions = !nop
	if s.store == nil {
		s.store = state.New()
	}
	if s.cfg.Served.Kinds == nil {
		s.cfg.Served = DefaultServed()
		if s.authService() != nil {
			s.cfg.Served = s.cfg.Served.WithAuth()
		}
	}
	if s.cfg.Registrar == nil {
		s.cfg.Served = s.cfg.Served.withoutRegistrar()
	}
	s.dialogs = dialog.New(memberAccounting{s.store})
	s.carriers = carrier.New(s.dialogs)
	s.dialogs.CountCarriers(carrier.Accounting{Store: s.carriers})
	if cfg.Carriers == nil {
		cfg.Carriers = s.carriers
	}
	s.state = StateOf(cfg, s.store)
	g, err := s.load()
	if err != nil {
		return nil, err
	}
	if s.self, err = forward.NewSelf(g.Proxy); err != nil {
		return nil, err
	}
	s.edge = edge.NewGuard(g, s.log)
	s.state = graph.WithFlooding(s.state, s.edge)
	if err := s.newStack(); err != nil {
		return nil, err
	}
	s.store.Attach(g)
	s.carriers.Attach(g)
	s.attachFilterLogs(g)
	s.setLimit(g)
	s.relay.SetServerHeader(g.Security.ServerHeader)
	s.graph.Store(g)
	return s, nil
}

// load calls Config.Load and checks that this runtime serves the result.
func (s *Server) load() (*graph.Graph, error) {
	g, err := s.cfg.Load()
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	if g == nil {
		return nil, errors.New("load policy: no graph")
	}
	if err := s.cfg.Served.Check(g); err != nil {
		return nil, err
	}
	s.attachRegistrar(g)
	if a := s.authService(); a != nil {
		if err := a.Reload(g); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	return g, nil
}

// newStack builds the sipgo user agent, server and client. sipgo's loggers
// are captured at construction, so the filtering logger goes in first.
func (s *Server) newStack() error {
	sipgoGlobals.Do(func() {
		sip.UDPMTUSize = 65000 // P5: sipgo refuses to send UDP above MTU-200 otherwise
		// Read whole datagrams (sipgo reads 32 KiB by default, and the
		// kernel cuts the rest silently): the edge answers an oversized
		// one 513 instead of passing a truncated message on.
		sip.TransportBufferReadSize = 65535
		// Some sipgo paths log through the process-wide default logger;
		// those only get warnings and errors.
		sip.SetDefaultLogger(slog.New(&sipgoLogHandler{next: s.log.Handler(), dropped: new(atomic.Uint64)}))
	})
	sipLog := slog.New(&sipgoLogHandler{next: s.log.Handler(), dropped: &s.dropped})
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("sipfront"),
		sipgo.WithUserAgentHostname(s.self.Host()),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(sipLog),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(sipLog),
			sip.WithTransactionLayerUnhandledResponseHandler(func(res *sip.Response) { s.relay.Stray(res) }),
		),
	)
	if err != nil {
		return fmt.Errorf("sip user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		return fmt.Errorf("sip server: %w", err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(sipLog),
		sipgo.WithClientHostname(s.self.Host()), sipgo.WithClientPort(s.self.Port()))
	if err != nil {
		return fmt.Errorf("sip client: %w", err)
	}
	// One catch-all handler: sipgo's handler map is not locked, and a
	// proxy forwards extension methods too.
	for _, m := range []sip.RequestMethod{sip.INVITE, sip.ACK, sip.CANCEL, sip.BYE, sip.REGISTER,
		sip.OPTIONS, sip.SUBSCRIBE, sip.NOTIFY, sip.REFER, sip.INFO, sip.MESSAGE, sip.PRACK,
		sip.UPDATE, sip.PUBLISH} {
		srv.OnRequest(m, s.handle)
	}
	srv.OnNoRoute(s.handle)
	s.ua = ua
	s.relay = &forward.Relay{Self: s.self, Client: cli, Server: srv, Log: s.log, Final: s.obs.Response}
	s.validator = intake.Validator{IsLoop: s.self.IsLoop}
	return nil
}

// Run listens on every proxy.listen address and serves until ctx is done;
// then it stops taking new INVITEs (503), waits for transactions in
// progress (bounded by Config.Grace) and closes the listeners.
func (s *Server) Run(ctx context.Context) error {
	closers, errc, err := s.listen()
	if err != nil {
		return err
	}
	close(s.ready)
	defer s.startPprof()()
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	defer stopSweep()
	go s.sweep(sweepCtx)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		serveErr = fmt.Errorf("listener stopped: %w", serveErr)
	}
	s.drain()
	for _, c := range closers {
		c.Close()
	}
	s.ua.Close()
	return serveErr
}

// drain refuses new INVITEs and waits for the handlers in progress.
func (s *Server) drain() {
	s.draining.Store(true)
	grace := s.cfg.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	deadline := time.Now().Add(grace)
	for s.inflight.Load() > 0 {
		if time.Now().After(deadline) {
			s.log.Warn("grace period over: stopping with transactions in progress",
				"grace", grace, "in_progress", s.inflight.Load())
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.log.Info("drained: no transactions in progress")
}

// listen opens every listener and starts serving it. The returned channel
// receives the first serve error.
func (s *Server) listen() ([]interface{ Close() error }, <-chan error, error) {
	var closers []interface{ Close() error }
	errc := make(chan error, len(s.self.Listen()))
	fail := func(err error) ([]interface{ Close() error }, <-chan error, error) {
		for _, c := range closers {
			c.Close()
		}
		return nil, nil, err
	}
	for _, l := range s.self.Listen() {
		switch l.Transport {
		case "udp":
			addr, err := net.ResolveUDPAddr("udp", l.Addr)
			if err != nil {
				return fail(fmt.Errorf("listen udp %s: %w", l.Addr, err))
			}
			conn, err := net.ListenUDP("udp", addr)
			if err != nil {
				return fail(fmt.Errorf("listen udp %s: %w", l.Addr, err))
			}
			_ = conn.SetReadBuffer(4 << 20)
			closers = append(closers, conn)
			s.self.SetUDPLocal(conn.LocalAddr().(*net.UDPAddr))
			// The edge sees every datagram before sipgo (flood control,
			// raw check, limits); it replaces a read filter, which runs
			// after sipgo has allocated for the source and cannot answer.
			pc := edge.NewPacketConn(conn, s.edge)
			go func() { errc <- s.relay.Server.ServeUDP(pc) }()
			s.awaitUDPListener(pc.LocalAddr().String())
		case "tcp":
			ln, err := net.Listen("tcp", l.Addr)
			if err != nil {
				return fail(fmt.Errorf("listen tcp %s: %w", l.Addr, err))
			}
			closers = append(closers, ln)
			go func() { errc <- s.relay.Server.ServeTCP(edge.NewListener(ln, s.edge)) }()
		}
	}
	s.log.Info("sipfront serving", "listen", s.self.ListenString(), "advertise", s.self.HostPort(),
		"graph", s.Graph().Hash, "max_inflight", s.MaxInflight(), "transaction_linger", sip.Timer_J)
	return closers, errc, nil
}

// awaitUDPListener waits (briefly) until sipgo's transport layer holds the
// UDP listener at addr. ServeUDP registers it from its own goroutine; a
// request sent from that address before then (a probe, a carrier
// REGISTER right after Ready) makes sipgo bind a second socket to it and
// fail with "address already in use".
func (s *Server) awaitUDPListener(addr string) {
	tl := s.ua.TransportLayer()
	for i := 0; i < 400; i++ { // 2 s at most
		if c, err := tl.GetConnection("udp", addr); err == nil && c != nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.log.Warn("UDP listener not registered by sipgo within 2s", "addr", addr)
}

// Ready is closed once every listener is up.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Reload compiles and checks a new graph and swaps it in with one atomic
// store. On error the running graph keeps serving and the error is
// returned. Requests in progress finish on the graph they started with.
func (s *Server) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	g, err := s.load()
	if err != nil {
		s.obs.Reload(false)
		return err
	}
	if diff := s.self.RestartNeeded(g.Proxy); diff != "" {
		s.log.Warn("proxy "+diff+" changed: takes effect on restart", "graph", g.Hash)
	}
	s.store.Attach(g)
	s.carriers.Attach(g)
	s.attachFilterLogs(g)
	s.setLimit(g)
	s.edge.Configure(g)
	s.relay.SetServerHeader(g.Security.ServerHeader)
	old := s.graph.Swap(g)
	s.obs.Reload(true)
	s.log.Info("policy reloaded", "graph", g.Hash, "previous", old.Hash)
	return nil
}

// Graph returns the graph new requests run on.
func (s *Server) Graph() *graph.Graph { return s.graph.Load() }

// State returns the pool-member state store.
func (s *Server) State() *state.Store { return s.store }

// Carriers returns the carriers' state: limits, quality, health, modes.
func (s *Server) Carriers() *carrier.Store { return s.carriers }

// Dialogs returns the dialog table.
func (s *Server) Dialogs() *dialog.Table { return s.dialogs }

// Options sends an OPTIONS to m from the proxy's own listening address and
// returns the final status (for probing).
func (s *Server) Options(ctx context.Context, m *graph.Member) (int, error) {
	return s.relay.Options(ctx, m)
}

// StateOf composes the graph.State decisions read: st for pool members,
// cfg's parts or the stubs for the other domains.
func StateOf(cfg Config, st *state.Store) graph.State {
	var (
		r graph.Registrations = stubs.NoRegistrations{}
		a graph.Authenticator = stubs.NoAuth{}
		c graph.Carriers      = stubs.AllCarriers{}
	)
	if cfg.Registrations != nil {
		r = cfg.Registrations
	} else if cfg.Registrar != nil {
		r = cfg.Registrar
	}
	if cfg.Auth != nil {
		a = cfg.Auth
	}
	if cfg.Carriers != nil {
		c = cfg.Carriers
	}
	return graph.StateOf(r, a, st, c)
}

// memberAccounting tells the pool-member state of the dialog table's calls
// to members.
type memberAccounting struct{ st *state.Store }

func (m memberAccounting) Start(t target.Target, callID, fromTag, caller, callee string) {
	m.st.StartCall(t.Member, callID, fromTag, caller, callee)
}

func (m memberAccounting) Moved(callID, fromTag string, to target.Target) {
	m.st.Moved(callID, fromTag, to.Member)
}

func (m memberAccounting) Established(callID, fromTag, toTag string) {
	m.st.Established(callID, fromTag, toTag)
}

func (m memberAccounting) End(callID, fromTag string) { m.st.EndCall(callID, fromTag) }

// Edge returns the edge guard: flood table, limits and their counters.
func (s *Server) Edge() *edge.Guard { return s.edge }

// Dropped returns how many messages could not be parsed or checked and
// were dropped without an answer (by sipgo or by the edge).
func (s *Server) Dropped() uint64 { return s.dropped.Load() + s.edge.Dropped() }
