package admin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyEndpoint: GET /v1/policy answers the sources of the running
// hash, 503 while the provider has none for it, 404 when serve gives no
// provider; other methods get 405.
func TestPolicyEndpoint(t *testing.T) {
	p := newProxy(testGraph(t, "h1", "ast1"))
	src := &PolicySources{Hash: "h1", Path: "/etc/sipfront", Root: "/etc/sipfront",
		Files: map[string]string{"edge.hcl": "proxy {}\n", "../shared/did.csv": "prefix,member\n"}}
	c := serve(t, p, Options{Sources: func(hash string) *PolicySources {
		if hash == src.Hash {
			return src
		}
		return nil
	}})
	ctx := context.Background()
	got, err := c.Policy(ctx)
	if err != nil || got.Hash != "h1" || got.Files["../shared/did.csv"] != "prefix,member\n" || len(got.Files) != 2 {
		t.Fatalf("policy = %+v, %v", got, err)
	}
	p.g.Store(testGraph(t, "h2", "ast1")) // a graph the provider has no sources for
	var ae *APIError
	if _, err := c.Policy(ctx); !errors.As(err, &ae) || ae.Status != 503 || !strings.Contains(ae.Message, "not available") {
		t.Errorf("unknown hash: %v", err)
	}
	if _, err := c.Do(ctx, "POST", "/v1/policy", nil); !errors.As(err, &ae) || ae.Status != 405 {
		t.Errorf("POST /v1/policy: %v", err)
	}
	none := serve(t, newProxy(testGraph(t, "h1", "ast1")), Options{})
	if _, err := none.Policy(ctx); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("no provider: %v", err)
	}
}

func TestPolicySourcesWriteTo(t *testing.T) {
	src := &PolicySources{Files: map[string]string{
		"edge.hcl": "a", "tables/did.csv": "b", "../shared/x.csv": "c", "../../top.csv": "d"}}
	dir := t.TempDir()
	root, err := src.WriteTo(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range src.Files {
		f := filepath.Join(root, filepath.FromSlash(name))
		if rel, err := filepath.Rel(dir, f); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("%s is written outside %s: %s", name, dir, f)
		}
		if data, err := os.ReadFile(f); err != nil || string(data) != want {
			t.Errorf("%s: %q, %v", name, data, err)
		}
	}
	for _, bad := range []string{"/etc/passwd", "a/../../../x", "..", "a/./b", ""} {
		s := &PolicySources{Files: map[string]string{bad: "x"}}
		if _, err := s.WriteTo(t.TempDir()); err == nil {
			t.Errorf("name %q was accepted", bad)
		}
	}
}
