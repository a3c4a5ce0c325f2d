package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/runtime/admin"
)

func ctlUnblock(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use: "unblock KEY", Short: "Lift an auth throttle block: a source address or a digest user", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, "DELETE", admin.ThrottlePath(args[0]), nil, renderUnblocked)
		},
	}
}

// renderThrottle prints one row per source or user with failed answers
// in the window, per auth stage.
func renderThrottle(w io.Writer, data json.RawMessage) error {
	var t admin.ThrottleTable
	if err := decodeInto(data, &t); err != nil {
		return err
	}
	if len(t.Stages) == 0 {
		_, err := fmt.Fprintln(w, "No auth stage is served.")
		return err
	}
	tw := table(w)
	fmt.Fprintln(tw, "AUTH\tKIND\tKEY\tFAILURES\tBLOCKED UNTIL")
	for _, s := range t.Stages {
		if len(s.Entries) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\tnothing counted (limit %d failures in %s, block %s)\n", s.Auth, s.MaxFailures, s.Window, s.Block)
		}
		for _, e := range s.Entries {
			until := "-"
			if !e.BlockedUntil.IsZero() {
				until = e.BlockedUntil.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\n", s.Auth, e.Kind, e.Key, e.Failures, s.MaxFailures, until)
		}
	}
	return tw.Flush()
}

func renderUnblocked(w io.Writer, data json.RawMessage) error {
	var u admin.Unblocked
	if err := decodeInto(data, &u); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s cleared from %d auth stage(s).\n", u.Key, len(u.Stages))
	return err
}
