package lang

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// CarrierPrefix is one row of a carrier's prefixes_file: a number prefix
// and an optional priority that overrides the carrier's for that prefix
// (the "rate" of a rates table: lower is cheaper, tried first).
type CarrierPrefix struct {
	Prefix string
	// Priority is -1 when the row leaves it to the carrier.
	Priority int32
	// Line is the row's line in the file, for diagnostics and plan.
	Line int32
}

// maxCarrierPrefixErrors bounds the diagnostics of one prefixes file, so
// that a wrong file of a million rows does not print a million errors.
const maxCarrierPrefixErrors = 20

// readCarrierPrefixes reads a carrier's prefixes file: one
// "prefix[,priority]" row per line, # comments, blank lines and a header
// row skipped. It is a dedicated reader rather than readCSV because these
// tables reach millions of rows: it keeps one small struct per row (the
// prefix is a slice of the file's bytes) and builds source ranges only
// for the rows it reports.
func (l *loader) readCarrierPrefixes(file Value[string]) ([]CarrierPrefix, hcl.Diagnostics) {
	name, data, diags := l.readTable(file)
	if diags.HasErrors() {
		return nil, diags
	}
	r := prefixReader{name: name, data: string(data), seen: make(map[string]int32, bytes.Count(data, []byte{'\n'})+1)}
	r.read()
	if n := len(r.diags); n >= maxCarrierPrefixErrors {
		r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Too Many Errors In CSV File",
			Detail: fmt.Sprintf("%s has more wrong rows than the %d reported; fix these and validate again.", filepath.Base(name), n), Subject: file.Range.Ptr()})
	}
	return r.rows, r.diags
}

// prefixReader is the state of reading one prefixes file.
type prefixReader struct {
	name  string
	data  string
	rows  []CarrierPrefix
	seen  map[string]int32
	diags hcl.Diagnostics
}

func (r *prefixReader) read() {
	first := true
	for line, off := int32(1), 0; off < len(r.data); line++ {
		n := strings.IndexByte(r.data[off:], '\n')
		if n < 0 {
			n = len(r.data) - off
		}
		r.row(line, off, r.data[off:off+n], &first)
		if len(r.diags) >= maxCarrierPrefixErrors {
			return
		}
		off += n + 1
	}
}

// row decodes one line that starts at byte off.
func (r *prefixReader) row(line int32, off int, text string, first *bool) {
	text, lead := trimRow(text)
	if text == "" || text[0] == '#' {
		return
	}
	col := lead + 1
	prefix, prio, hasPrio := text, "", false
	if i := strings.IndexByte(text, ','); i >= 0 {
		prefix, prio, hasPrio = trimField(text[:i]), trimField(text[i+1:]), true
	}
	if *first {
		*first = false
		if prefix == "prefix" && (!hasPrio || prio == "priority") {
			return
		}
	}
	row := CarrierPrefix{Prefix: prefix, Priority: -1, Line: line}
	if !IsNumberPrefix(prefix) {
		r.diag(line, off+lead, col, len(prefix), "Invalid Prefix",
			fmt.Sprintf("%q is not a number prefix. Write digits with an optional leading +, such as +1555, then an optional priority: +1555,2.", prefix))
		return
	}
	if hasPrio && prio != "" {
		n, err := strconv.ParseInt(prio, 10, 32)
		if err != nil || n < 0 {
			pc := strings.IndexByte(text, ',') + 1
			r.diag(line, off+lead+pc, col+pc, len(text)-pc, "Invalid Priority",
				fmt.Sprintf("%q is not a priority. Write a whole number, 0 or more (lower is tried first), or leave it empty for the carrier's priority.", prio))
			return
		}
		row.Priority = int32(n)
	}
	if prev, dup := r.seen[prefix]; dup {
		r.diag(line, off+lead, col, len(prefix), "Duplicate Prefix",
			fmt.Sprintf("%s is already in this file on line %d. Keep one row per prefix.", prefix, prev))
		return
	}
	r.seen[prefix] = line
	r.rows = append(r.rows, row)
}

func (r *prefixReader) diag(line int32, b, col, n int, summary, detail string) {
	n = max(n, 1)
	rng := hcl.Range{Filename: r.name,
		Start: hcl.Pos{Line: int(line), Column: col, Byte: b},
		End:   hcl.Pos{Line: int(line), Column: col + n, Byte: b + n}}
	r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &rng})
}

// trimRow trims spaces, tabs and a trailing \r, and returns how many bytes
// were trimmed in front.
func trimRow(s string) (string, int) {
	lead := 0
	for lead < len(s) && (s[lead] == ' ' || s[lead] == '\t') {
		lead++
	}
	s = s[lead:]
	return trimField(s), lead
}

func trimField(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
