package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sipfront/sipfront/runtime/admin"
	"github.com/sipfront/sipfront/runtime/carrier"
)

func renderCarriers(w io.Writer, data json.RawMessage) error {
	var cs admin.Carriers
	if err := decodeInto(data, &cs); err != nil {
		return err
	}
	tw := table(w)
	fmt.Fprintln(tw, "CARRIER\tHEALTH\tMODE\tCALLS\tCPS\tQUALITY\tASR\tPDD\tATTEMPTS\tANSWERED\tSKIPPED")
	for _, c := range cs.Carriers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", c.ID, carrierHealth(c), c.Mode,
			ofLimit(c.ActiveCalls, c.LimitCalls), ofLimit(c.CPS, c.LimitCPS), c.Quality,
			asrText(c.Window), pddText(c.Window), c.Attempts, c.Answered, skippedText(c.Skipped))
	}
	return tw.Flush()
}

func renderCarrier(w io.Writer, data json.RawMessage) error {
	var c carrier.Status
	if err := decodeInto(data, &c); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s: %s, %s, %s calls\n", c.ID, c.Mode, carrierHealth(c), ofLimit(c.ActiveCalls, c.LimitCalls))
	return err
}

func carrierHealth(c carrier.Status) string {
	if c.Up {
		return "up"
	}
	return "DOWN " + c.DownReason
}

// ofLimit prints "n/limit", or n when unlimited.
func ofLimit(n, limit int) string {
	if limit == 0 {
		return strconv.Itoa(n)
	}
	return fmt.Sprintf("%d/%d", n, limit)
}

func asrText(f carrier.Figures) string {
	if f.Attempts == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%% of %d", 100*f.ASR, f.Attempts)
}

func pddText(f carrier.Figures) string {
	if f.PDD == 0 {
		return "-"
	}
	return f.PDD.Round(time.Millisecond).String()
}

func skippedText(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
