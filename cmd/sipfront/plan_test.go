package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanGolden runs `sipfront plan OLD NEW` on every case under
// testdata/plan and compares stdout with testdata/plan/<case>.golden. A
// case with a requests.jsonl also passes --requests.
func TestPlanGolden(t *testing.T) {
	repoRoot(t)
	dirs, err := filepath.Glob("testdata/plan/*/old")
	if err != nil || len(dirs) < 7 {
		t.Fatalf("want the plan cases under testdata/plan, found %d (%v)", len(dirs), err)
	}
	for _, oldDir := range dirs {
		dir := filepath.Dir(oldDir)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			args := []string{"plan", "--no-color", oldDir, filepath.Join(dir, "new")}
			if req := filepath.Join(dir, "requests.jsonl"); fileExists(req) {
				args = append(args, "--requests", req)
			}
			stdout, stderr, code := cliRun(t, args...)
			wantCode := 2
			if name == "no-change" {
				wantCode = 0
			}
			if code != wantCode || stderr != "" {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, wantCode, stderr)
			}
			checkGolden(t, dir+".golden", stdout)
			if !strings.HasPrefix(lastLine(stdout), "Plan: ") {
				t.Errorf("last line %q is not the summary", lastLine(stdout))
			}
		})
	}
}

func TestPlanJSONGolden(t *testing.T) {
	repoRoot(t)
	for _, name := range []string{"member-change", "route-swap"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata/plan", name)
			stdout, stderr, code := cliRun(t, "plan", "-json", dir+"/old", dir+"/new")
			if code != 2 || stderr != "" {
				t.Fatalf("exit %d, stderr %s", code, stderr)
			}
			var doc struct {
				Summary map[string]int `json:"summary"`
			}
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("invalid json: %v", err)
			}
			if doc.Summary["change"] == 0 {
				t.Errorf("summary %v counts no change", doc.Summary)
			}
			checkGolden(t, dir+".json.golden", stdout)
		})
	}
}

func TestPlanErrors(t *testing.T) {
	repoRoot(t)
	good := "testdata/plan/no-change/old"
	broken := copyDir(t, good)
	writeFile(t, filepath.Join(broken, "extra.hcl"), "route \"x\" {\n  to = pool.nope\n}\n")
	_, stderr, code := cliRun(t, "plan", good, broken)
	if code != 1 || !strings.Contains(stderr, "extra.hcl:2:") {
		t.Errorf("broken new policy: exit %d, stderr:\n%s", code, stderr)
	}
	reqs := filepath.Join(t.TempDir(), "r.jsonl")
	writeFile(t, reqs, "{\"method\": \"INVITE\", \"ruri\": \"sip:1@example.com\"}\n{\"methd\": \"INVITE\"}\n")
	_, stderr, code = cliRun(t, "plan", "--requests", reqs, good, good)
	if code != 1 || !strings.Contains(stderr, "r.jsonl:2:") || !strings.Contains(stderr, "methd") {
		t.Errorf("bad requests line: exit %d, stderr:\n%s", code, stderr)
	}
	writeFile(t, reqs, "{\"method\": \"INVITE\", \"ruri\": \"not a uri\"}\n")
	_, stderr, code = cliRun(t, "plan", "--requests", reqs, good, good)
	if code != 1 || !strings.Contains(stderr, "r.jsonl:1:") {
		t.Errorf("unparsable request: exit %d, stderr:\n%s", code, stderr)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
