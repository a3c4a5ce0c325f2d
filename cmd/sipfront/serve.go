package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime"
)

func newServeCmd() *cobra.Command {
	var watch bool
	var level string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "serve PATH [--watch] [--log-level debug|info|warn]",
		Short: "Run the proxy on a policy",
		Long: `Compile the policy exactly as validate does and serve it: listen on every
proxy.listen address (udp and tcp) and route each request through the
compiled graph.

A policy that uses a block this version does not serve yet (auth,
credentials, aliases, registrar, carriers) is refused with exit code 1,
naming each such block.

Reload: SIGHUP, or any change to the policy files with --watch (checked every
second), recompiles the policy. A policy with errors is refused, its
diagnostics are printed, and the running graph keeps serving; a good one is
swapped in atomically. Calls in progress are not affected.

SIGINT or SIGTERM: new INVITEs are refused with 503, transactions in progress
finish (at most --grace), then sipfront exits 0.`,
		Example: `  sipfront serve examples/asterisk-platform
  sipfront serve --watch --log-level debug policy.hcl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd, args[0], watch, level, grace)
		},
	}
	cmd.Flags().BoolVar(&watch, "watch", false, "reload when a policy file changes")
	cmd.Flags().StringVar(&level, "log-level", "info", "log level: debug, info or warn")
	cmd.Flags().DurationVar(&grace, "grace", runtime.DefaultGrace, "how long to wait for transactions in progress on shutdown")
	return cmd
}

func init() { rootCmd.AddCommand(newServeCmd()) }

func serve(cmd *cobra.Command, path string, watch bool, level string, grace time.Duration) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info or warn", level)
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: lvl}))
	src := &policySource{cmd: cmd, path: path}
	srv, err := runtime.New(runtime.Config{Load: src.load, Logger: log, Grace: grace})
	if err != nil {
		if !errors.Is(err, errPolicy) {
			fmt.Fprintln(cmd.ErrOrStderr(), err)
		}
		return exitCode(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go reloadOnHUP(ctx, srv, log)
	if watch {
		go src.watch(ctx, srv, log)
	}
	if err := srv.Run(ctx); err != nil {
		log.Error("serve failed", "error", err)
		return exitCode(1)
	}
	log.Info("sipfront stopped")
	return nil
}

// errPolicy marks a policy with errors; its diagnostics are printed already.
var errPolicy = errors.New("policy has errors")

// policySource compiles the policy for the runtime and remembers which
// files it read, for --watch.
type policySource struct {
	cmd  *cobra.Command
	path string

	mu    sync.Mutex
	files []string
}

// load is runtime.Config.Load: it prints diagnostics and fails on errors.
func (p *policySource) load() (*graph.Graph, error) {
	pol, err := loadPolicy(p.cmd, p.path)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, errPolicy
		}
		return nil, err
	}
	files := []string{p.path}
	for name := range pol.Files {
		files = append(files, name)
	}
	sort.Strings(files)
	p.mu.Lock()
	p.files = files
	p.mu.Unlock()
	return pol.Graph, nil
}

// watch reloads when the modification time of the policy path or of a file
// the last good load read changes.
func (p *policySource) watch(ctx context.Context, srv *runtime.Server, log *slog.Logger) {
	last := p.stamp()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := p.stamp()
		if now == last {
			continue
		}
		last = now
		log.Info("policy files changed: reloading")
		reload(srv, log)
		last = p.stamp() // the file set may have changed
	}
}

// stamp summarises the mtimes and sizes of the watched files.
func (p *policySource) stamp() string {
	p.mu.Lock()
	files := p.files
	p.mu.Unlock()
	s := ""
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			s += fmt.Sprintf("%s:%d:%d;", f, fi.ModTime().UnixNano(), fi.Size())
		} else {
			s += f + ":missing;"
		}
	}
	return s
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

func reload(srv *runtime.Server, log *slog.Logger) {
	if err := srv.Reload(); err != nil {
		log.Error("reload refused: the running policy keeps serving", "error", err, "graph", srv.Graph().Hash)
	}
}
