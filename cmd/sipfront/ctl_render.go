package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sipfront/sipfront/runtime/admin"
)

// decodeInto is the first step of every renderer.
func decodeInto(data json.RawMessage, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("unexpected answer from the admin API: %w", err)
	}
	return nil
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

func renderStatus(w io.Writer, data json.RawMessage) error {
	var s admin.Status
	if err := decodeInto(data, &s); err != nil {
		return err
	}
	tw := table(w)
	fmt.Fprintf(tw, "Policy\t%s\n", s.Hash)
	fmt.Fprintf(tw, "Uptime\t%s (since %s)\n", (time.Duration(s.UptimeSeconds) * time.Second).String(), s.Started.Format(time.RFC3339))
	fmt.Fprintf(tw, "Pools\t%d\n", s.Pools)
	fmt.Fprintf(tw, "Members\t%d (%d up, %d down, %d disabled or draining)\n", s.Members, s.MembersUp, s.MembersDown, s.MembersOut)
	fmt.Fprintf(tw, "Active calls\t%d\n", s.ActiveCalls)
	fmt.Fprintf(tw, "Overrides\t%d\n", s.Overrides)
	fmt.Fprintf(tw, "Filters/routes/carriers\t%d/%d/%d\n", s.Filters, s.Routes, s.Carriers)
	return tw.Flush()
}

func renderPools(w io.Writer, data json.RawMessage) error {
	var p admin.Pools
	if err := decodeInto(data, &p); err != nil {
		return err
	}
	tw := table(w)
	fmt.Fprintln(tw, "POOL\tMEMBER\tHEALTH\tMODE\tWEIGHT\tCALLS\tFREE\tPROBE\tNOTE")
	for _, pool := range p.Pools {
		for _, m := range pool.Members {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", pool.Name, m.ID, health(m), mode(m),
				weight(m), m.ActiveCalls, kv(m.Free), probeText(m), m.DownReason)
		}
	}
	for _, m := range p.Removed {
		fmt.Fprintf(tw, "-\t%s\t%s\t%s\t-\t%d\t-\t-\tremoved by the policy, calls continue\n", m.ID, health(m), mode(m), m.ActiveCalls)
	}
	return tw.Flush()
}

func health(m admin.MemberView) string {
	if m.Up {
		return "up"
	}
	return "DOWN"
}

func mode(m admin.MemberView) string {
	if m.Drained {
		return string(m.Mode) + " (drained)"
	}
	return string(m.Mode)
}

// weight shows the effective weight and, when overridden, the declared one.
func weight(m admin.MemberView) string {
	if m.Override != nil && m.Override.Weight != nil {
		return fmt.Sprintf("%d (declared %d)", m.Weight, m.Declared.Weight)
	}
	return fmt.Sprint(m.Weight)
}

func probeText(m admin.MemberView) string {
	switch {
	case m.Probe == nil:
		return "-"
	case m.Probe.Code == 0:
		return "no answer"
	}
	return fmt.Sprint(m.Probe.Code)
}

func kv(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, ",")
}

func renderCalls(w io.Writer, data json.RawMessage) error {
	var c admin.Calls
	if err := decodeInto(data, &c); err != nil {
		return err
	}
	tw := table(w)
	fmt.Fprintln(tw, "CALL-ID\tMEMBER\tCALLER\tCALLEE\tSTATE\tDURATION")
	now := time.Now()
	for _, d := range c.Calls {
		st := "early"
		if d.Established {
			st = "established"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.CallID, d.Member, d.Caller, d.Callee, st,
			now.Sub(d.Started).Truncate(time.Second))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d active %s\n", len(c.Calls), ctlPlural(len(c.Calls), "call", "calls"))
	return err
}

func renderOverrides(w io.Writer, data json.RawMessage) error {
	var o admin.Overrides
	if err := decodeInto(data, &o); err != nil {
		return err
	}
	if len(o.Overrides) == 0 {
		_, err := fmt.Fprintln(w, "No runtime overrides: every member runs as the policy declares.")
		return err
	}
	tw := table(w)
	fmt.Fprintln(tw, "MEMBER\tMODE\tWEIGHT\tCAPACITY\tIN POLICY")
	for _, v := range o.Overrides {
		wt := "-"
		if v.Weight != nil {
			wt = fmt.Sprint(*v.Weight)
		}
		in := "yes"
		if !v.Declared {
			in = "no (waits for the member)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Member, v.Mode, wt, kv(v.Capacity), in)
	}
	return tw.Flush()
}

// renderMember confirms a member change with the member's new state.
func renderMember(w io.Writer, data json.RawMessage) error {
	var m admin.MemberView
	if err := decodeInto(data, &m); err != nil {
		return err
	}
	line := fmt.Sprintf("%s: %s, %s, weight %s, %d active %s", m.ID, mode(m), health(m), weight(m),
		m.ActiveCalls, ctlPlural(m.ActiveCalls, "call", "calls"))
	if len(m.Free) > 0 {
		line += ", free " + kv(m.Free)
	}
	if m.Override == nil {
		line += " (no override)"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

func renderReload(w io.Writer, data json.RawMessage) error {
	var r admin.Reloaded
	if err := decodeInto(data, &r); err != nil {
		return err
	}
	if !r.Changed {
		_, err := fmt.Fprintf(w, "Reloaded: policy %s unchanged.\n", r.Hash)
		return err
	}
	_, err := fmt.Fprintf(w, "Reloaded: policy %s (was %s).\n", r.Hash, r.Previous)
	return err
}

func ctlPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
