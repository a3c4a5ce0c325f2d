package main

import (
	"strings"
	"testing"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/runtime"
)

// TestPlatformAuthServed: serve, which wires the auth service, serves the
// platform example's trusted, credentials, auth and aliases blocks (the
// whole platform); without an auth service, auth is refused by name.
func TestPlatformAuthServed(t *testing.T) {
	repoRoot(t)
	p, diags := compiler.Load("examples/asterisk-platform")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := runtime.DefaultServed().WithAuth().Check(p.Graph); err != nil {
		t.Errorf("the platform is refused:\n%v", err)
	}
	err := runtime.DefaultServed().Check(p.Graph)
	if err == nil || !strings.Contains(err.Error(), `auth "endpoints"`) || !strings.Contains(err.Error(), `credentials "subscribers"`) {
		t.Errorf("without an auth service, auth and credentials must be refused by name:\n%v", err)
	}
	if err != nil && strings.Contains(err.Error(), `aliases "dids"`) {
		t.Errorf("aliases need no service, yet they are refused:\n%v", err)
	}
}
