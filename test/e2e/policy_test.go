package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// member is one pool member of a test policy.
type member struct {
	name   string
	port   int
	weight int // 0: not written
}

// pool describes the single pool of a test policy.
type pool struct {
	balance  string
	affinity string
	failover string // the failover block's body; "" for a default
	members  []member
}

// policyText renders a one-pool policy listening on udp and tcp of
// 127.0.0.1:proxyPort. extra is appended verbatim (filters, more routes
// before the default one).
func policyText(proxyPort int, p pool, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "proxy {\n  listen       = [\"udp:%[1]s\", \"tcp:%[1]s\"]\n  advertise    = %[1]q\n  ring_timeout = \"30s\"\n}\n\n", addr(proxyPort))
	b.WriteString(extra)
	fmt.Fprintf(&b, "pool \"boxes\" {\n  balance = %q\n", p.balance)
	if p.affinity != "" {
		fmt.Fprintf(&b, "  affinity = %q\n", p.affinity)
	}
	fo := p.failover
	if fo == "" {
		fo = "on = [408, 500, 502, 503, 504]\nmax_tries = 3\ntimeout = \"5s\""
	}
	fmt.Fprintf(&b, "  failover {\n    %s\n  }\n", strings.ReplaceAll(fo, "\n", "\n    "))
	for _, m := range p.members {
		if m.weight > 0 {
			fmt.Fprintf(&b, "  member %q {\n    uri    = \"sip:%s\"\n    weight = %d\n  }\n", m.name, addr(m.port), m.weight)
			continue
		}
		fmt.Fprintf(&b, "  member %q { uri = \"sip:%s\" }\n", m.name, addr(m.port))
	}
	b.WriteString("}\n\nroute \"default\" {\n  to = pool.boxes\n}\n")
	return b.String()
}

// writePolicy writes a policy into a fresh directory and returns the file.
func writePolicy(t *testing.T, text string) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "policy.hcl", text)
}

// threeBoxes starts three sipp UAS boxes running scen and returns them with
// their members.
func threeBoxes(t *testing.T, scen string, weights ...int) ([]*sippProc, []member) {
	t.Helper()
	var boxes []*sippProc
	var members []member
	for i := range 3 {
		port := freePort(t)
		name := fmt.Sprintf("box%d", i+1)
		m := member{name: name, port: port}
		if i < len(weights) {
			m.weight = weights[i]
		}
		boxes = append(boxes, startBox(t, name, scen, port))
		members = append(members, m)
	}
	return boxes, members
}
