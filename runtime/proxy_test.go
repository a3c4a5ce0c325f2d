package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/forward"
)

func TestCallThroughProxy(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			b := startBox(t, "ast1", boxAnswer)
			m := b.member("ast1", transport)
			port := freePort(t)
			s := startProxy(t, testGraph(t, port, []*graph.Member{m}, nil), nil)
			c := startCaller(t)
			if err := c.call(t, port, transport); err != nil {
				t.Fatal(err)
			}
			eventually(t, "ACK and BYE at the box", func() bool { return b.acks.Load() == 1 && b.byes.Load() == 1 })
			eventually(t, "empty dialog table", func() bool { return activeCalls(s, m) == 0 })
			b.mu.Lock()
			req := b.lastReq
			b.mu.Unlock()
			if rr := req.RecordRoute(); rr == nil || rr.Address.Port != port {
				t.Errorf("INVITE at the box has Record-Route %v, want the proxy", rr)
			}
			if mf := req.MaxForwards().Val(); mf != 69 {
				t.Errorf("Max-Forwards at the box = %d, want 69", mf)
			}
			if via := req.Via(); via.Port != port || !strings.HasPrefix(via.Params.GetOr("branch", ""), forward.BranchPrefix) {
				t.Errorf("top Via at the box = %s, want the proxy's", via.Value())
			}
		})
	}
}

func TestByeFromCallee(t *testing.T) {
	b := startBox(t, "ast1", boxAnswer)
	m := b.member("ast1", "udp")
	port := freePort(t)
	s := startProxy(t, testGraph(t, port, []*graph.Member{m}, nil), nil)
	c := startCaller(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := c.invite(ctx, port, "udp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ACK at the box", func() bool { return b.acks.Load() == 1 })
	if n := activeCalls(s, m); n != 1 {
		t.Fatalf("active calls = %d during the call, want 1", n)
	}
	b.mu.Lock()
	dlg := b.last
	b.mu.Unlock()
	if err := dlg.Bye(ctx); err != nil {
		t.Fatalf("BYE from the callee: %v", err)
	}
	if c.byes.Load() != 1 {
		t.Errorf("caller got %d BYEs, want 1", c.byes.Load())
	}
	eventually(t, "empty dialog table", func() bool { return activeCalls(s, m) == 0 })
}

func TestRoundRobinSpread(t *testing.T) {
	var boxes []*box
	var members []*graph.Member
	for _, n := range []string{"ast1", "ast2", "ast3"} {
		b := startBox(t, n, boxAnswer)
		boxes = append(boxes, b)
		members = append(members, b.member(n, "udp"))
	}
	port := freePort(t)
	startProxy(t, testGraph(t, port, members, nil), nil)
	c := startCaller(t)
	for i := range 9 {
		if err := c.call(t, port, "udp"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	for _, b := range boxes {
		if n := b.invites.Load(); n != 3 {
			t.Errorf("%s got %d INVITEs, want 3", b.name, n)
		}
	}
}

func TestFailover(t *testing.T) {
	for _, mode := range []boxMode{boxBusy, boxDead} {
		name := map[boxMode]string{boxBusy: "503", boxDead: "no-answer"}[mode]
		t.Run(name, func(t *testing.T) {
			bad := startBox(t, "bad", mode)
			good := startBox(t, "good", boxAnswer)
			mb, mg := bad.member("bad", "udp"), good.member("good", "udp")
			port := freePort(t)
			s := startProxy(t, testGraph(t, port, []*graph.Member{mb, mg}, nil), nil)
			c := startCaller(t)
			for i := range 4 {
				if err := c.call(t, port, "udp"); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			if good.invites.Load() != 4 {
				t.Errorf("good box got %d INVITEs, want 4", good.invites.Load())
			}
			if bad.invites.Load() == 0 {
				t.Error("the bad box was never tried")
			}
			eventually(t, "empty dialog table", func() bool { return activeCalls(s, mb, mg) == 0 })
		})
	}
}

func TestAllMembersFail(t *testing.T) {
	b1, b2 := startBox(t, "b1", boxBusy), startBox(t, "b2", boxBusy)
	port := freePort(t)
	startProxy(t, testGraph(t, port, []*graph.Member{b1.member("b1", "udp"), b2.member("b2", "udp")}, nil), nil)
	c := startCaller(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.invite(ctx, port, "udp", nil)
	if statusOf(err) != 503 {
		t.Fatalf("caller got %v, want the last answer, 503", err)
	}
	if b1.invites.Load()+b2.invites.Load() != 2 {
		t.Errorf("tries = %d, want 2", b1.invites.Load()+b2.invites.Load())
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	b := startBox(t, "ast1", boxRing)
	m := b.member("ast1", "udp")
	port := freePort(t)
	s := startProxy(t, testGraph(t, port, []*graph.Member{m}, nil), nil)
	c := startCaller(t)
	ctx, cancel := context.WithCancel(context.Background())
	var inviteErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, inviteErr = c.invite(ctx, port, "udp", nil)
	}()
	eventually(t, "ringing box", func() bool { return b.invites.Load() == 1 })
	eventually(t, "call counted", func() bool { return activeCalls(s, m) == 1 })
	time.Sleep(100 * time.Millisecond) // let the 180 reach the caller
	cancel()
	<-done
	if !errors.Is(inviteErr, context.Canceled) {
		t.Fatalf("caller: %v, want a cancelled call (487)", inviteErr)
	}
	eventually(t, "CANCEL at the box", func() bool { return b.cancels.Load() == 1 })
	eventually(t, "empty dialog table", func() bool { return activeCalls(s, m) == 0 })
}

func TestTimerC(t *testing.T) {
	b := startBox(t, "ast1", boxRing)
	m := b.member("ast1", "udp")
	port := freePort(t)
	s := startProxy(t, testGraph(t, port, []*graph.Member{m}, func(g *graph.Graph) {
		g.Proxy.RingTimeout = 500 * time.Millisecond
	}), nil)
	c := startCaller(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.invite(ctx, port, "udp", nil)
	if statusOf(err) != 408 {
		t.Fatalf("caller got %v, want 408", err)
	}
	eventually(t, "CANCEL at the box", func() bool { return b.cancels.Load() == 1 })
	eventually(t, "empty dialog table", func() bool { return activeCalls(s, m) == 0 })
}

func TestLargeInviteOverUDP(t *testing.T) {
	b := startBox(t, "ast1", boxAnswer)
	port := freePort(t)
	startProxy(t, testGraph(t, port, []*graph.Member{b.member("ast1", "udp")}, nil), nil)
	c := startCaller(t)
	body := []byte("v=0\r\n" + strings.Repeat("a=x-padding:0123456789abcdef0123456789abcdef\r\n", 60))
	if len(body) < 1500 {
		t.Fatal("body too small")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := c.invite(ctx, port, "udp", body)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sess.Ack(ctx)
	sess.Bye(ctx)
	b.mu.Lock()
	got := len(b.lastReq.Body())
	b.mu.Unlock()
	if got != len(body) {
		t.Errorf("box got a %d-byte body, want %d", got, len(body))
	}
}

func TestDrainRefusesNewInvites(t *testing.T) {
	b := startBox(t, "ast1", boxAnswer)
	port := freePort(t)
	s := startProxy(t, testGraph(t, port, []*graph.Member{b.member("ast1", "udp")}, nil), nil)
	s.draining.Store(true)
	c := startCaller(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.invite(ctx, port, "udp", nil); statusOf(err) != 503 {
		t.Fatalf("caller got %v while draining, want 503", err)
	}
}
