package compiler

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeRates writes a policy of four carriers sharing a rates file of n
// prefix,priority rows each (4n rows in the LCR table) into dir.
func writeRates(tb testing.TB, dir string, n int) {
	tb.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	var policy strings.Builder
	policy.WriteString("proxy { listen = [\"udp:127.0.0.1:5060\"] }\n")
	for c := range 4 {
		var b strings.Builder
		b.Grow(n * 14)
		b.WriteString("prefix,priority\n")
		for i := range n {
			// Distinct prefixes: a running number, with a random priority.
			fmt.Fprintf(&b, "+%d%07d,%d\n", 1+c%2, i, r.IntN(5))
		}
		name := fmt.Sprintf("c%d", c)
		if err := os.WriteFile(filepath.Join(dir, name+".csv"), []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&policy, "carrier %q {\n  uri = \"sip:10.0.1.%d\"\n  prefixes_file = %q\n}\n", name, c+1, name+".csv")
	}
	policy.WriteString("route \"pstn\" { to = carriers }\n")
	if err := os.WriteFile(filepath.Join(dir, "policy.hcl"), []byte(policy.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// TestCompileMillionRateRows compiles a policy whose carriers hold
// 1,000,000 rate rows in all, within a generous bound.
func TestCompileMillionRateRows(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and compiles 1,000,000 rows")
	}
	dir := t.TempDir()
	writeRates(t, dir, 250_000)
	start := time.Now()
	p, diags := Load(dir)
	took := time.Since(start)
	if diags.HasErrors() {
		t.Fatal(render(p.Files, diags))
	}
	if rows := p.Graph.LCR.Rows(); rows != 1_000_000 {
		t.Fatalf("LCR table holds %d rows, want 1,000,000", rows)
	}
	t.Logf("compiled 1,000,000 rate rows in %v", took)
	if took > 30*time.Second {
		t.Errorf("compiling 1,000,000 rows took %v; want seconds", took)
	}
}

// BenchmarkCompileMillionRateRows is the whole load (read, check, index)
// of a policy with 1,000,000 rate rows.
func BenchmarkCompileMillionRateRows(b *testing.B) {
	dir := b.TempDir()
	writeRates(b, dir, 250_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := Load(dir); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}
