package compiler

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestInvalid compiles every policy under testdata/invalid (a .hcl file or
// a directory) and compares its diagnostics with the markers written in it:
//
//	reply = 200 # ERROR 11: Invalid Status Code
//
// asserts an error whose summary contains "Invalid Status Code" at column
// 11 of the marker's own line, and
//
//	# ERROR bad.csv:3:5: Invalid Prefix
//
// one in another file (CSV files cannot hold markers on their rows).
// WARNING works the same. Every diagnostic must be claimed by a marker.
func TestInvalid(t *testing.T) {
	cases, err := filepath.Glob("../testdata/invalid/*")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range cases {
		if filepath.Ext(path) == ".csv" {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Setenv("SIPFRONT_TEST_SECRET", "s3cret")
			want := readMarkers(t, path)
			if len(want) == 0 {
				t.Fatal("no ERROR or WARNING markers")
			}
			p, diags := Load(path)
			got := make([]diagKey, len(diags))
			for i, d := range diags {
				got[i] = keyOf(d)
			}
			matchMarkers(t, want, got)
			if t.Failed() {
				t.Logf("rendered:\n%s", render(p.Files, diags))
			}
		})
	}
}

type diagKey struct {
	severity string
	file     string // base name
	line     int
	col      int
	summary  string
}

func (k diagKey) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", k.file, k.line, k.col, k.severity, k.summary)
}

func keyOf(d *hcl.Diagnostic) diagKey {
	k := diagKey{severity: "ERROR", summary: d.Summary}
	if d.Severity == hcl.DiagWarning {
		k.severity = "WARNING"
	}
	if d.Subject != nil {
		k.file, k.line, k.col = filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column
	}
	return k
}

var markerRE = regexp.MustCompile(`#\s*(ERROR|WARNING)\s+(?:([^\s:]+):(\d+):)?(\d+):\s*(.+?)\s*$`)

// readMarkers collects the markers of every .hcl file of path.
func readMarkers(t *testing.T, path string) []diagKey {
	files := []string{path}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		files, _ = filepath.Glob(filepath.Join(path, "*.hcl"))
	}
	var out []diagKey
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for line := 1; sc.Scan(); line++ {
			m := markerRE.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			k := diagKey{severity: m[1], file: filepath.Base(f), line: line, summary: m[5]}
			if m[2] != "" {
				k.file = m[2]
				k.line, _ = strconv.Atoi(m[3])
			}
			k.col, _ = strconv.Atoi(m[4])
			out = append(out, k)
		}
		fh.Close()
	}
	return out
}

// matchMarkers pairs each marker with one diagnostic at the same place
// whose summary contains the marker's text, and reports leftovers.
func matchMarkers(t *testing.T, want, got []diagKey) {
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if !used[i] && g.severity == w.severity && g.file == w.file && g.line == w.line &&
				g.col == w.col && strings.Contains(g.summary, w.summary) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing diagnostic %s", w)
		}
	}
	var extra []string
	for i, g := range got {
		if !used[i] {
			extra = append(extra, g.String())
		}
	}
	sort.Strings(extra)
	for _, e := range extra {
		t.Errorf("unexpected diagnostic %s", e)
	}
}
