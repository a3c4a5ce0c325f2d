package main

import (
	"errors"
	"io"
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

// TestFmtReplacesAtomically: fmt writes a new file and renames it over the
// old one (a crash mid-write leaves one or the other), keeping the mode
// and a symbolic link, and leaves no temporary file behind.
func TestFmtReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	messy := "route \"x\" {\nto=pool.asterisk\n}\n"
	clean := "route \"x\" {\n  to = pool.asterisk\n}\n"
	path := filepath.Join(dir, "a.hcl")
	writeFile(t, path, messy)
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.hcl")
	target := filepath.Join(dir, "target.txt")
	writeFile(t, target, messy)
	if err := os.Symlink("target.txt", link); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := cliRun(t, "fmt", path, link); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != clean {
		t.Errorf("a.hcl = %q, want %q", got, clean)
	}
	if os.SameFile(before, after) {
		t.Error("a.hcl was rewritten in place; want a new file renamed over it")
	}
	if after.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", after.Mode().Perm())
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced: %v %v", fi, err)
	}
	if got, _ := os.ReadFile(target); string(got) != clean {
		t.Errorf("the link's target = %q, want it formatted", got)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "a.hcl link.hcl target.txt" {
		t.Errorf("directory holds %q; want no temporary file left", names)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("stderr closed") }

// TestFmtDiagnosticsWriteError: a failure to print a file's diagnostics is
// reported, not dropped.
func TestFmtDiagnosticsWriteError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.hcl")
	writeFile(t, path, "route \"x\" {\n")
	_, err := fmtFile(io.Discard, failWriter{}, path, fmtOptions{})
	if err == nil || !errors.Is(err, errSyntax) || !strings.Contains(err.Error(), "writing its diagnostics: stderr closed") {
		t.Errorf("err = %v; want the syntax error and the write error", err)
	}
}
