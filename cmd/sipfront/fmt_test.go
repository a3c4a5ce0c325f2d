package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFmtGolden formats every testdata/fmt/*.in.hcl and compares it with
// its .golden.hcl, then checks that formatting the golden file changes
// nothing (idempotence).
func TestFmtGolden(t *testing.T) {
	inputs, err := filepath.Glob("../../testdata/fmt/*.in.hcl")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no fmt cases: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.hcl")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, diags := formatHCL(src, in)
			if diags.HasErrors() {
				t.Fatalf("diagnostics: %v", diags)
			}
			if string(out) == string(src) {
				t.Errorf("input is already formatted; the case tests nothing")
			}
			golden := strings.TrimSuffix(in, ".in.hcl") + ".golden.hcl"
			checkGolden(t, golden, string(out))
			again, _ := formatHCL(out, golden)
			if string(again) != string(out) {
				t.Errorf("not idempotent:\n%s", unifiedDiff("once", "twice", string(out), string(again)))
			}
		})
	}
}

func TestFmtCommand(t *testing.T) {
	dir := t.TempDir()
	messy := "route \"x\" {\nto=pool.asterisk\n}\n"
	clean := "route \"x\" {\n  to = pool.asterisk\n}\n"
	writeFile(t, filepath.Join(dir, "a.hcl"), messy)
	writeFile(t, filepath.Join(dir, "b.hcl"), clean)
	writeFile(t, filepath.Join(dir, "notes.txt"), messy)

	stdout, _, code := cliRun(t, "fmt", "-check", dir)
	if code != 1 || stdout != filepath.Join(dir, "a.hcl")+"\n" {
		t.Errorf("-check: exit %d, stdout %q; want exit 1 listing a.hcl only", code, stdout)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.hcl")); string(got) != messy {
		t.Error("-check rewrote the file")
	}

	stdout, _, code = cliRun(t, "fmt", "-check", "-diff", dir)
	if code != 1 || !strings.Contains(stdout, "-to=pool.asterisk\n+  to = pool.asterisk\n") {
		t.Errorf("-diff: exit %d, stdout:\n%s", code, stdout)
	}

	if _, _, code = cliRun(t, "fmt", dir); code != 0 {
		t.Errorf("fmt: exit %d", code)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.hcl")); string(got) != clean {
		t.Errorf("fmt wrote %q, want %q", got, clean)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(got) != messy {
		t.Error("fmt touched a file that is not .hcl")
	}
	stdout, _, code = cliRun(t, "fmt", "-check", dir)
	if code != 0 || stdout != "" {
		t.Errorf("second -check: exit %d, stdout %q; want 0 and nothing", code, stdout)
	}
}

func TestFmtRefusesSyntaxErrors(t *testing.T) {
	src, err := os.ReadFile("../../testdata/fmt/invalid.hcl.txt")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "broken.hcl")
	writeFile(t, path, string(src))
	stdout, stderr, code := cliRun(t, "fmt", path)
	if code != 1 || stdout != "" {
		t.Errorf("exit %d, stdout %q; want 1 and nothing", code, stdout)
	}
	if !strings.Contains(stderr, path+":") || !strings.Contains(stderr, "error: ") || !strings.Contains(stderr, "^") {
		t.Errorf("stderr lacks a located diagnostic with a caret:\n%s", stderr)
	}
	if got, _ := os.ReadFile(path); string(got) != string(src) {
		t.Error("a file with syntax errors was rewritten")
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"
	b := "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"
	want := "--- a\n+++ b\n@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n"
	if got := unifiedDiff("a", "b", a, b); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := unifiedDiff("a", "b", a, a); got != "" {
		t.Errorf("equal inputs: %q", got)
	}
}
