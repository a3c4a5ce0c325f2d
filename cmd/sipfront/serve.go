package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime"
	"github.com/sipfront/sipfront/runtime/admin"
	"github.com/sipfront/sipfront/runtime/auth"
	"github.com/sipfront/sipfront/runtime/carrier"
	"github.com/sipfront/sipfront/runtime/memory"
	"github.com/sipfront/sipfront/runtime/metrics"
	"github.com/sipfront/sipfront/runtime/probe"
	"github.com/sipfront/sipfront/runtime/registrar"
	"github.com/sipfront/sipfront/runtime/state"
)

func newServeCmd() *cobra.Command {
	var watch bool
	var level string
	var grace time.Duration
	var maxInflight int
	var stateDir string
	var linger time.Duration
	cmd := &cobra.Command{
		Use:   "serve PATH [--watch] [--log-level debug|info|warn]",
		Short: "Run the proxy on a policy",
		Long: `Compile the policy exactly as validate does and serve it: listen on every
proxy.listen address (udp and tcp) and route each request through the
compiled graph.

Every block of the language is served over udp and tcp; a listener on
another transport (tls, ws, wss) is refused with exit code 1, naming it.

Transactions: a finished UDP transaction is kept --transaction-linger
(default 5s, as Kamailio's tm wait timer) to absorb retransmissions, not
RFC 3261's 32 s; what arrives later goes without it (docs/serving.md,
Transactions). --transaction-linger 32s restores RFC 3261's timers.

Registrar: REGISTERs routed to the registrar are answered as RFC 3261 §10.3
says (docs/registrar.md), and calls to registered users fork to their
contacts. Bindings are kept in registrations.db under --state-dir (default
/var/lib/sipfront when writable, else ~/.cache/sipfront) and survive a
restart.

Reload: SIGHUP, or any change to the policy files with --watch (checked every
second), recompiles the policy. A policy with errors is refused, its
diagnostics are printed, and the running graph keeps serving; a good one is
swapped in atomically. Calls in progress are not affected.

Admission control: when proxy.max_inflight (default 2000) new INVITEs are
waiting for a member's first answer, further ones get 503 with Retry-After
at once. A reload that changes max_inflight applies it to the next INVITE.
--max-inflight, when given, overrides the policy's value (on reload too).

Operations: pools with a probe block are probed with OPTIONS from the
proxy's listening address once the listeners are up. The admin API
(HTTP/JSON, docs/operations.md) and the Prometheus metrics (/metrics) are
served on proxy.admin (default 127.0.0.1:8080; "" turns them off); when
` + admin.TokenEnv + ` is set, every admin request needs
"Authorization: Bearer $` + admin.TokenEnv + `". An admin address that cannot
be bound is logged as an error and the proxy serves SIP without it.
POST /v1/reload reloads like SIGHUP and answers 422 with the diagnostics
of a refused policy.

SIGINT or SIGTERM: new INVITEs are refused with 503, transactions in progress
finish (at most --grace), then sipfront exits 0.`,
		Example: `  sipfront serve examples/asterisk-platform
  sipfront serve --watch --log-level debug policy.hcl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("max-inflight") {
				maxInflight = 0 // the policy's proxy.max_inflight
			} else if maxInflight == 0 {
				return fmt.Errorf("--max-inflight 0 would refuse every call: use a positive limit, or -1 for none")
			}
			if err := runtime.SetTransactionLinger(linger); err != nil {
				return fmt.Errorf("--transaction-linger: %w", err)
			}
			return serve(cmd, args[0], serveOptions{watch: watch, level: level, grace: grace, maxInflight: maxInflight, stateDir: stateDir})
		},
	}
	cmd.Flags().BoolVar(&watch, "watch", false, "reload when a policy file changes")
	cmd.Flags().StringVar(&level, "log-level", "info", "log level: debug, info or warn")
	cmd.Flags().DurationVar(&grace, "grace", runtime.DefaultGrace, "how long to wait for transactions in progress on shutdown")
	cmd.Flags().IntVar(&maxInflight, "max-inflight", runtime.DefaultMaxInflight,
		"admission control: new INVITEs beyond this many waiting for a member's first answer get 503 with Retry-After (-1: no limit); "+
			"when given, overrides proxy.max_inflight of the policy, on reload too")
	cmd.Flags().StringVar(&stateDir, "state-dir", "",
		"directory of the state that survives a restart (registrations.db); default "+registrar.DefaultStateDir+" when writable, else the user cache directory")
	cmd.Flags().DurationVar(&linger, "transaction-linger", runtime.DefaultTransactionLinger,
		"how long a finished UDP transaction absorbs retransmissions (1s to 32s; RFC 3261 says 32s, Kamailio 5s)")
	return cmd
}

func init() { rootCmd.AddCommand(newServeCmd()) }

// serveOptions are serve's flags.
type serveOptions struct {
	watch       bool
	level       string
	grace       time.Duration
	maxInflight int
	stateDir    string
}

// serve runs the proxy. maxInflight is runtime.Config.MaxInflight: 0 unless
// --max-inflight was given, so that the policy's proxy.max_inflight applies.
func serve(cmd *cobra.Command, path string, o serveOptions) error {
	watch, level, grace, maxInflight := o.watch, o.level, o.grace, o.maxInflight
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info or warn", level)
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: lvl}))
	gogc := memory.Tune()
	src := &policySource{cmd: cmd, path: path}
	obs := metrics.New(nil)
	reg, err := openRegistrar(o.stateDir, log)
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
		return exitCode(1)
	}
	defer reg.Close()
	obs.AttachRegistrar(reg.Count)
	authSvc, err := newAuthService(log)
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), err)
		return exitCode(1)
	}
	defer authSvc.Close()
	obs.AttachAuth(authSvc)
	srv, err := runtime.New(runtime.Config{Load: src.load, Logger: log, Grace: grace, Observer: obs, MaxInflight: maxInflight,
		Registrar: reg, Auth: authSvc})
	if err != nil {
		if !errors.Is(err, errPolicy) {
			fmt.Fprintln(cmd.ErrOrStderr(), err)
		}
		return exitCode(1)
	}
	obs.Attach(srv)
	checkCredentialStores(authSvc, log)
	logHealthChanges(srv.State(), log, obs.MemberChanged)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// runCtx ends when the proxy has stopped: after the drain that follows
	// a signal, or when a listener failed. Probing and the admin API keep
	// running during the drain, so the drain can be watched (ctl status,
	// /metrics).
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()

	prober := probe.New(srv, srv.State(), log)
	prober.ProbeCarriers(srv.Carriers())
	registrant := carrier.NewRegistrant(srv.Carriers(), srv.CarrierSender(), srv.Graph, log)
	startAdmin(runCtx, srv, src, obs, prober, reg, authSvc, log)
	var bg sync.WaitGroup
	bg.Go(func() { reg.Run(runCtx, time.Second) })
	log.Debug("garbage collector", "gogc", gogc)
	bg.Go(func() { memory.Trimmer{Logger: log}.Run(runCtx) })
	memory.StackBallast(runCtx)
	bg.Go(func() {
		select { // probes leave from the proxy's listeners: wait for them
		case <-srv.Ready():
			bg.Go(func() { registrant.Run(runCtx) }) // carriers' registrations, likewise
			prober.Run(runCtx)
		case <-runCtx.Done():
		}
	})
	go reloadOnHUP(runCtx, srv, log)
	if watch {
		go src.watch(runCtx, srv, log)
	}
	err = srv.Run(ctx)
	cancel()
	bg.Wait()
	if err != nil {
		log.Error("serve failed", "error", err)
		return exitCode(1)
	}
	log.Info("sipfront stopped")
	return nil
}

// logHealthChanges registers the store's one change listener: every member
// health change, from probing or from traffic, is logged (operators grep
// for "member down") and passed to also (metrics), when set.
func logHealthChanges(st *state.Store, log *slog.Logger, also state.ChangeFunc) {
	st.OnChange(func(id graph.ID, up bool, reason string) {
		if also != nil {
			also(id, up, reason)
		}
		if up {
			log.Info("member up", "member", id, "reason", reason)
		} else {
			log.Warn("member down", "member", id, "reason", reason)
		}
	})
}

// startAdmin serves the admin API and /metrics on proxy.admin (off when it
// is ""), with the bearer token from admin.TokenEnv when set. The address
// is read once: changing it takes a restart. An admin address that cannot
// be bound is logged as an error and the proxy serves without it: SIP
// service comes first.
func startAdmin(ctx context.Context, srv *runtime.Server, src *policySource, obs *metrics.Metrics, prober *probe.Prober,
	reg *registrar.Registrar, authSvc *auth.Service, log *slog.Logger) {
	addr := srv.Graph().Proxy.Admin
	if addr == "" {
		log.Info("admin API disabled (proxy.admin is empty)")
		return
	}
	token := os.Getenv(admin.TokenEnv)
	if token == "" && !loopback(addr) {
		log.Warn("admin API on a non-loopback address without a token: set "+admin.TokenEnv, "addr", addr)
	}
	_, err := admin.Start(ctx, srv, admin.Options{Addr: addr, Token: token, Metrics: obs.Handler(),
		Probes: prober, Logger: log, Sources: src.sources, Registrations: reg, Auth: authSvc,
		Flood: srv.Edge().Table})
	if err != nil {
		log.Error("admin API not started; the proxy serves without it", "error", err)
	}
}

// openRegistrar opens the registrations store in the state directory and
// loads the bindings that are still live.
func openRegistrar(dir string, log *slog.Logger) (*registrar.Registrar, error) {
	dir, err := registrar.StateDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--state-dir: %w", err)
	}
	st, err := registrar.OpenBolt(dir)
	if err != nil {
		return nil, err
	}
	reg, err := registrar.New(st, registrar.Policy{})
	if err != nil {
		st.Close()
		return nil, err
	}
	log.Info("registrations loaded", "state_dir", dir, "bindings", reg.Count())
	return reg, nil
}

// loopback reports whether a host:port address is on a loopback interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errPolicy marks a policy with errors; its diagnostics are printed already.
var errPolicy = errors.New("policy has errors")

// policyError is a policy refused by the compiler. Its text is the rendered
// diagnostics (so that the admin API's reload answers with them); it is
// errPolicy for errors.Is.
type policyError struct{ text string }

func (e *policyError) Error() string        { return e.text }
func (e *policyError) Is(target error) bool { return target == errPolicy }

// keptSources bounds the policy sources remembered by hash: the running
// policy's and the last few compiled ones (a policy may compile and still
// be refused by the runtime, or lose a race with another reload).
const keptSources = 4

// policySource compiles the policy for the runtime and remembers which
// files it read, for --watch and for GET /v1/policy.
type policySource struct {
	cmd  *cobra.Command
	path string

	mu    sync.Mutex
	files []string
	// seen is the stamp of the watched files as the last load read them.
	seen string
	// loaded holds the sources of the last successful loads, newest last.
	loaded []*admin.PolicySources
}

// load is runtime.Config.Load. It prints the diagnostics (warnings
// included) to stderr as validate does; on errors it returns a
// *policyError whose text is those diagnostics.
func (p *policySource) load() (*graph.Graph, error) {
	started := time.Now()
	p.mu.Lock()
	p.seen = stampOf(p.files, p.path) // a refused load is not retried until a file changes
	p.mu.Unlock()
	pol, diags := compiler.Load(p.path)
	if len(diags) > 0 {
		var buf bytes.Buffer
		if err := writeDiagnostics(&buf, pol.Files, diags); err != nil {
			return nil, fmt.Errorf("rendering diagnostics: %w", err)
		}
		_, _ = p.cmd.ErrOrStderr().Write(buf.Bytes())
		if diags.HasErrors() || pol.Graph == nil {
			return nil, &policyError{text: strings.TrimRight(buf.String(), "\n")}
		}
	}
	if pol.Graph == nil {
		return nil, &policyError{text: "policy has errors"}
	}
	var files []string
	for name := range pol.Files {
		files = append(files, name)
	}
	sort.Strings(files)
	src := policySources(p.path, pol)
	seen := stampOf(files, p.path)
	if modifiedSince(append(files, p.path), started) {
		// Saved while we compiled: what we read may be half old, half
		// new. Leave seen stale so that --watch loads again.
		seen = ""
	}
	p.mu.Lock()
	p.seen = seen
	p.files = files
	p.loaded = append(p.loaded, src)
	if len(p.loaded) > keptSources {
		p.loaded = p.loaded[len(p.loaded)-keptSources:]
	}
	p.mu.Unlock()
	return pol.Graph, nil
}

// sources is admin.Options.Sources: the files of the policy with hash.
func (p *policySource) sources(hash string) *admin.PolicySources {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.loaded) - 1; i >= 0; i-- {
		if p.loaded[i].Hash == hash {
			return p.loaded[i]
		}
	}
	return nil
}

// policySources captures the files of a compiled policy, named as the
// compiler names them for the hash: relative to the policy directory (the
// path itself, or the directory of a one-file policy).
func policySources(path string, pol *compiler.Policy) *admin.PolicySources {
	root := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		root = filepath.Dir(path)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = root
	}
	src := &admin.PolicySources{Hash: pol.Graph.Hash, Path: path, Root: abs, Loaded: time.Now().UTC(),
		Files: make(map[string]string, len(pol.Files))}
	for name, f := range pol.Files {
		rel, err := filepath.Rel(root, name)
		if err != nil {
			rel = name
		}
		src.Files[filepath.ToSlash(rel)] = string(f.Bytes)
	}
	return src
}

// watch reloads when the modification time or size of the policy path or
// of a file the last good load read differs from what that load saw.
func (p *policySource) watch(ctx context.Context, srv *runtime.Server, log *slog.Logger) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		changed := stampOf(p.files, p.path) != p.seen
		p.mu.Unlock()
		if changed {
			log.Info("policy files changed: reloading")
			reload(srv, log)
		}
	}
}

// modifiedSince reports whether any of files changed at or after t.
func modifiedSince(files []string, t time.Time) bool {
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && !fi.ModTime().Before(t) {
			return true
		}
	}
	return false
}

// stampOf summarises the mtimes and sizes of the policy path and files.
func stampOf(files []string, path string) string {
	var b strings.Builder
	for _, f := range append([]string{path}, files...) {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%s:%d:%d;", f, fi.ModTime().UnixNano(), fi.Size())
		} else {
			b.WriteString(f + ":missing;")
		}
	}
	return b.String()
}

func reloadOnHUP(ctx context.Context, srv *runtime.Server, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			log.Info("SIGHUP: reloading")
			reload(srv, log)
		}
	}
}

// reload reloads and logs a refusal. The diagnostics of a policy with
// errors are printed above by the loader, so the log line only points at
// them.
func reload(srv *runtime.Server, log *slog.Logger) {
	err := srv.Reload()
	switch {
	case err == nil:
	case errors.Is(err, errPolicy):
		log.Error("reload refused: the policy has errors (diagnostics above); the running policy keeps serving", "graph", srv.Graph().Hash)
	default:
		log.Error("reload refused: the running policy keeps serving", "error", err, "graph", srv.Graph().Hash)
	}
}
