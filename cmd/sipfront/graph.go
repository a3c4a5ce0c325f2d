package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler/plan"
)

func newGraphCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "graph PATH [--format dot|json]",
		Short: "Print the compiled decision graph as Graphviz DOT or JSON",
		Long: `Compile a policy and print its decision graph.

--format dot (the default) writes Graphviz DOT: the stages a request meets
are drawn as boxes in order (filters, auth, aliases, routes, targets), the
first-match-wins chains as "else" edges, and each edge is labelled with the
(shortened) condition that guards it. Pools are drawn with their members,
carriers behind the least-cost-routing node.

--format json writes every node with its canonical attributes, the same
view that plan compares.

Exit codes: 0 printed, 1 the policy does not compile.`,
		Example: `  sipfront graph examples/asterisk-platform | dot -Tsvg > graph.svg
  sipfront graph --format json examples/asterisk-platform | jq '.nodes[] | select(.kind == "member")'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "dot" && format != "json" {
				return fmt.Errorf("--format %q: want dot or json", format)
			}
			p, err := loadPolicy(cmd, args[0])
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), graphJSON{Hash: p.Graph.Hash, Nodes: plan.Nodes(p.Graph)})
			}
			return writeDOT(cmd.OutOrStdout(), p.Graph)
		},
	}
	cmd.Flags().StringVar(&format, "format", "dot", "output format: dot or json")
	return cmd
}

func init() { rootCmd.AddCommand(newGraphCmd()) }
