package compiler

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

var fenceRE = regexp.MustCompile("(?ms)^```hcl\\n(.*?)^```")

// TestDocs checks the hcl blocks of docs/*.md: a block that starts with a
// proxy block is a complete policy and must compile without diagnostics
// (with the example's CSV files beside it); any other block is a fragment
// and must parse.
func TestDocs(t *testing.T) {
	docs, _ := filepath.Glob("../docs/*.md")
	complete := 0
	for _, doc := range docs {
		src, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range fenceRE.FindAllSubmatch(src, -1) {
			block := string(m[1])
			name := filepath.Base(doc) + "#" + strconv.Itoa(i)
			if !strings.HasPrefix(strings.TrimSpace(stripComments(block)), "proxy") {
				if _, diags := hclsyntax.ParseConfig([]byte(block), name, hcl.InitialPos); diags.HasErrors() {
					t.Errorf("%s: fragment does not parse: %s", name, diags.Error())
				}
				continue
			}
			complete++
			dir := t.TempDir()
			copyExample(t, dir)
			for _, f := range []string{"edge.hcl", "pbx.hcl", "pstn.hcl", "routes.hcl", "platform.test.hcl"} {
				os.Remove(filepath.Join(dir, f))
			}
			if err := os.WriteFile(filepath.Join(dir, "doc.hcl"), []byte(block), 0o644); err != nil {
				t.Fatal(err)
			}
			if p, diags := Load(dir); len(diags) > 0 {
				t.Errorf("%s does not compile:\n%s", name, render(p.Files, diags))
			}
		}
	}
	if complete == 0 {
		t.Error("docs hold no complete policy (a hcl block starting with proxy)")
	}
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
