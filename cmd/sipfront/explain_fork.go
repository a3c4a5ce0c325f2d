package main

import (
	"fmt"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/compiler/plan"
)

// explainFork is how a call to a registered user rings: the fork mode, its
// timeout and the contacts group by group, in order.
type explainFork struct {
	Mode    string            `json:"mode"`
	Timeout string            `json:"timeout,omitempty"`
	Groups  [][]graph.Contact `json:"groups"`
	// Unknown says the state names the user as registered without listing
	// contacts (a plain registered = ["alice"]).
	Unknown bool `json:"contacts_unknown,omitempty"`
}

// forkOf explains the fork of a decision relayed to the registrar; nil for
// any other decision.
func forkOf(d graph.Decision, req *graph.Request, st graph.State) *explainFork {
	if d.Action != graph.ActionRelay || d.Route == nil || d.Route.Target != graph.TargetRegistrar {
		return nil
	}
	f := &explainFork{Mode: string(d.Route.Fork)}
	if d.Route.ForkTimeout > 0 {
		f.Timeout = plan.FormatDuration(d.Route.ForkTimeout)
	}
	cl, ok := st.(graph.ContactLister)
	var contacts []graph.Contact
	if ok {
		contacts = cl.ContactsOf(req.RURI.User)
	}
	f.Groups = graph.ForkGroups(d.Route, contacts)
	f.Unknown = len(contacts) == 0 && st.Registered(req.RURI.User)
	return f
}

// writeFork renders the contacts a fork rings and why in that order.
func writeFork(b *strings.Builder, f *explainFork) {
	if f == nil {
		return
	}
	fmt.Fprintf(b, "\nFork (%s", f.Mode)
	if f.Timeout != "" {
		fmt.Fprintf(b, ", fork_timeout %s", f.Timeout)
	}
	b.WriteString(")\n")
	switch {
	case f.Unknown:
		b.WriteString("  the user is registered, but no contacts are named (registered = [\"USER=CONTACT;q=Q\"] lists them)\n")
		return
	case len(f.Groups) == 0:
		b.WriteString("  no contact registered: 480 Temporarily Unavailable\n")
		return
	}
	why := "all contacts ring at once; the first 2xx wins and the others are cancelled"
	if f.Mode == string(graph.ForkSerial) {
		why = "by q, highest first; equal q rings together; each group rings until fork_timeout, then the next"
	}
	fmt.Fprintf(b, "  %s\n", why)
	for i, g := range f.Groups {
		for _, c := range g {
			src := ""
			if c.Source != "" {
				src = " via " + c.Source
			}
			fmt.Fprintf(b, "  %d. %s q=%s%s\n", i+1, c.URI, c.QText(), src)
		}
	}
}
