package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler"
)

func newValidateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate PATH [-json]",
		Short: "Check a policy: syntax, references, CEL conditions, values, CSV tables",
		Long: `Load and compile a policy (a directory of .hcl files, or one file) exactly as
serve would, without binding any socket, and report every problem at once.

Each diagnostic prints as

  path:line:col: error: Summary; Detail
    the source line
    ^^^^^ under the offending part

Warnings (such as a route that can never be reached) print the same way with
"warning" but do not make validation fail.

With -json, stdout holds a JSON array of diagnostics, each
{severity, summary, detail, range {filename, start {line, column, byte}, end}}
([] for a clean policy) and nothing is printed to stderr.

Exit codes: 0 valid (warnings allowed), 1 errors.`,
		Example: `  sipfront validate examples/asterisk-platform
  sipfront validate -json policy.hcl | jq '.[] | select(.severity == "error")'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return validateJSON(cmd, args[0])
			}
			p, err := loadPolicy(cmd, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid (%s)\n", args[0], policyStats(p))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print diagnostics as a JSON array on stdout")
	return cmd
}

func init() { rootCmd.AddCommand(newValidateCmd()) }

func validateJSON(cmd *cobra.Command, path string) error {
	p, diags := compiler.Load(path)
	if err := writeJSON(cmd.OutOrStdout(), toJSONDiagnostics(diags)); err != nil {
		return err
	}
	if diags.HasErrors() || p.Graph == nil {
		return exitCode(1)
	}
	return nil
}

// policyStats summarises what a valid policy holds, so that a reviewer sees
// at a glance that the directory they pointed at is the one they meant.
func policyStats(p *compiler.Policy) string {
	g := p.Graph
	members := 0
	for _, pool := range g.Pools {
		members += len(pool.Members)
	}
	return fmt.Sprintf("%s, %s with %s, %s, %s, %s",
		count(len(g.Filters), "filter"), count(len(g.Pools), "pool"), count(members, "member"),
		count(len(g.Carriers), "carrier"), count(len(g.Routes), "route"), count(len(p.Tests), "test"))
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
