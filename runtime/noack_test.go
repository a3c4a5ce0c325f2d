package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// TestUnacknowledgedDialogEnds: a call whose caller never acknowledges the
// 2xx stops counting against its member once NoAckTimeout has passed; a
// call that was acknowledged stays, with dialog validation on (the ACK
// matched against the table) and off (the ACK relayed by its route set).
func TestUnacknowledgedDialogEnds(t *testing.T) {
	for _, validate := range []bool{true, false} {
		t.Run(map[bool]string{true: "validation on", false: "validation off"}[validate], func(t *testing.T) {
			b := startBox(t, "b1", boxAnswer)
			m := b.member("b1", "udp")
			port := freePort(t)
			g := testGraph(t, port, []*graph.Member{m}, func(g *graph.Graph) { g.Proxy.DialogValidation = validate })
			srv := startProxyConfig(t, Config{Load: func() (*graph.Graph, error) { return g, nil }, NoAckTimeout: time.Second})
			c := startCaller(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			unacked, err := c.invite(ctx, port, "udp", nil)
			if err != nil {
				t.Fatalf("first call: %v", err)
			}
			defer unacked.Close()
			acked, err := c.invite(ctx, port, "udp", nil)
			if err != nil {
				t.Fatalf("second call: %v", err)
			}
			defer acked.Close()
			if err := acked.Ack(ctx); err != nil {
				t.Fatal(err)
			}
			eventually(t, "two active calls", func() bool { return activeCalls(srv, m) == 2 })
			// NoAckTimeout 1 s, looked for every unackedEvery (2) seconds:
			// gone within 3 s, 3.5 with slack.
			time.Sleep(3500 * time.Millisecond)
			if n := activeCalls(srv, m); n != 1 {
				t.Fatalf("active calls %d after the no-ACK timeout, want 1 (the acknowledged call)", n)
			}
			if err := acked.Bye(ctx); err != nil {
				t.Fatalf("BYE of the acknowledged call: %v", err)
			}
			eventually(t, "no active call", func() bool { return activeCalls(srv, m) == 0 })
		})
	}
}
