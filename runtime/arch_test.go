package runtime

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRuntimeDoesNotDependOnThePolicyLanguage keeps the architecture's one
// rule: the runtime depends on the graph, never on HCL, lang or the
// compiler, so that what runs on the request path is the compiled value
// only.
func TestRuntimeDoesNotDependOnThePolicyLanguage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/sipfront/sipfront/runtime/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(dep, "github.com/hashicorp/hcl"),
			dep == "github.com/sipfront/sipfront/lang",
			dep == "github.com/sipfront/sipfront/compiler":
			t.Errorf("a runtime package depends on %s", dep)
		}
	}
}
