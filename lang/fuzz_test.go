package lang

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// FuzzCSV reads arbitrary bytes as a two-column CSV table: no panic, and
// every row returned has both fields.
func FuzzCSV(f *testing.F) {
	f.Add([]byte("did,user\n+15551230001,alice\n# comment\n\n+15551230002, bob\n"))
	f.Add([]byte("\"unterminated,alice\n"))
	f.Add([]byte("a,b,c\n,\n\"x\"\"y\",z\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		name := filepath.Join(dir, "t.csv")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Skip(err)
		}
		l := &loader{cfg: &Config{Files: map[string]*hcl.File{}}, root: dir, dir: dir}
		_, rows, _ := l.readCSV(Value[string]{Value: "t.csv", Set: true}, []string{"did", "user"})
		for _, r := range rows {
			if len(r) != 2 {
				t.Fatalf("row with %d fields", len(r))
			}
		}
	})
}

// FuzzLoad decodes arbitrary bytes as a policy file: no panic, whatever
// the HCL.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"proxy {\n  listen = [\"udp:127.0.0.1:5060\"]\n}\n",
		"flood {\n  window = \"2s\"\n  max_requests = 30\n  exempt = [trusted.a]\n}\nlimits { max_via = 10 }\n",
		"filter \"scanner\" {\n  when = \"user_agent.contains('friendly-scanner')\"\n  drop = true\n}\n",
		"aliases \"dids\" {\n  file = \"dids.csv\"\n}\n",
		"route \"r\" { to = pool.x\n when = \"flooding()\" }\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		name := filepath.Join(dir, "p.hcl")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Skip(err)
		}
		Load(name)
	})
}
