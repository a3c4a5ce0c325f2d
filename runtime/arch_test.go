package runtime

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/sipfront/sipfront/"

// deps lists the packages pkg depends on, itself included.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

// TestRuntimeDoesNotDependOnThePolicyLanguage keeps the architecture's one
// rule: the runtime depends on the graph, never on HCL, lang or the
// compiler, so that what runs on the request path is the compiled value
// only.
func TestRuntimeDoesNotDependOnThePolicyLanguage(t *testing.T) {
	for _, dep := range deps(t, module+"runtime/...") {
		switch {
		case strings.HasPrefix(dep, "github.com/hashicorp/hcl"),
			dep == module+"lang",
			dep == module+"compiler":
			t.Errorf("a runtime package depends on %s", dep)
		}
	}
}

// TestConcernsDoNotDependOnTheWiring keeps the layers of the runtime
// apart: the concern packages (intake, forward, target, dialog, the
// helpers) never import the wiring (runtime), the operations packages
// (admin, metrics, probe) or, except for what they adapt, the pool-member
// state, so that the registrar, auth and carriers can plug their own
// targets and state in beside pools.
func TestConcernsDoNotDependOnTheWiring(t *testing.T) {
	forbidden := []string{module + "runtime", module + "runtime/admin", module + "runtime/metrics",
		module + "runtime/probe", module + "runtime/state"}
	for _, pkg := range []string{"sipmsg", "intake", "forward", "target", "dialog", "stubs", "registrar", "fork", "digest"} {
		for _, dep := range deps(t, module+"runtime/"+pkg) {
			for _, f := range forbidden {
				if dep == f {
					t.Errorf("runtime/%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
