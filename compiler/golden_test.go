package compiler

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/compile")

// TestGoldenDiagnostics renders the diagnostics of every testdata/invalid
// case as `sipfront validate` prints them and compares the text, details
// and "did you mean" suggestions included, with testdata/compile/CASE.golden.
// Run `go test ./compiler -run Golden -update` after a deliberate change.
func TestGoldenDiagnostics(t *testing.T) {
	cases, _ := filepath.Glob("../testdata/invalid/*")
	for _, path := range cases {
		if filepath.Ext(path) == ".csv" {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(path), ".hcl")
		t.Run(name, func(t *testing.T) {
			t.Setenv("SIPFRONT_TEST_SECRET", "s3cret")
			p, diags := Load(path)
			got := render(p.Files, diags)
			golden := filepath.Join("../testdata/compile", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("diagnostics differ from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}
