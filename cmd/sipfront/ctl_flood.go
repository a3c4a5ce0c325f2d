package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/runtime/admin"
)

// ctlFlood lists the flood table and, with its clear subcommand, unblocks
// one source or all (as Kamailio's pike.top and OpenSIPS' pike_list).
func ctlFlood(o *ctlOptions) *cobra.Command {
	var blocked bool
	cmd := &cobra.Command{
		Use: "flood", Short: "List the sources flood control tracks (--blocked: blocked ones only)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, "GET", admin.FloodPath(blocked), nil, renderFlood)
		},
	}
	cmd.Flags().BoolVar(&blocked, "blocked", false, "only the blocked sources")
	cmd.AddCommand(&cobra.Command{
		Use: "clear [IP]", Short: "Unblock one source, or every source without IP", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ip := ""
			if len(args) == 1 {
				ip = args[0]
			}
			return o.run(cmd, "POST", admin.FloodClearPath(ip), nil, renderFloodCleared)
		},
	})
	return cmd
}

func renderFlood(w io.Writer, data json.RawMessage) error {
	var f admin.Flood
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if !f.Enabled {
		_, err := fmt.Fprintln(w, "flood control is off (the policy has no flood block)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SOURCE\tRATE\tBLOCKED UNTIL\tDROPPED\tLAST SEEN\n")
	for _, e := range f.Entries {
		until := "-"
		if e.BlockedUntil != nil {
			until = e.BlockedUntil.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", e.IP, e.Rate, until, e.Dropped, e.LastSeen.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "(%d of at most %d sources)\n", len(f.Entries), f.Capacity)
	return tw.Flush()
}

func renderFloodCleared(w io.Writer, data json.RawMessage) error {
	var c admin.FloodCleared
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "cleared %d\n", c.Cleared)
	return err
}
