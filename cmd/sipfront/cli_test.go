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
	root.SetArgs(goStyleFlags(root, args))
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
		in      []string
		want    []string
		changed []string // flags the found command must see set
	}{
		{[]string{"explain", "p", "--user-agent", "-json", "-method", "-x"}, []string{"explain", "p", "--user-agent", "-json", "--method", "-x"},
			[]string{"user-agent", "method"}},
		{[]string{"fmt", "-check", "-diff", "dir"}, []string{"fmt", "--check", "--diff", "dir"}, []string{"check", "diff"}},
		{[]string{"plan", "-json", "--no-color", "a", "b"}, []string{"plan", "--json", "--no-color", "a", "b"}, []string{"json", "no-color"}},
		{[]string{"plan", "-against", "http://127.0.0.1:5080", "-json", "new"},
			[]string{"plan", "--against", "http://127.0.0.1:5080", "--json", "new"}, []string{"against", "json"}},
		{[]string{"test", "-v", "-run=DID", "p"}, []string{"test", "-v", "--run=DID", "p"}, []string{"verbose", "run"}},
		{[]string{"explain", "p", "--user-agent=-json"}, []string{"explain", "p", "--user-agent=-json"}, []string{"user-agent"}},
		{[]string{"explain", "p", "--user-agent", "-json"}, []string{"explain", "p", "--user-agent", "-json"}, []string{"user-agent"}},
		{[]string{"explain", "p", "-unknown"}, []string{"explain", "p", "-unknown"}, nil},
		{[]string{"validate", "--", "-json"}, []string{"validate", "--", "-json"}, nil},
		{[]string{"validate", "-json", "p"}, []string{"validate", "--json", "p"}, []string{"json"}},
		{[]string{"serve", "-watch", "x"}, []string{"serve", "--watch", "x"}, []string{"watch"}},
		{[]string{"serve", "-log-level=debug", "-grace", "1s", "x"}, []string{"serve", "--log-level=debug", "--grace", "1s", "x"},
			[]string{"log-level", "grace"}},
		{[]string{"demo", "-calls", "1", "-down="}, []string{"demo", "--calls", "1", "--down="}, []string{"calls", "down"}},
		{[]string{"ctl", "-json", "pools"}, []string{"ctl", "--json", "pools"}, []string{"json"}},
		{[]string{"ctl", "-admin", "http://h:1", "pools", "-json"}, []string{"ctl", "--admin", "http://h:1", "pools", "--json"},
			[]string{"admin", "json"}},
		{[]string{"ctl", "calls", "-member", "pool.a.member.b", "-json"}, []string{"ctl", "calls", "--member", "pool.a.member.b", "--json"},
			[]string{"member", "json"}},
	}
	for _, c := range cases {
		root := &cobra.Command{Use: "sipfront", SilenceUsage: true, SilenceErrors: true}
		root.AddCommand(newValidateCmd(), newFmtCmd(), newTestCmd(), newPlanCmd(), newExplainCmd(), newGraphCmd(),
			newServeCmd(), newDemoCmd(), newCtlCmd())
		in := append([]string(nil), c.in...)
		got := goStyleFlags(root, in)
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("goStyleFlags(%q) = %q, want %q", c.in, got, c.want)
			continue
		}
		if strings.Join(in, " ") != strings.Join(c.in, " ") {
			t.Errorf("goStyleFlags changed its argument to %q", in)
		}
		if c.changed == nil {
			continue // cobra rejects -unknown; "--" leaves -json an argument
		}
		cmd, rest, err := root.Find(got)
		if err != nil {
			t.Errorf("%q: %v", got, err)
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("%q: %s does not parse: %v", got, cmd.CommandPath(), err)
			continue
		}
		for _, name := range c.changed {
			if !cmd.Flags().Changed(name) {
				t.Errorf("%q: %s did not see --%s", got, cmd.CommandPath(), name)
			}
		}
		// A value that looks like a flag stays the value.
		for i, a := range got[:len(got)-1] {
			if name, ok := strings.CutPrefix(a, "--"); ok && !strings.Contains(name, "=") && strings.HasPrefix(got[i+1], "-") {
				if f := cmd.Flags().Lookup(name); f != nil && f.NoOptDefVal == "" && f.Value.String() != got[i+1] {
					v := f.Value.String()
					t.Errorf("%q: --%s = %q, want %q", got, name, v, got[i+1])
				}
			}
		}
	}
}
