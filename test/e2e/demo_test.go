package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the README's first command's job (`sipfront demo`): it
// needs nothing but the binary and must exit 0 with a table of calls.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "demo", "--calls", "12").CombinedOutput()
	if err != nil {
		t.Fatalf("sipfront demo: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"filter.scanners", "dropped (expected)", "ast2 503 -> ", "all 12 calls got the expected result"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
}
