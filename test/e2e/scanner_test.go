package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/internal/simpbx"
)

// TestScannersLearnNothing runs SIPVicious (Debian sipvicious: svmap,
// svwar) against the quickstart example served for real: the example's
// friendly-scanner filter must drop every probe, OPTIONS to the proxy's
// own address included, so the scanner finds no host and no extension.
// The same scans against the policy without that filter must find the
// proxy, or the test could not fail.
func TestScannersLearnNothing(t *testing.T) {
	for _, tool := range []string{"svmap", "svwar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian package sipvicious): %v", tool, err)
		}
	}
	src, err := os.ReadFile(filepath.Join(repoRoot, "examples", "quickstart", "quickstart.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	hardened := servedQuickstart(t, string(src))
	withoutFilter := servedQuickstart(t, dropBlock(t, string(src), `filter "scanners"`))

	t.Run("control: without the filter svmap finds the proxy", func(t *testing.T) {
		if out := scan(t, "svmap", "-p"+port(withoutFilter), "127.0.0.1"); !strings.Contains(out, withoutFilter) {
			t.Fatalf("svmap did not find the unfiltered proxy, so this test cannot tell:\n%s", out)
		}
	})
	t.Run("svmap finds nothing", func(t *testing.T) {
		if out := scan(t, "svmap", "-p"+port(hardened), "127.0.0.1"); strings.Contains(out, hardened) || !strings.Contains(out, "found nothing") {
			t.Errorf("svmap learned something:\n%s", out)
		}
	})
	for _, method := range []string{"REGISTER", "INVITE", "OPTIONS"} {
		t.Run("svwar "+method+" finds no extension", func(t *testing.T) {
			// 100-120 holds extensions the policy routes (three digits)
			// and users that exist nowhere: the answers must not differ.
			out := scan(t, "svwar", "-e100-120", "-m", method, "-p"+port(hardened), "127.0.0.1")
			if strings.Contains(out, "| Extension") || strings.Contains(out, "reqauth") || strings.Contains(out, "noauth") {
				t.Errorf("svwar learned something:\n%s", out)
			}
		})
	}
	if code, err := options(hardened, "udp", 2*time.Second); code != 200 {
		t.Errorf("an OPTIONS from a normal client is not answered after the scans: %d %v", code, err)
	}
}

// servedQuickstart serves the quickstart policy text on a free port, in
// front of three simulated boxes, and returns the proxy's address.
func servedQuickstart(t *testing.T, policy string) string {
	t.Helper()
	p := freePort(t)
	policy = strings.ReplaceAll(policy, "127.0.0.1:5060", addr(p))
	policy = strings.Replace(policy, "ring_timeout = \"30s\"", "ring_timeout = \"30s\"\n  admin        = \"\"", 1)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, member := range []string{"5071", "5072", "5073"} {
		box, err := simpbx.Start(ctx, "box"+member, "127.0.0.1:0", simpbx.Answer, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { box.Close() })
		policy = strings.ReplaceAll(policy, "127.0.0.1:"+member, box.Addr())
	}
	startProxy(t, writePolicy(t, policy), addr(p))
	return addr(p)
}

// dropBlock removes the block that starts with header from an HCL text.
func dropBlock(t *testing.T, text, header string) string {
	t.Helper()
	i := strings.Index(text, header)
	if i < 0 {
		t.Fatalf("no %s in the policy", header)
	}
	j := strings.Index(text[i:], "\n}\n")
	return text[:i] + text[i+j+3:]
}

func port(hostPort string) string {
	_, p, _ := strings.Cut(hostPort, ":")
	if _, err := strconv.Atoi(p); err != nil {
		return ""
	}
	return p
}

// scan runs a SIPVicious tool, bounded in time, and returns its output.
// It binds 127.0.0.1 on a free port: by default the tools listen on
// 0.0.0.0:5060, where other tests' stray answers would reach them.
func scan(t *testing.T, tool string, args ...string) string {
	t.Helper()
	args = append([]string{"-b", "127.0.0.1", "-P", strconv.Itoa(freePort(t))}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = t.TempDir() // svmap and svwar write session files
	cmd.Env = append(os.Environ(), "HOME="+cmd.Dir)
	out, _ := cmd.CombinedOutput()
	return string(out)
}
