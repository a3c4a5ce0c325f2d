package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
)

// errorf appends an error diagnostic at rng.
func (c *compiler) errorf(rng hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rng.Ptr(),
	})
}

// warnf appends a warning diagnostic at rng.
func (c *compiler) warnf(rng hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rng.Ptr(),
	})
}

// suggest returns ` Did you mean "x"?` when a candidate is close to given,
// else "".
func suggest(given string, candidates []string) string {
	best, bestDist := "", 3 // the threshold hcl itself uses
	for _, s := range candidates {
		if d := levenshtein.Distance(given, s, nil); d < bestDist {
			best, bestDist = s, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// names lists the keys of m, sorted, for "did you mean" and messages.
func names[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// oneOf renders a list of names for a diagnostic detail.
func oneOf(list []string) string {
	if len(list) == 0 {
		return "none are declared"
	}
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
