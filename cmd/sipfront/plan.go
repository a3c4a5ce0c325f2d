package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/compiler/plan"
	"github.com/sipfront/sipfront/runtime/admin"
)

type planOptions struct {
	requests string
	asJSON   bool
	noColor  bool
	against  string
	// live are the running proxy's registrations (plan --against), added
	// to the sample requests of --requests.
	live []string
}

func newPlanCmd() *cobra.Command {
	var opts planOptions
	cmd := &cobra.Command{
		Use:   "plan OLD NEW | plan NEW --against ADMIN_URL [--requests FILE.jsonl] [-json] [--no-color]",
		Short: "Show what changes between two policies, and which decisions change",
		Long: `Compile two policies and show, like terraform plan, what a reload from OLD to
NEW would change:

  + a node (filter, pool member, route, carrier, ...) only NEW has
  ~ a node both have, attribute by attribute (old -> new); a change of
    order among filters or routes shows as "position"
  - a node only OLD has

Prefix and alias tables are compared row by row (the first 20 row changes
are listed). Passwords show as (sensitive).

Then the decision impact: every test request of both policies, plus each
line of --requests (one JSON object per line with the fields of a test's
request block: method, ruri, from, to, user_agent, source, headers, ...),
is decided under both graphs, and each request whose decision changes is
listed with the old and the new decision.

The last line sums it up:
  Plan: N to add, M to change, K to destroy. D decisions change.

With -json the same plan is printed as one JSON document.

With --against ADMIN_URL, OLD is the policy the proxy at ADMIN_URL runs:
its source files are fetched from the admin API (GET /v1/policy) and
compiled here (the hash must match the proxy's), and two sections follow
the decision impact: the runtime overrides (drift from the policy, which
survive the reload) and the live calls on members NEW removes. The bearer
token, when the proxy needs one, is read from ` + admin.TokenEnv + `.

Exit codes: 0 nothing changes, 2 something changes (or the proxy has
runtime overrides, or calls on members NEW removes), 1 error.`,
		Example: `  sipfront plan deployed/ policy/
  sipfront plan --requests traffic-sample.jsonl deployed/ policy/
  sipfront plan -json deployed/ policy/ | jq .summary
  sipfront plan policy/ --against http://127.0.0.1:8080`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.against != "" {
				if len(args) != 1 {
					return fmt.Errorf("with --against, give only the NEW policy (got %d arguments)", len(args))
				}
				return nil
			}
			if len(args) != 2 {
				return fmt.Errorf("want OLD and NEW policies, or NEW and --against ADMIN_URL (got %d arguments)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.against != "" {
				return runPlanAgainst(cmd, opts.against, args[0], opts)
			}
			return runPlan(cmd, args[0], args[1], opts)
		},
	}
	cmd.Flags().StringVar(&opts.requests, "requests", "", "JSON Lines file of extra sample requests")
	cmd.Flags().BoolVar(&opts.asJSON, "json", false, "print the plan as JSON")
	cmd.Flags().BoolVar(&opts.noColor, "no-color", false, "never colour the output")
	cmd.Flags().StringVar(&opts.against, "against", "", "plan NEW against the proxy whose admin API is at this URL")
	return cmd
}

func init() { rootCmd.AddCommand(newPlanCmd()) }

func runPlan(cmd *cobra.Command, oldPath, newPath string, opts planOptions) error {
	oldP, err := loadPolicy(cmd, oldPath)
	if err != nil {
		return err
	}
	newP, err := loadPolicy(cmd, newPath)
	if err != nil {
		return err
	}
	return writePlan(cmd, oldPath, oldP, newPath, newP, opts, nil)
}

// writePlan builds the plan from OLD to NEW, adds the extra sections,
// renders it and returns the exit code.
func writePlan(cmd *cobra.Command, oldName string, oldP *compiler.Policy, newName string, newP *compiler.Policy,
	opts planOptions, finish func(*plan.Plan)) error {
	probes := testProbes(oldP, newP)
	if opts.requests != "" {
		more, err := readRequests(opts.requests, opts.live)
		if err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
			return exitCode(1)
		}
		probes = append(probes, more...)
	}
	p, err := plan.Build(oldName, oldP.Graph, newName, newP.Graph, probes)
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
		return exitCode(1)
	}
	if finish != nil {
		finish(p)
	}
	if opts.asJSON {
		err = plan.RenderJSON(cmd.OutOrStdout(), p)
	} else {
		err = plan.RenderHuman(cmd.OutOrStdout(), p, plan.RenderOptions{Color: !opts.noColor && colorOutput(cmd)})
	}
	if err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	if !p.Empty() {
		return exitCode(2)
	}
	return nil
}

// testProbes turns the test blocks of both policies into sample requests.
// A test both policies have with the same request is decided once; the new
// policy's position is shown.
func testProbes(oldP, newP *compiler.Policy) []plan.Probe {
	var probes []plan.Probe
	seen := make(map[string]bool)
	for _, p := range []*compiler.Policy{newP, oldP} {
		for _, t := range p.Tests {
			key := t.Name + "\x00" + requestKey(t.Request)
			if seen[key] {
				continue
			}
			seen[key] = true
			probes = append(probes, fieldsProbe(t.Name, "test", t.Pos, t.Request))
		}
	}
	return probes
}

func requestKey(f compiler.RequestFields) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// fieldsProbe builds a probe from request fields; Build parses them anew
// for each graph, so a decision never sees another's rewrites.
func fieldsProbe(name, origin string, pos graph.Pos, f compiler.RequestFields) plan.Probe {
	summary := f.Method + " " + f.RURI
	if req, _, err := f.Request(); err == nil {
		summary = requestSummary(req)
	}
	return plan.Probe{Name: name, Origin: origin, Pos: pos, Summary: summary, Build: f.Request}
}

// readRequests reads a JSON Lines file of request fields. Blank lines and
// lines starting with # are skipped; an unknown field or a request that
// does not parse is an error naming file:line.
func readRequests(path string, live []string) ([]plan.Probe, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading requests: %w", err)
	}
	var probes []plan.Probe
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		var f compiler.RequestFields
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		f.Registered = append(f.Registered, live...)
		if _, _, err := f.Request(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		name := fmt.Sprintf("%s:%d", path, line)
		probes = append(probes, fieldsProbe(name, "requests", graph.Pos{}, f))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading requests: %w", err)
	}
	return probes, nil
}
