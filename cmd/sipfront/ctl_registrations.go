package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/runtime/admin"
)

// ctlRegistrations is `ctl registrations [USER]`: the registrar's live
// bindings, of one user when given.
func ctlRegistrations(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use: "registrations [USER]", Short: "List registered contacts (contact, source, expiry, user agent), of one user when given",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			user := ""
			if len(args) == 1 {
				user = args[0]
			}
			return o.run(cmd, "GET", admin.RegistrationsPath(user), nil, renderRegistrations)
		},
	}
}

func renderRegistrations(w io.Writer, data json.RawMessage) error {
	var l admin.RegistrationList
	if err := decodeInto(data, &l); err != nil {
		return err
	}
	tw := table(w)
	fmt.Fprintln(tw, "USER\tCONTACT\tQ\tSOURCE\tEXPIRES\tUSER-AGENT")
	for _, r := range l.Registrations {
		q := r.Q
		if q == "" {
			q = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s:%s\t%ds\t%s\n", r.User, r.Contact, q, r.Transport, r.Source, r.ExpiresIn, r.UserAgent)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d %s\n", len(l.Registrations), ctlPlural(len(l.Registrations), "binding", "bindings"))
	return err
}
