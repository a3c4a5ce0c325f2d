package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/sipfront/sipfront/internal/simpbx"
	"github.com/sipfront/sipfront/runtime/state"
)

// placeCalls places the calls one after another, prints a row per call and
// returns how many did not get the expected result.
func (d *demo) placeCalls(ctx context.Context, n int) int {
	caller, err := simpbx.NewCaller(d.proxy, nil)
	if err != nil {
		fmt.Fprintln(d.out, "demo:", err)
		return n
	}
	defer caller.Close()
	preview := state.New()
	preview.Attach(d.graph)
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CALL\tFROM\tTO\tDECIDED BY\tBOX\tRESULT")
	failed := 0
	for i := 1; i <= n && ctx.Err() == nil; i++ {
		call, wantAnswer := demoCall(i)
		route := d.previewRoute(call, preview)
		before := d.snapshot()
		res, ok := d.place(ctx, caller, call, wantAnswer)
		if !ok {
			failed++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i, call.From, call.To, route, d.boxesTried(before), res)
	}
	tw.Flush()
	if ctx.Err() != nil {
		failed++
	}
	return failed
}

// place makes one call and hangs up; it returns the result text and
// whether it is what the call expected (answered, or dropped).
func (d *demo) place(ctx context.Context, caller *simpbx.Caller, call simpbx.Call, wantAnswer bool) (string, bool) {
	dlg, err := caller.Dial(ctx, call)
	var se *simpbx.StatusError
	switch {
	case err == nil:
		if herr := dlg.Hangup(ctx); herr != nil {
			return "200 OK, but BYE failed: " + herr.Error(), false
		}
		return "200 OK, BYE 200", wantAnswer
	case errors.Is(err, simpbx.ErrNoAnswer):
		if !wantAnswer {
			return "dropped (expected)", true
		}
		return "no answer", false
	case errors.As(err, &se):
		return fmt.Sprintf("%d %s", se.Status, se.Reason), false
	default:
		return "error: " + err.Error(), false
	}
}

// snapshot returns each box's counters.
func (d *demo) snapshot() []simpbx.Stats {
	out := make([]simpbx.Stats, len(d.boxes))
	for i, b := range d.boxes {
		out[i] = b.Stats()
	}
	return out
}

// boxesTried lists the boxes that got an INVITE since before, in order,
// with what each answered: "ast2 503 -> ast3".
func (d *demo) boxesTried(before []simpbx.Stats) string {
	var parts []string
	for i, b := range d.boxes {
		now := b.Stats()
		switch {
		case now.Rejected > before[i].Rejected:
			parts = append([]string{b.Name() + " 503"}, parts...) // a refusal came first
		case now.Answered > before[i].Answered:
			parts = append(parts, b.Name())
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " -> ")
}

// summary prints the per-box counts and the proxy's warnings.
func (d *demo) summary() {
	fmt.Fprintln(d.out, "\nper box:")
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BOX\tINVITES\tANSWERED\tREJECTED 503\tBYES")
	for _, b := range d.boxes {
		s := b.Stats()
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", b.Name(), s.Invites, s.Answered, s.Rejected, s.Byes)
	}
	tw.Flush()
	if log := strings.TrimSpace(d.log.String()); log != "" {
		fmt.Fprintf(d.out, "\nproxy log (warnings):\n%s\n", log)
	}
}
