package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is the sipfront binary built once by TestMain.
var binary string

// repoRoot is the directory holding go.mod.
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds the binary into a temporary directory, runs the tests and
// removes the directory.
func run(m *testing.M) int {
	root, err := findRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "sipfront-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "sipfront")
	build := exec.Command("go", "build", "-o", binary, "./cmd/sipfront")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/sipfront: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// findRepoRoot walks up from the working directory to the directory that
// holds go.mod.
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// needSipp skips the test when sipp is not installed, or fails it on CI,
// where a missing sipp means the job is set up wrong.
func needSipp(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("sipp")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("sipp is not installed (apt-get install -y sip-tester); CI must run the end-to-end tests")
	}
	t.Skip("sipp is not installed: apt-get install -y sip-tester (or make deps) to run the end-to-end tests")
	return ""
}

// scenario returns the path of a sipp scenario under test/sipp.
func scenario(name string) string {
	return filepath.Join(repoRoot, "test", "sipp", name)
}
