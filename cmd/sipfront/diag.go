package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// writeDiagnostics renders diags the way compilers do, one per block:
//
//	policy.hcl:12:10: error: Unknown Pool; Detail sentence.
//	  to = pool.asterix
//	       ^^^^^^^^^^^^
//
// files supplies the source lines (hcl and CSV files alike); a diagnostic
// without a range, or whose file is unknown, prints without a snippet.
func writeDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	var buf bytes.Buffer
	for _, d := range diags {
		buf.WriteString(diagnosticLine(d))
		buf.WriteByte('\n')
		if d.Subject != nil {
			buf.WriteString(snippet(files, *d.Subject))
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// diagnosticLine is the first line of a rendered diagnostic.
func diagnosticLine(d *hcl.Diagnostic) string {
	var b strings.Builder
	if d.Subject != nil {
		fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
	}
	b.WriteString(severityName(d.Severity))
	b.WriteString(": ")
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString("; ")
		b.WriteString(d.Detail)
	}
	return b.String()
}

func severityName(s hcl.DiagnosticSeverity) string {
	if s == hcl.DiagWarning {
		return "warning"
	}
	return "error"
}

// snippet returns the source line of rng, indented, and a caret line under
// the range (clipped to that line, at least one caret). Tabs before the
// range are kept so the caret lines up in a terminal.
func snippet(files map[string]*hcl.File, rng hcl.Range) string {
	f := files[rng.Filename]
	if f == nil || rng.Start.Line < 1 {
		return ""
	}
	lines := strings.Split(string(f.Bytes), "\n")
	if rng.Start.Line > len(lines) {
		return ""
	}
	line := strings.TrimRight(lines[rng.Start.Line-1], "\r")
	startCol := min(max(rng.Start.Column-1, 0), len(line))
	width := 1
	if rng.End.Line == rng.Start.Line && rng.End.Column > rng.Start.Column {
		width = rng.End.Column - rng.Start.Column
	} else if rng.End.Line > rng.Start.Line {
		width = max(len([]rune(line[startCol:])), 1)
	}
	var pad strings.Builder
	for _, r := range line[:startCol] {
		if r == '\t' {
			pad.WriteRune('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return "  " + line + "\n  " + pad.String() + strings.Repeat("^", width) + "\n"
}

// jsonDiagnostic is the machine form of a diagnostic (validate -json).
type jsonDiagnostic struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail"`
	Range    *jsonRange `json:"range,omitempty"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// toJSONDiagnostics converts diags; the result is never nil so that it
// encodes as [] when there is nothing to report.
func toJSONDiagnostics(diags hcl.Diagnostics) []jsonDiagnostic {
	out := make([]jsonDiagnostic, 0, len(diags))
	for _, d := range diags {
		jd := jsonDiagnostic{Severity: severityName(d.Severity), Summary: d.Summary, Detail: d.Detail}
		if s := d.Subject; s != nil {
			jd.Range = &jsonRange{
				Filename: s.Filename,
				Start:    jsonPos{Line: s.Start.Line, Column: s.Start.Column, Byte: s.Start.Byte},
				End:      jsonPos{Line: s.End.Line, Column: s.End.Column, Byte: s.End.Byte},
			}
		}
		out = append(out, jd)
	}
	return out
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding json: %w", err)
	}
	return nil
}
