package main

import (
	"strings"
	"testing"

	"github.com/sipfront/sipfront/compiler"
	"github.com/sipfront/sipfront/runtime"
)

// TestPlatformAuthServed: serve, which wires the auth service, serves the
// platform example's trusted, credentials, auth and aliases blocks; what it
// still refuses is named, and none of those is among it.
func TestPlatformAuthServed(t *testing.T) {
	repoRoot(t)
	p, diags := compiler.Load("examples/asterisk-platform")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	err := runtime.DefaultServed().WithAuth().Check(p.Graph)
	if err == nil {
		t.Fatal("the platform's registrar and carriers are not served yet; want them named")
	}
	for _, block := range []string{`auth "endpoints"`, `credentials "subscribers"`, `aliases "dids"`, `trusted "`} {
		if strings.Contains(err.Error(), block) {
			t.Errorf("%s is refused:\n%v", block, err)
		}
	}
	if !strings.Contains(err.Error(), "registrar") {
		t.Errorf("the refusal does not name the registrar:\n%v", err)
	}
	if err := runtime.DefaultServed().Check(p.Graph); !strings.Contains(err.Error(), `auth "endpoints"`) {
		t.Errorf("without an auth service, auth must be refused:\n%v", err)
	}
}
