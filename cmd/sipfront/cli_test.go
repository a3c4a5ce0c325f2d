package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the cmd/sipfront tests")

// cliRoot builds a fresh command tree for each run: cobra keeps flag values
// in the command, so reusing rootCmd would leak -json from one test into
// the next.
func cliRoot() *cobra.Command {
	root := &cobra.Command{Use: "sipfront", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newValidateCmd(), newFmtCmd(), newTestCmd(), newPlanCmd(), newExplainCmd(), newGraphCmd())
	return root
}

// cliRun runs sipfront in-process with args, the way main does, and
// returns its stdout, stderr and exit code.
func cliRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := cliRoot()
	if conv := goStyleFlags(args); conv != nil {
		args = conv
	}
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.Execute()
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
		if ee.msg != "" {
			fmt.Fprintln(&errb, ee.msg)
		}
	default:
		code = 1
		fmt.Fprintln(&errb, "error:", err)
	}
	return out.String(), errb.String(), code
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/sipfront -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (-update rewrites it):\n%s", path, unifiedDiff(path, "got", string(want), got))
	}
}

// repoRoot makes the test run from the repository root, so that the paths
// printed in golden files are the short testdata/... ones.
func repoRoot(t *testing.T) {
	t.Helper()
	t.Chdir(filepath.Join("..", ".."))
}

// copyDir copies a policy directory into a temporary one for tests that
// edit files.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestGoStyleFlags(t *testing.T) {
	cases := []struct {
		in   []string
		want []string
	}{
		{[]string{"fmt", "-check", "-diff", "dir"}, []string{"fmt", "--check", "--diff", "dir"}},
		{[]string{"plan", "-json", "--no-color", "a", "b"}, []string{"plan", "--json", "--no-color", "a", "b"}},
		{[]string{"test", "-v", "-run=DID", "p"}, []string{"test", "-v", "--run=DID", "p"}},
		{[]string{"explain", "p", "--user-agent=-json"}, []string{"explain", "p", "--user-agent=-json"}},
		{[]string{"explain", "p", "-unknown"}, []string{"explain", "p", "-unknown"}},
		{[]string{"validate", "--", "-json"}, []string{"validate", "--", "-json"}},
	}
	for _, c := range cases {
		if got := goStyleFlags(c.in); strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("goStyleFlags(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := goStyleFlags([]string{"serve", "-config"}); got != nil {
		t.Errorf("other verbs must be left to cobra, got %q", got)
	}
}
