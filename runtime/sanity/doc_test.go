package sanity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesDocumented keeps docs/security.md honest: every rule's metric
// name appears there, with its RFC section.
func TestRulesDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Rules() {
		if !strings.Contains(string(doc), "`"+r.String()+"`") {
			t.Errorf("docs/security.md does not document rule %s (%s)", r, r.Info().RFC)
		}
	}
}
