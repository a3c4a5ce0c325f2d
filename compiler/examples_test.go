package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestExamples loads every directory under examples/ and requires a clean
// compile (no errors, no warnings) and every test block passing.
func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob("../examples/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p, diags := Load(dir)
			if len(diags) > 0 {
				t.Fatalf("diagnostics:\n%s", render(p.Files, diags))
			}
			if min := minTests[filepath.Base(dir)]; len(p.Tests) < max(min, 1) {
				t.Errorf("%d test blocks, want at least %d", len(p.Tests), max(min, 1))
			}
			for _, tc := range p.Tests {
				if r := RunTest(p.Graph, tc); !r.Passed() {
					t.Errorf("test %q (%s:%d) failed: %s", tc.Name, tc.Pos.File, tc.Pos.Line, strings.Join(r.Failures, "; "))
				}
			}
		})
	}
}

// minTests is the least number of test blocks an example must have; every
// example has at least one.
var minTests = map[string]int{"asterisk-platform": 10}

// render prints diagnostics as `sipfront validate` does, for test output.
func render(files map[string]*hcl.File, diags hcl.Diagnostics) string {
	var b strings.Builder
	w := hcl.NewDiagnosticTextWriter(&b, files, 100, false)
	_ = w.WriteDiagnostics(diags)
	return b.String()
}
