package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestValidateExample(t *testing.T) {
	stdout, stderr, code := cliRun(t, "validate", "../../examples/asterisk-platform")
	if code != 0 || !strings.Contains(stdout, ": valid (") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	stdout, _, code = cliRun(t, "validate", "-json", "../../examples/asterisk-platform")
	if code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("-json on a valid policy: exit %d, stdout %q; want 0 and []", code, stdout)
	}
}

// TestValidateBroken checks the rendered diagnostics of a policy with an
// error of each kind (CEL syntax, dangling reference) and a warning:
// file:line:col, the source line and the caret.
func TestValidateBroken(t *testing.T) {
	const dir = "testdata/validate/broken"
	stdout, stderr, code := cliRun(t, "validate", dir)
	if code != 1 || stdout != "" {
		t.Errorf("exit %d, stdout %q; want 1 and nothing", code, stdout)
	}
	for _, want := range []string{
		"testdata/validate/broken/policy.hcl:24:9: error: ",
		"  \tto   = pool.asterix\n  \t       ^^^^^^^^^^^^\n",
		"testdata/validate/broken/policy.hcl:22:7: warning: ",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	checkGolden(t, dir+".golden", stderr)

	stdout, stderr, code = cliRun(t, "validate", "-json", dir)
	if code != 1 || stderr != "" {
		t.Errorf("-json: exit %d, stderr %q", code, stderr)
	}
	var diags []jsonDiagnostic
	if err := json.Unmarshal([]byte(stdout), &diags); err != nil {
		t.Fatalf("-json output: %v\n%s", err, stdout)
	}
	var found bool
	for _, d := range diags {
		if d.Severity == "error" && d.Range != nil && d.Range.Start.Line == 24 && d.Range.Start.Column == 9 && d.Range.End.Column == 21 {
			found = true
		}
	}
	if !found {
		t.Errorf("-json lacks the error at 24:9-21:\n%s", stdout)
	}
	checkGolden(t, dir+".json.golden", stdout)
}

func TestSnippet(t *testing.T) {
	files := map[string]*hcl.File{"p.hcl": {Bytes: []byte("a {\n\tb = x.y\n  c = \"long\n  text\"\n}\n")}}
	rng := func(l1, c1, l2, c2 int) hcl.Range {
		return hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: l1, Column: c1}, End: hcl.Pos{Line: l2, Column: c2}}
	}
	cases := []struct {
		r    hcl.Range
		want string
	}{
		{rng(2, 6, 2, 9), "  \tb = x.y\n  \t    ^^^\n"},
		{rng(3, 7, 4, 8), "    c = \"long\n        ^^^^^\n"},
		{rng(2, 6, 2, 6), "  \tb = x.y\n  \t    ^\n"},
		{rng(9, 1, 9, 2), ""},
		{hcl.Range{Filename: "other.hcl", Start: hcl.Pos{Line: 1, Column: 1}}, ""},
	}
	for _, c := range cases {
		if got := snippet(files, c.r); got != c.want {
			t.Errorf("snippet(%v) = %q, want %q", c.r, got, c.want)
		}
	}
	d := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unreachable Route", Detail: "Move it.", Subject: &hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: 3, Column: 2}}}
	if got := diagnosticLine(d); got != "p.hcl:3:2: warning: Unreachable Route; Move it." {
		t.Errorf("diagnosticLine = %q", got)
	}
	if got := diagnosticLine(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot Read Policy"}); got != "error: Cannot Read Policy" {
		t.Errorf("diagnosticLine without range = %q", got)
	}
}
