package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/examples"
	"github.com/sipfront/sipfront/internal/netutil"
	"github.com/sipfront/sipfront/internal/simpbx"
	"github.com/sipfront/sipfront/runtime"
	"github.com/sipfront/sipfront/runtime/state"
)

func init() { rootCmd.AddCommand(newDemoCmd()) }

// demoOptions are the flags of `sipfront demo`.
type demoOptions struct {
	calls   int
	down    string
	verbose bool
}

func newDemoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo [--calls 30] [--down ast2]",
		Short: "Run the quickstart policy in front of three simulated Asterisk boxes and place calls",
		Long: `Run the main job on this machine with nothing else installed: the proxy
serves the embedded quickstart policy (examples/quickstart, with free ports
of 127.0.0.1 swapped in) in front of three simulated Asterisk boxes, calls
are placed through it (INVITE, ACK, BYE), and where each call went is
printed. One box answers 503 to show failover, and one call comes from a
"friendly-scanner" user agent to show a filter dropping it.

Exit status 0 when every call that should be answered was answered and the
scanner was dropped, 1 otherwise.`,
		Example: "  sipfront demo\n  sipfront demo --calls 100 --down ''",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().IntVar(&o.calls, "calls", 30, "number of calls to place")
	cmd.Flags().StringVar(&o.down, "down", "ast2", "member whose box answers 503 (empty: every box answers)")
	cmd.Flags().BoolVar(&o.verbose, "verbose", false, "print the proxy's debug log")
	return cmd
}

// demo is one run of the demo: the policy, the boxes and the proxy.
type demo struct {
	out    io.Writer
	dir    string
	graph  *graph.Graph
	boxes  []*simpbx.Box
	byAddr map[string]*simpbx.Box
	proxy  string
	log    *lockedBuffer
}

func runDemo(ctx context.Context, out io.Writer, o demoOptions) error {
	if o.calls < 1 {
		return fmt.Errorf("demo: --calls must be at least 1")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	d := &demo{out: out, byAddr: map[string]*simpbx.Box{}, log: &lockedBuffer{}}
	defer d.close()
	if err := d.setup(ctx, o); err != nil {
		return err
	}
	stopProxy, err := d.startProxy(ctx, o.verbose)
	if err != nil {
		return err
	}
	failed := d.placeCalls(ctx, o.calls)
	stopProxy()
	d.summary()
	if failed > 0 {
		fmt.Fprintf(out, "\n%d call(s) did not get the expected result\n", failed)
		return exitCode(1)
	}
	fmt.Fprintf(out, "\nall %d calls got the expected result\n", o.calls)
	return nil
}

// setup writes the quickstart to a temporary directory, starts one box per
// pool member and rewrites the policy's ports to the free ones in use.
func (d *demo) setup(ctx context.Context, o demoOptions) error {
	dir, err := os.MkdirTemp("", "sipfront-demo-")
	if err != nil {
		return fmt.Errorf("demo: temp dir: %w", err)
	}
	d.dir = dir
	text, err := examples.Quickstart.ReadFile("quickstart/quickstart.hcl")
	if err != nil {
		return fmt.Errorf("demo: embedded quickstart: %w", err)
	}
	g, err := compilePolicyText(dir, string(text))
	if err != nil {
		return err
	}
	ports := map[string]string{}
	if err := d.startBoxes(ctx, g, o.down, ports); err != nil {
		return err
	}
	proxyPort, err := netutil.FreePort()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, l := range g.Proxy.Listen {
		if _, p, err := net.SplitHostPort(l.Addr); err == nil {
			ports[p] = strconv.Itoa(proxyPort)
		}
	}
	d.proxy = net.JoinHostPort("127.0.0.1", strconv.Itoa(proxyPort))
	d.graph, err = compilePolicyText(dir, rewritePorts(string(text), ports))
	return err
}

// startBoxes starts a simulated box for every member of every pool; the
// member named down answers 503. ports maps each member's policy port to
// its box's port.
func (d *demo) startBoxes(ctx context.Context, g *graph.Graph, down string, ports map[string]string) error {
	found := down == ""
	for _, p := range g.Pools {
		for _, m := range p.Members {
			mode := simpbx.Answer
			if m.Name == down {
				mode, found = simpbx.Reject, true
			}
			b, err := simpbx.Start(ctx, m.Name, "127.0.0.1:0", mode, nil)
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			d.boxes = append(d.boxes, b)
			d.byAddr[b.Addr()] = b
			_, port, _ := net.SplitHostPort(b.Addr())
			ports[strconv.Itoa(m.Port)] = port
		}
	}
	if !found {
		return fmt.Errorf("demo: --down %q names no pool member of the quickstart", down)
	}
	return nil
}

// hostPortRE matches the loopback addresses of the quickstart policy.
var hostPortRE = regexp.MustCompile(`127\.0\.0\.1:([0-9]+)`)

// rewritePorts replaces every 127.0.0.1:PORT whose port is in ports.
func rewritePorts(text string, ports map[string]string) string {
	return hostPortRE.ReplaceAllStringFunc(text, func(s string) string {
		if p, ok := ports[s[len("127.0.0.1:"):]]; ok {
			return "127.0.0.1:" + p
		}
		return s
	})
}

// compilePolicyText writes text as dir/quickstart.hcl and compiles it with
// the same code path as validate and serve.
func compilePolicyText(dir, text string) (*graph.Graph, error) {
	path := filepath.Join(dir, "quickstart.hcl")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return nil, fmt.Errorf("demo: write policy: %w", err)
	}
	pol, diags := compiler.Load(path)
	if diags.HasErrors() {
		return nil, fmt.Errorf("demo: the quickstart policy does not compile: %w", diags)
	}
	return pol.Graph, nil
}

// startProxy runs the runtime in-process on the rewritten policy and
// returns a function that stops it and waits for it.
func (d *demo) startProxy(ctx context.Context, verbose bool) (func(), error) {
	var w io.Writer = d.log
	level := slog.LevelWarn
	if verbose {
		w, level = os.Stderr, slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	srv, err := runtime.New(runtime.Config{
		Load:   func() (*graph.Graph, error) { return d.graph, nil },
		Logger: log,
		Grace:  2 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: start proxy: %w", err)
	}
	logHealthChanges(srv.State(), log, nil)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(rctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		cancel()
		return nil, fmt.Errorf("demo: proxy stopped: %w", err)
	case <-time.After(10 * time.Second):
		cancel()
		return nil, errors.New("demo: proxy not ready within 10s")
	}
	fmt.Fprintf(d.out, "sipfront demo: quickstart policy (graph %.12s) served on udp:%s\n", d.graph.Hash, d.proxy)
	for _, b := range d.boxes {
		fmt.Fprintf(d.out, "  box %-5s %s  answers %s\n", b.Name(), b.Addr(), boxMode(b))
	}
	fmt.Fprintln(d.out)
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}, nil
}

func boxMode(b *simpbx.Box) string {
	if b.Mode() == simpbx.Reject {
		return "503 (out of service: the proxy fails over)"
	}
	return "200"
}

// close stops the boxes and removes the temporary directory.
func (d *demo) close() {
	for _, b := range d.boxes {
		b.Close()
	}
	if d.dir != "" {
		os.RemoveAll(d.dir)
	}
}

// lockedBuffer collects the proxy's log for the end of the demo.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// noHeaders is the header reader of the demo's decision preview.
type noHeaders struct{}

func (noHeaders) Header(string) (string, bool) { return "", false }

var _ graph.HeaderReader = noHeaders{}

// previewRoute names what the graph decides for a call (filter or route),
// on a throwaway state so the proxy's balancing is not disturbed.
func (d *demo) previewRoute(c simpbx.Call, st *state.Store) string {
	host, portStr, _ := net.SplitHostPort(d.proxy)
	port, _ := strconv.Atoi(portStr)
	req := &graph.Request{
		Method:    "INVITE",
		RURI:      graph.URI{Scheme: "sip", User: c.To, Host: host, Port: port},
		From:      graph.URI{Scheme: "sip", User: c.From, Host: "sipfront.test"},
		To:        graph.URI{Scheme: "sip", User: c.To, Host: "sipfront.test"},
		Source:    graph.Source{IP: netip.MustParseAddr("127.0.0.1"), Port: 5060, Transport: "udp"},
		UserAgent: c.UserAgent,
		CallID:    "demo",
		Headers:   noHeaders{},
	}
	dec := d.graph.Decide(req, runtime.StateOf(runtime.Config{}, st), nil)
	switch {
	case dec.Filter != nil:
		return string(dec.Filter.ID)
	case dec.Route != nil:
		return string(dec.Route.ID)
	}
	return "-"
}

// demoCall returns the i-th call of the demo (1-based): extensions and a
// named user, and one friendly scanner early on.
func demoCall(i int) (simpbx.Call, bool) {
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	c := simpbx.Call{From: users[i%len(users)], To: strconv.Itoa(100 + i%7), UserAgent: "demo-phone"}
	if i%5 == 0 {
		c.To = "support"
	}
	if i == 4 {
		c.From, c.UserAgent, c.AnswerTimeout = "scanner", "friendly-scanner", time.Second
		return c, false
	}
	return c, true
}
