package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/compiler/graph"
)

type explainOptions struct {
	fields  compiler.RequestFields
	headers []string
	asJSON  bool
	against string
}

func newExplainCmd() *cobra.Command {
	var opts explainOptions
	cmd := &cobra.Command{
		Use:   "explain PATH --method METHOD --ruri URI [--source IP:PORT] [flags]",
		Short: "Show the path one request takes through the decision graph, and why",
		Long: `Compile a policy and decide one request described by flags, printing every
step: each filter checked with its condition and result, the auth decision,
the alias applied, each route checked, the route matched, the target chosen
and why (prefix owner, balancing, availability), and the final action.

The request is the same as a test block's: --registered and --down set the
runtime state the decision sees (registered users; members or carriers that
are down). Nothing is sent on the network.

Exit codes: 0 explained, 1 the policy does not compile or the request is invalid.`,
		Example: `  sipfront explain examples/asterisk-platform \
    --method INVITE --ruri sip:+15551230001@example.com --source 198.51.100.7:5060
  sipfront explain examples/asterisk-platform --method INVITE --ruri sip:+15551230001@example.com \
    --source 198.51.100.7:5060 --down pool.asterisk.member.ast2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(cmd, args[0], opts)
		},
	}
	f := cmd.Flags()
	r := &opts.fields
	f.StringVar(&r.Method, "method", "", "request method (required)")
	f.StringVar(&r.RURI, "ruri", "", "Request-URI (required)")
	f.StringVar(&r.From, "from", "", "From URI (default sip:caller@<ruri host>)")
	f.StringVar(&r.To, "to", "", "To URI (default the Request-URI)")
	f.StringVar(&r.Source, "source", "", "source [transport:]ip:port")
	f.StringVar(&r.UserAgent, "user-agent", "", "User-Agent header")
	f.StringVar(&r.CallID, "call-id", "", "Call-ID header")
	f.BoolVar(&r.InDialog, "in-dialog", false, "the request is inside a dialog (To has a tag)")
	f.StringArrayVar(&opts.headers, "header", nil, "extra header 'Name: value' (repeatable)")
	f.StringVar(&r.AuthUser, "auth-user", "", "the digest user the request proves")
	f.StringArrayVar(&r.Registered, "registered", nil, "a user with a live registration, USER or USER=CONTACT-URI[;q=Q] (repeatable)")
	f.StringArrayVar(&r.Down, "down", nil, "a member or carrier ID that is unavailable (repeatable)")
	f.BoolVar(&opts.asJSON, "json", false, "print the explanation as JSON")
	f.StringVar(&opts.against, "against", "", "admin API URL of a running proxy: its live registrations are added to --registered")
	_ = cmd.MarkFlagRequired("method")
	_ = cmd.MarkFlagRequired("ruri")
	return cmd
}

func init() { rootCmd.AddCommand(newExplainCmd()) }

func runExplain(cmd *cobra.Command, path string, opts explainOptions) error {
	fields := opts.fields
	headers, err := parseHeaders(opts.headers)
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
		return exitCode(1)
	}
	fields.Headers = headers
	if opts.against != "" {
		ctx, cancel := context.WithTimeout(cmd.Context(), againstTimeout)
		live, err := liveRegistered(ctx, opts.against)
		cancel()
		if err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "error: fetching the live registrations:", err)
			return exitCode(1)
		}
		fields.Registered = append(fields.Registered, live...)
	}
	p, err := loadPolicy(cmd, path)
	if err != nil {
		return err
	}
	if err := checkDown(p.Graph, fields.Down); err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
		return exitCode(1)
	}
	req, st, err := fields.Request()
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "error: invalid request:", err)
		return exitCode(1)
	}
	summary := requestSummary(req)
	var trace graph.Trace
	d := p.Graph.Decide(req, st, &trace)
	e := newExplanation(p.Graph, summary, req, &trace, d)
	e.Decision.Fork = forkOf(d, req, st)
	if opts.asJSON {
		return writeJSON(cmd.OutOrStdout(), e)
	}
	return writeExplanation(cmd.OutOrStdout(), e)
}

// checkDown rejects a --down that names no member or carrier of g, as a
// test block's down does: a typo would otherwise leave everyone up and
// explain a decision nobody asked about.
func checkDown(g *graph.Graph, down []string) error {
	for _, id := range down {
		switch g.Node(graph.ID(id)).(type) {
		case *graph.Member, *graph.Carrier:
		default:
			return fmt.Errorf("--down %s: the policy has no such member or carrier. Write pool.NAME.member.NAME or carrier.NAME", id)
		}
	}
	return nil
}

// parseHeaders turns "Name: value" flags into a map; a repeated name keeps
// its first value, as header() does.
func parseHeaders(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	h := make(map[string]string, len(list))
	for _, s := range list {
		name, value, ok := strings.Cut(s, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("--header %q: want 'Name: value'", s)
		}
		if _, dup := h[name]; !dup {
			h[name] = strings.TrimSpace(value)
		}
	}
	return h, nil
}
