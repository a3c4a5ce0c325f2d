package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestTestExample(t *testing.T) {
	stdout, stderr, code := cliRun(t, "test", "../../examples/asterisk-platform")
	if code != 0 || !regexp.MustCompile(`^[1-9][0-9]* passed, 0 failed$`).MatchString(lastLine(stdout)) {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "ok ") {
		t.Errorf("without -v passing tests must not be listed:\n%s", stdout)
	}
}

func TestTestFailures(t *testing.T) {
	const dir = "testdata/test/failing"
	stdout, stderr, code := cliRun(t, "test", "-v", dir)
	if code != 1 || stderr != "" {
		t.Errorf("exit %d, stderr %q; want 1", code, stderr)
	}
	if lastLine(stdout) != "3 passed, 2 failed" {
		t.Errorf("last line %q, want \"3 passed, 2 failed\"", lastLine(stdout))
	}
	for _, want := range []string{
		"FAIL a DID expected on the wrong box (testdata/test/failing/wrong.test.hcl:4)\n",
		"target: expected pool.asterisk.member.ast1, decided pool.asterisk.member.ast2",
		"ok   a scanner is dropped\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	checkGolden(t, dir+".golden", stdout)

	stdout, _, code = cliRun(t, "test", "-run", "wrong box", dir)
	if code != 1 || lastLine(stdout) != "0 passed, 1 failed" {
		t.Errorf("-run: exit %d, last line %q", code, lastLine(stdout))
	}

	for _, args := range [][]string{{"test", "-run", "^nothing$", dir}, {"test", "-json", "-run", "^nothing$", dir}} {
		stdout, stderr, code := cliRun(t, args...)
		if code != 1 || stdout != "" || stderr != "no tests match -run ^nothing$\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 1 and \"no tests match -run ^nothing$\"", args, code, stdout, stderr)
		}
	}

	stdout, _, code = cliRun(t, "test", "-json", dir)
	var doc struct {
		Tests []struct {
			Name     string   `json:"name"`
			Passed   bool     `json:"passed"`
			Failures []string `json:"failures"`
		} `json:"tests"`
		Passed, Failed int
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 1 {
		t.Fatalf("-json: exit %d, %v\n%s", code, err, stdout)
	}
	if doc.Passed != 3 || doc.Failed != 2 || len(doc.Tests) != 5 || doc.Tests[3].Passed || len(doc.Tests[3].Failures) == 0 {
		t.Errorf("-json results: %+v", doc)
	}
}

func TestTestLoadError(t *testing.T) {
	_, stderr, code := cliRun(t, "test", "testdata/validate/broken")
	if code != 1 || !strings.Contains(stderr, "error: ") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}
