package simpbx

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCallerAgainstBox calls a box directly (no proxy) in each mode.
func TestCallerAgainstBox(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	box, err := Start(ctx, "box1", "127.0.0.1:0", Answer, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { box.Close() })
	caller, err := NewCaller(box.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { caller.Close() })

	d, err := caller.Dial(ctx, Call{From: "bob", To: "alice"})
	if err != nil {
		t.Fatalf("answered call: %v", err)
	}
	if d.CallID == "" || d.ToTag == "" || d.FromTag == "" {
		t.Errorf("dialog ids incomplete: %+v", d)
	}
	if err := d.Hangup(ctx); err != nil {
		t.Fatalf("hangup: %v", err)
	}

	box.SetMode(Reject)
	_, err = caller.Dial(ctx, Call{From: "bob", To: "alice"})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 503 {
		t.Fatalf("rejecting box: got %v, want a 503 StatusError", err)
	}

	box.SetMode(Silent)
	_, err = caller.Dial(ctx, Call{From: "bob", To: "alice", AnswerTimeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("silent box: got %v, want ErrNoAnswer", err)
	}

	got := box.Stats()
	want := Stats{Invites: 3, Answered: 1, Rejected: 1, Byes: 1}
	if got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}
