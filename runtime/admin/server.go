// Package admin is sipfront's HTTP/JSON admin API, served on proxy.admin
// (loopback by default): status, pools and members with declared and
// observed state, active calls, the running graph, reload, member overrides
// and /metrics. It also holds the Go client that `sipfront ctl` and
// `sipfront plan --against` use.
package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/compiler/plan"
	"github.com/sipfront/sipfront/runtime/flood"
	"github.com/sipfront/sipfront/runtime/probe"
	"github.com/sipfront/sipfront/runtime/state"
)

// TokenEnv is the environment variable that holds the bearer token, for
// serve and ctl alike.
const TokenEnv = "SIPFRONT_ADMIN_TOKEN"

// maxBody bounds request bodies; the largest legitimate one is a few bytes.
const maxBody = 64 << 10

// Proxy is the running proxy as the admin API sees it. *runtime.Server
// satisfies it.
type Proxy interface {
	Graph() *graph.Graph
	State() *state.Store
	Reload() error
}

// ProbeStatus reports the latest probe of a member; *probe.Prober
// satisfies it.
type ProbeStatus interface {
	Last(id graph.ID) (probe.Result, bool)
}

// Options configures the admin API.
type Options struct {
	// Addr is the listen address (proxy.admin), used by Start.
	Addr string
	// Token, when set, is required as "Authorization: Bearer TOKEN" on
	// every endpoint, /metrics included.
	Token string
	// Metrics serves GET /metrics; nil answers 404.
	Metrics http.Handler
	// Probes adds the latest probe result to each member; nil omits it.
	Probes ProbeStatus
	// Started is when the proxy started, for uptime; zero means now.
	Started time.Time
	// Logger receives one line per operator action; nil: slog.Default().
	Logger *slog.Logger
	// Sources returns the source files of the policy whose hash is given
	// (the running one), for GET /v1/policy; nil, or a nil answer, means
	// they are not available (404 or 503).
	Sources func(hash string) *PolicySources
	// Flood returns the flood table for GET /v1/flood and POST
	// /v1/flood/clear; nil, or a nil table, means no flood control.
	Flood func() *flood.Table
	// Registrations serves GET /v1/registrations; nil answers 404 (no
	// registrar).
	Registrations Registrations
	// Auth serves the throttle tables (GET /v1/auth/throttle, DELETE
	// /v1/auth/throttle/{key}); nil answers an empty table.
	Auth AuthTables
}

// API is the admin HTTP handler.
type API struct {
	proxy Proxy
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux
	// mu serialises operator writes so that a read-modify-write of an
	// override (enable clears a mode-only override) is not interleaved.
	mu sync.Mutex
}

// New returns the admin API handler for proxy.
func New(p Proxy, opts Options) *API {
	if opts.Started.IsZero() {
		opts.Started = time.Now()
	}
	a := &API{proxy: p, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.routes()
	return a
}

// Start listens on opts.Addr and serves the admin API until ctx ends. It
// returns once the socket is bound (an error when it cannot be), with the
// bound address (useful with port 0). On ctx end the server shuts down,
// letting requests in progress finish for up to five seconds.
func Start(ctx context.Context, p Proxy, opts Options) (net.Addr, error) {
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("admin: listen %s: %w", opts.Addr, err)
	}
	api := New(p, opts)
	hs := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(api.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			api.log.Error("admin server stopped", "error", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	api.log.Info("admin API listening", "addr", ln.Addr().String(), "token", opts.Token != "")
	return ln.Addr(), nil
}

// endpoint maps methods to handlers for one path, so that a wrong method
// gets a JSON 405 with an Allow header rather than the mux's plain text.
type endpoint map[string]http.HandlerFunc

func (a *API) routes() {
	a.mux.Handle("/v1/status", endpoint{"GET": a.status})
	a.mux.Handle("/v1/pools", endpoint{"GET": a.pools})
	a.mux.Handle("/v1/calls", endpoint{"GET": a.calls})
	a.mux.Handle("/v1/graph", endpoint{"GET": a.graph})
	a.mux.Handle("/v1/policy", endpoint{"GET": a.policy})
	a.mux.Handle("/v1/reload", endpoint{"POST": a.reload})
	a.mux.Handle("/v1/overrides", endpoint{"GET": a.overrides})
	a.mux.Handle("/v1/flood", endpoint{"GET": a.flood})
	a.mux.Handle("/v1/flood/clear", endpoint{"POST": a.floodClear})
	a.mux.Handle("/v1/registrations", endpoint{"GET": a.registrations})
	a.mux.HandleFunc("/v1/members/{id}/{action}", a.member)
	a.mux.Handle("/v1/carriers", endpoint{"GET": a.carriers})
	a.mux.HandleFunc("/v1/carriers/{id}/{action}", a.carrierAction)
	a.mux.Handle("/metrics", endpoint{"GET": a.metrics})
	a.authRoutes()
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: %s %s (see docs/operations.md)", r.Method, r.URL.Path)
	})
}

func (e endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := e[r.Method]; ok {
		h(w, r)
		return
	}
	if r.Method == http.MethodHead {
		if h, ok := e["GET"]; ok {
			h(w, r)
			return
		}
	}
	allowed := make([]string, 0, len(e))
	for m := range e {
		allowed = append(allowed, m)
	}
	methodNotAllowed(w, r, allowed...)
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed ...string) {
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allowed, " or "))
}

// ServeHTTP implements http.Handler: it checks the token, then routes.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.opts.Token != "" && !a.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sipfront"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (set %s for ctl)", TokenEnv)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	a.mux.ServeHTTP(w, r)
}

// authorized compares the bearer token in constant time.
func (a *API) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(a.opts.Token)) == 1
}

func (a *API) metrics(w http.ResponseWriter, r *http.Request) {
	if a.opts.Metrics == nil {
		writeError(w, http.StatusNotFound, "metrics are not enabled")
		return
	}
	a.opts.Metrics.ServeHTTP(w, r)
}

func (a *API) graph(w http.ResponseWriter, r *http.Request) {
	g := a.proxy.Graph()
	writeJSON(w, http.StatusOK, struct {
		Hash  string       `json:"hash"`
		Nodes []*plan.Node `json:"nodes"`
	}{g.Hash, plan.Nodes(g)})
}

func (a *API) reload(w http.ResponseWriter, r *http.Request) {
	prev := a.proxy.Graph().Hash
	if err := a.proxy.Reload(); err != nil {
		a.log.Warn("admin: reload refused; the running policy keeps serving", "error", err)
		writeError(w, http.StatusUnprocessableEntity, "%s", err.Error())
		return
	}
	hash := a.proxy.Graph().Hash
	a.log.Info("admin: policy reloaded", "graph", hash, "previous", prev)
	writeJSON(w, http.StatusOK, Reloaded{Hash: hash, Previous: prev, Changed: hash != prev})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, Error{Error: fmt.Sprintf(format, args...)})
}
