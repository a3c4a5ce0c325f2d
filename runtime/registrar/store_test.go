package registrar

import (
	"path/filepath"
	"testing"
	"time"
)

// TestBindingsSurviveRestart writes bindings through the bbolt store,
// reopens it as a restarted proxy would, and finds the live bindings back
// and the expired ones gone (from memory and from the file).
func TestBindingsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, clk := newTestRegistrar(t, st, lim)
	mustOK(t, r.Register(reg("c1", 1, 600, ct("sip:alice@10.0.0.1", NoExpires, 800))))
	mustOK(t, r.Register(reg("c2", 1, 60, ct("sip:alice@10.0.0.2", NoExpires, QUnset))))
	bob := reg("c3", 1, 600, ct("sip:bob@10.0.0.3", NoExpires, QUnset))
	bob.User = "bob"
	mustOK(t, r.Register(bob))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// The restart happens 2 minutes later: alice's second contact expired.
	st, err = OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: clk.t.Add(2 * time.Minute)}
	r2, err := newAt(st, c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := render(r2.Contacts("alice", nil), c.t), "sip:alice@10.0.0.1=480;q=0.8"; got != want {
		t.Fatalf("alice after restart: %q, want %q", got, want)
	}
	if !r2.Registered("bob") {
		t.Fatal("bob lost his binding in the restart")
	}
	b := r2.Contacts("alice", nil)[0]
	if b.Source != "192.0.2.1:40000" || b.Transport != "UDP" || b.CallID != "c1" || b.CSeq != 1 || b.UserAgent != "test" {
		t.Fatalf("binding fields lost in the restart: %+v", b)
	}
	stored, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 {
		t.Fatalf("the store still holds %d bindings, want 2 (the expired one dropped at load)", len(stored))
	}
	// The CSeq order survives too: an old REGISTER of c1 is still refused.
	if res := r2.Register(reg("c1", 1, 600, ct("sip:alice@10.0.0.1", NoExpires, QUnset))); res.Status != 400 {
		t.Fatalf("replayed REGISTER after restart: %d, want 400", res.Status)
	}
	r2.Close()
}

// newAt opens a registrar whose clock is c from the start (load included).
func newAt(st Store, c *clock) (*Registrar, error) {
	saved := timeNow
	timeNow = c.now
	defer func() { timeNow = saved }()
	r, err := New(st, Policy{Limits: lim, IsLocal: func(h string) bool { return h == "sipfront.test" }})
	if r != nil {
		r.now = c.now
	}
	return r, err
}

func TestSweepExpires(t *testing.T) {
	st, err := OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, clk := newTestRegistrar(t, st, lim)
	defer r.Close()
	mustOK(t, r.Register(reg("c1", 1, 60, ct("sip:alice@10.0.0.1", NoExpires, QUnset))))
	mustOK(t, r.Register(reg("c2", 1, 120, ct("sip:alice@10.0.0.2", NoExpires, QUnset))))
	clk.t = clk.t.Add(60 * time.Second)
	if r.Registered("alice") != true || len(r.Contacts("alice", nil)) != 1 {
		t.Fatal("a binding that reached its expiry is still served")
	}
	if n, err := r.Sweep(); n != 1 || err != nil {
		t.Fatalf("sweep removed %d (%v), want 1", n, err)
	}
	if r.Count() != 1 {
		t.Fatalf("gauge %d after sweep, want 1", r.Count())
	}
	clk.t = clk.t.Add(60 * time.Second)
	if r.Registered("alice") {
		t.Fatal("alice still registered after every binding expired")
	}
	r.Sweep()
	if stored, _ := st.Load(); len(stored) != 0 || r.Count() != 0 {
		t.Fatalf("after the last expiry: %d stored, gauge %d", len(stored), r.Count())
	}
}

func TestStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	got, err := StateDir(dir)
	if err != nil || got != dir {
		t.Fatalf("StateDir(%q) = %q, %v", dir, got, err)
	}
	st, err := OpenBolt(got)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A second proxy on the same directory gets an error, not a hang.
	if _, err := OpenBolt(got); err == nil {
		t.Fatal("a second open of a locked store succeeded")
	}
}

func mustOK(t *testing.T, res Result) {
	t.Helper()
	if res.Status != 200 {
		t.Fatalf("REGISTER: %d %s", res.Status, res.Reason)
	}
}
