package graph

import (
	"net"
	"sort"
	"strconv"
)

// PrefixTable is a longest-prefix table mapping number prefixes to values
// (member names for a `prefixes` block). Lookup probes a map once per
// possible prefix length, longest first, which keeps a 100,000-row table
// cheap to build and lookups allocation-free.
type PrefixTable struct {
	ID   ID
	Name string
	Pos  Pos
	File string
	// Rows holds the table sorted by prefix, for plan and graph output.
	Rows []PrefixRow

	entries map[string]string
	maxLen  int
}

// PrefixRow is one row of a prefix table.
type PrefixRow struct {
	Prefix string
	Value  string
	// Line is the row's line in File.
	Line int
}

// NewPrefixTable indexes rows. Later rows with a duplicate prefix are the
// compiler's business to reject; here the last one wins.
func NewPrefixTable(id ID, name string, pos Pos, file string, rows []PrefixRow) *PrefixTable {
	t := &PrefixTable{ID: id, Name: name, Pos: pos, File: file, entries: make(map[string]string, len(rows))}
	t.Rows = append([]PrefixRow(nil), rows...)
	sort.SliceStable(t.Rows, func(i, j int) bool { return t.Rows[i].Prefix < t.Rows[j].Prefix })
	for _, r := range rows {
		t.entries[r.Prefix] = r.Value
		if len(r.Prefix) > t.maxLen {
			t.maxLen = len(r.Prefix)
		}
	}
	return t
}

// Lookup returns the value of the longest prefix of s in the table.
func (t *PrefixTable) Lookup(s string) (value, prefix string, ok bool) {
	n := min(len(s), t.maxLen)
	for ; n >= 0; n-- {
		if v, found := t.entries[s[:n]]; found {
			return v, s[:n], true
		}
	}
	return "", "", false
}

func joinHostPort(host string, port int) string {
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
