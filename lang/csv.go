package lang

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Field is one CSV field with its range in the CSV file.
type Field struct {
	Value string
	Range hcl.Range
}

// csvFile is a CSV file being read: its name in diagnostics and a line
// index to turn csv positions into hcl ranges.
type csvFile struct {
	name       string
	lineStarts []int
}

// readCSV reads the CSV file named by file (relative to the policy file),
// skipping comment lines (#), blank lines and a header row equal to
// columns. It returns the rows that have exactly len(columns) fields and
// reports the others at the row's line. name is the file's diagnostic name.
func (l *loader) readCSV(file Value[string], columns []string) (name string, rows [][]Field, diags hcl.Diagnostics) {
	return l.readCSVOptional(file, columns, len(columns))
}

// readCSVOptional is readCSV for files whose last columns may be left out:
// a row holds at least required and at most len(columns) fields.
func (l *loader) readCSVOptional(file Value[string], columns []string, required int) (name string, rows [][]Field, diags hcl.Diagnostics) {
	name, data, diags := l.readTable(file)
	if diags.HasErrors() {
		return name, nil, diags
	}
	cf := &csvFile{name: name, lineStarts: lineStarts(data)}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line, col := pe.Line, pe.Column
			if errors.Is(pe.Err, csv.ErrQuote) {
				line, col = pe.StartLine, 1 // an open quote runs to the end of the file
			}
			diags = append(diags, cf.diag(line, col, 1, "Invalid CSV Row",
				fmt.Sprintf("The row cannot be read: %s. Write one row per line as %s.", pe.Err, strings.Join(columns, ","))))
			continue
		}
		fields := cf.fields(r, rec)
		if first && isHeader(rec, columns) {
			continue
		}
		if len(rec) < required || len(rec) > len(columns) {
			line, col := r.FieldPos(0)
			diags = append(diags, cf.diag(line, col, len(strings.Join(rec, ",")), "Invalid CSV Row",
				fmt.Sprintf("This row has %d fields, but %s holds %s: %s.", len(rec), filepath.Base(name), columnCount(required, len(columns)), strings.Join(columns, ","))))
			continue
		}
		rows = append(rows, fields)
	}
	return name, rows, diags
}

// readTable reads the table file named by file (relative to the policy
// file) and registers it for diagnostics and the policy hash. name is the
// file's diagnostic name.
func (l *loader) readTable(file Value[string]) (name string, data []byte, diags hcl.Diagnostics) {
	name = file.Value
	if !filepath.IsAbs(name) {
		name = filepath.Join(l.dir, name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return name, nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot Read CSV File",
			Detail:   fmt.Sprintf("%s. The path is relative to the policy file; check the file name.", err),
			Subject:  file.Range.Ptr(),
		}}
	}
	if _, done := l.cfg.Files[name]; !done {
		l.cfg.Files[name] = &hcl.File{Bytes: data}
		l.addSource(name, data)
	}
	return name, data, nil
}

func (cf *csvFile) fields(r *csv.Reader, rec []string) []Field {
	out := make([]Field, len(rec))
	for i, v := range rec {
		line, col := r.FieldPos(i)
		v = strings.TrimSpace(v)
		out[i] = Field{Value: v, Range: cf.rangeAt(line, col, len(v))}
	}
	return out
}

func (cf *csvFile) rangeAt(line, col, n int) hcl.Range {
	b := 0
	if line-1 < len(cf.lineStarts) {
		b = cf.lineStarts[line-1] + col - 1
	}
	return hcl.Range{
		Filename: cf.name,
		Start:    hcl.Pos{Line: line, Column: col, Byte: b},
		End:      hcl.Pos{Line: line, Column: col + n, Byte: b + n},
	}
}

func (cf *csvFile) diag(line, col, n int, summary, detail string) *hcl.Diagnostic {
	rng := cf.rangeAt(line, max(col, 1), max(n, 1))
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &rng}
}

// fieldDiag reports a bad field of a row.
func fieldDiag(f Field, summary, detail string) *hcl.Diagnostic {
	rng := f.Range
	if rng.End.Byte == rng.Start.Byte {
		rng.End.Byte++
		rng.End.Column++
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &rng}
}

// columnCount says how many columns a file holds: "3 columns" or "3 or 4
// columns".
func columnCount(required, all int) string {
	if required == all {
		return fmt.Sprintf("%d columns", all)
	}
	return fmt.Sprintf("%d or %d columns", required, all)
}

func isHeader(rec, columns []string) bool {
	if len(rec) > len(columns) || len(rec) == 0 {
		return false
	}
	for i, c := range columns[:len(rec)] {
		if !strings.EqualFold(strings.TrimSpace(rec[i]), c) {
			return false
		}
	}
	return true
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}
