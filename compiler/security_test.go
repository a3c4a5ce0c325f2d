package compiler

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

func TestSecurityBlocks(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		check       func(t *testing.T, s graph.Security)
	}{
		{"defaults", "", func(t *testing.T, s graph.Security) {
			if s.Flood != nil || s.ServerHeader != "" || s.Limits != graph.DefaultEdgeLimits() {
				t.Errorf("%+v", s)
			}
		}},
		{"flood", `flood {
  exempt = [trusted.asterisk]
  action = "503"
}`, func(t *testing.T, s graph.Security) {
			f := s.Flood
			if f == nil || f.Window != 2*time.Second || f.MaxRequests != 30 || f.Block != 2*time.Minute ||
				f.Action != graph.FloodReply503 || len(f.Exempt) != 1 || f.Exempt[0].Name != "asterisk" || f.MaxSources != 1<<16 {
				t.Errorf("%+v", f)
			}
		}},
		{"limits", `limits {
  max_message_udp = 8192
  max_body        = 4096
  tcp_message_timeout = "3s"
}`, func(t *testing.T, s graph.Security) {
			l := s.Limits
			if l.MaxMessageUDP != 8192 || l.MaxBody != 4096 || l.TCPMessageTimeout != 3*time.Second ||
				l.MaxMessageTCP != graph.DefaultMaxMessage || l.Pos.Line == 0 {
				t.Errorf("%+v", l)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			policy := `proxy {
  listen = ["udp:127.0.0.1:5060"]
}

trusted "asterisk" {
  sources = ["10.0.0.0/24"]
}

pool "asterisk" {
  member "ast1" { uri = "sip:10.0.0.11" }
}

route "all" {
  to = pool.asterisk
}
` + tc.extra
			if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(policy), 0o644); err != nil {
				t.Fatal(err)
			}
			p, diags := Load(dir)
			if diags.HasErrors() {
				t.Fatalf("%s", render(p.Files, diags))
			}
			tc.check(t, p.Graph.Security)
		})
	}
}
