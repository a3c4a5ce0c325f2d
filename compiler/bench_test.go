package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipfront/sipfront/compiler/graph"
)

const exampleDir = "../examples/asterisk-platform"

// copyExample copies the example policy into dir.
func copyExample(tb testing.TB, dir string) {
	tb.Helper()
	entries, err := os.ReadDir(exampleDir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(exampleDir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// writeOwners replaces the example's did-owners.csv with n generated rows.
func writeOwners(tb testing.TB, dir string, n int) {
	tb.Helper()
	var b strings.Builder
	b.WriteString("prefix,member\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "+1555%07d,ast%d\n", i, i%3+1)
	}
	if err := os.WriteFile(filepath.Join(dir, "did-owners.csv"), []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// TestCompile100kPrefixes checks the big table compiles and is used.
func TestCompile100kPrefixes(t *testing.T) {
	dir := t.TempDir()
	copyExample(t, dir)
	writeOwners(t, dir, 100_000)
	p, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(render(p.Files, diags))
	}
	tbl := p.Graph.Node("prefixes.did-owners").(*graph.PrefixTable)
	if len(tbl.Rows) != 100_000 {
		t.Fatalf("%d rows", len(tbl.Rows))
	}
	if v, prefix, ok := tbl.Lookup("+15550099998"); !ok || v != "ast3" || prefix != "+15550099998"[:12] {
		t.Fatalf("lookup = %q %q %v", v, prefix, ok)
	}
}

// BenchmarkCompileExample is the baseline: the example as shipped.
func BenchmarkCompileExample(b *testing.B) {
	benchCompile(b, 0)
}

// BenchmarkCompile100kPrefixes compiles the example with a 100,000-row
// prefix table.
func BenchmarkCompile100kPrefixes(b *testing.B) {
	benchCompile(b, 100_000)
}

func benchCompile(b *testing.B, rows int) {
	dir := b.TempDir()
	copyExample(b, dir)
	if rows > 0 {
		writeOwners(b, dir, rows)
	}
	b.ReportAllocs()
	for b.Loop() {
		if p, diags := Load(dir); diags.HasErrors() {
			b.Fatal(render(p.Files, diags))
		}
	}
}

// BenchmarkDecide is one decision on the example graph for a DID from a
// carrier: four filters, auth (trusted), aliases, three routes, a prefix
// lookup and the owner.
func BenchmarkDecide(b *testing.B) {
	p, diags := Load(exampleDir)
	if diags.HasErrors() {
		b.Fatal(render(p.Files, diags))
	}
	req, static, err := RequestFields{Method: "INVITE", RURI: "sip:+15551230001@example.com", Source: "198.51.100.7:5060",
		UserAgent: "Asterisk PBX 20", CallID: "a84b4c76e66710"}.Request()
	if err != nil {
		b.Fatal(err)
	}
	// The runtime holds its state as an interface already; converting the
	// StaticState value on each call would count an allocation that the
	// runtime does not make.
	var st graph.State = static
	if d := p.Graph.Decide(req, st, nil); d.Target() != "pool.asterisk.member.ast2" {
		b.Fatalf("decided %q", d.Target())
	}
	b.ReportAllocs()
	for b.Loop() {
		d := p.Graph.Decide(req, st, nil)
		if d.Member == nil {
			b.Fatal("no member")
		}
	}
}
