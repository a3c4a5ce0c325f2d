package carrier

import (
	"sync"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/state"
)

// clock is a manual clock for the store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestStore(t testing.TB, carriers ...*graph.Carrier) (*Store, *Counter, *clock, *graph.Graph) {
	t.Helper()
	g := &graph.Graph{Carriers: carriers}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	calls := NewCounter()
	s := New(calls)
	clk := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	s.SetClock(clk.now)
	s.Attach(g)
	return s, calls, clk, g
}

func TestStartWindowExact(t *testing.T) {
	// Starts at these offsets (ms) with a limit of 3 per sliding second:
	// the answer is whether each is allowed.
	tests := []struct {
		name  string
		limit int
		at    []int
		want  []bool
	}{
		{"burst capped", 3, []int{0, 0, 0, 0, 999}, []bool{true, true, true, false, false}},
		{"a second after the oldest", 3, []int{0, 100, 200, 1000, 1050, 1100, 1200}, []bool{true, true, true, true, false, true, true}},
		{"unlimited", 0, []int{0, 0, 0, 0}, []bool{true, true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w startWindow
			w.resize(tt.limit)
			base := time.Unix(1000, 0)
			for i, ms := range tt.at {
				now := base.Add(time.Duration(ms) * time.Millisecond)
				got := w.allows(now)
				if got != tt.want[i] {
					t.Fatalf("start %d at %dms: allowed %v, want %v", i, ms, got, tt.want[i])
				}
				if got {
					w.add(now.UnixNano())
				}
			}
		})
	}
}

// TestCPSNeverExceeded offers 100 calls at 50 per second to a carrier
// limited to 10 per second and checks every sliding second of the
// accepted starts.
func TestCPSNeverExceeded(t *testing.T) {
	c := &graph.Carrier{ID: "carrier.a", Name: "a", Limits: graph.Limits{CPS: 10}}
	s, _, clk, _ := newTestStore(t, c)
	var accepted []time.Time
	for range 100 {
		if skip := s.Claim(c); skip == graph.CarrierOK {
			accepted = append(accepted, clk.t)
			s.Counted(c.ID)
		} else if skip != graph.SkipCPS {
			t.Fatalf("skipped by %v, want cps", skip)
		}
		clk.advance(20 * time.Millisecond)
	}
	for i := range accepted {
		n := 0
		for _, u := range accepted[i:] {
			if u.Sub(accepted[i]) < time.Second {
				n++
			}
		}
		if n > 10 {
			t.Fatalf("%d starts in the second after %v", n, accepted[i])
		}
	}
	if len(accepted) != 20 { // 2 s of offered load: 10 in each second
		t.Errorf("accepted %d of 100 calls over 2s, want 20", len(accepted))
	}
	st, _ := s.Status(c.ID)
	if st.Skipped["cps limit"] != 80 || st.Attempts != 20 {
		t.Errorf("status %+v: want 20 attempts, 80 skipped by cps", st)
	}
}

func TestCallsLimit(t *testing.T) {
	c := &graph.Carrier{ID: "carrier.a", Name: "a", Limits: graph.Limits{Calls: 2}}
	s, calls, _, _ := newTestStore(t, c)
	s.Claim(c)
	s.Claim(c)
	if skip := s.Claim(c); skip != graph.SkipCalls {
		t.Fatalf("third call: %v, want calls limit", skip)
	}
	// Both become dialogs (counted by the dialog table), then their
	// reservations end: still two calls.
	calls.Start(c.ID)
	s.Counted(c.ID)
	calls.Start(c.ID)
	s.Counted(c.ID)
	if got := s.CarrierStatus(c).Skip; got != graph.SkipCalls {
		t.Fatalf("after the dialogs started: %v, want calls limit", got)
	}
	calls.End(c.ID) // the second failed
	if skip := s.Claim(c); skip != graph.CarrierOK {
		t.Fatalf("after a call ended: %v, want ok", skip)
	}
}

// TestReloadKeepsCounts changes the limits on reload: the counts carry
// over and the new limits apply to them at once.
func TestReloadKeepsCounts(t *testing.T) {
	c := &graph.Carrier{ID: "carrier.a", Name: "a", Limits: graph.Limits{Calls: 5, CPS: 5}}
	s, _, _, _ := newTestStore(t, c)
	for range 3 {
		if skip := s.Claim(c); skip != graph.CarrierOK {
			t.Fatal(skip)
		}
	}
	c2 := &graph.Carrier{ID: "carrier.a", Name: "a", Limits: graph.Limits{Calls: 3, CPS: 10}}
	g := &graph.Graph{Carriers: []*graph.Carrier{c2}}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	s.Attach(g)
	if skip := s.Claim(c2); skip != graph.SkipCalls {
		t.Fatalf("after lowering calls to 3 with 3 reserved: %v, want calls limit", skip)
	}
	st, _ := s.Status(c2.ID)
	if st.Reserved != 3 || st.CPS != 3 || st.LimitCalls != 3 {
		t.Errorf("status after reload %+v", st)
	}
}

func TestQuality(t *testing.T) {
	q := &graph.Quality{MinASR: 0.3, WarnASR: 0.5, MinSamples: 10, MaxPDD: 5 * time.Second, Window: 10 * time.Minute}
	steps := []struct {
		name     string
		answered int
		failed   int
		pdd      time.Duration
		after    time.Duration // clock advance after recording
		want     graph.QualityLevel
	}{
		{"too few samples to judge", 0, 9, 0, 0, graph.QualityOK},
		{"judged: all failed", 0, 1, 0, 0, graph.QualityCritical},
		{"between crit and warn", 5, 0, time.Second, 0, graph.QualityWarn}, // 5/15
		{"above warn", 6, 0, time.Second, 0, graph.QualityOK},              // 11/21
		{"window slides past the failures", 0, 0, 0, 11 * time.Minute, graph.QualityOK},
		{"slow to ring", 12, 0, 8 * time.Second, 0, graph.QualityCritical},
	}
	c := &graph.Carrier{ID: "carrier.a", Name: "a", Quality: q}
	s, _, clk, _ := newTestStore(t, c)
	for _, st := range steps {
		for range st.answered {
			s.Record(c, Outcome{Answered: true, PDD: st.pdd})
		}
		for range st.failed {
			s.Record(c, Outcome{})
		}
		clk.advance(st.after)
		if got := s.CarrierStatus(c).Quality; got != st.want {
			f, _ := s.Status(c.ID)
			t.Fatalf("%s: %v, want %v (window %+v)", st.name, got, st.want, f.Window)
		}
	}
}

func TestModesAndHealth(t *testing.T) {
	c := &graph.Carrier{ID: "carrier.a", Name: "a"}
	s, _, _, _ := newTestStore(t, c)
	for _, tt := range []struct {
		mode state.Mode
		up   bool
		want graph.CarrierSkip
	}{
		{state.ModeEnabled, true, graph.CarrierOK},
		{state.ModeDisabled, true, graph.SkipDisabled},
		{state.ModeDraining, true, graph.SkipDraining},
		{state.ModeEnabled, false, graph.SkipDown},
	} {
		if err := s.SetMode(c.ID, tt.mode); err != nil {
			t.Fatal(err)
		}
		s.SetUp(c.ID, tt.up, "probe timeout")
		if got := s.CarrierStatus(c).Skip; got != tt.want {
			t.Errorf("mode %s up %v: %v, want %v", tt.mode, tt.up, got, tt.want)
		}
	}
	if err := s.SetMode("carrier.nope", state.ModeDisabled); err == nil {
		t.Error("SetMode of an unknown carrier succeeded")
	}
	if err := s.SetMode(c.ID, "paused"); err == nil {
		t.Error("SetMode with an unknown mode succeeded")
	}
}

// TestClaimConcurrent claims from many goroutines: the calls limit holds.
func TestClaimConcurrent(t *testing.T) {
	c := &graph.Carrier{ID: "carrier.a", Name: "a", Limits: graph.Limits{Calls: 20}}
	s, _, _, _ := newTestStore(t, c)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if skip := s.Claim(c); skip == graph.CarrierOK {
					mu.Lock()
					got++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if got != 20 {
		t.Errorf("%d claims granted, want exactly 20", got)
	}
}

// benchStore is a store with one attached carrier.
func benchStore(b *testing.B, c *graph.Carrier) *Store {
	s := New(NewCounter())
	g := &graph.Graph{Carriers: []*graph.Carrier{c}}
	if err := g.Seal(); err != nil {
		b.Fatal(err)
	}
	s.Attach(g)
	return s
}

func BenchmarkCarrierStatus(b *testing.B) {
	c := &graph.Carrier{ID: "carrier.a", Name: "a", Limits: graph.Limits{Calls: 100, CPS: 50},
		Quality: &graph.Quality{MinASR: 0.3, MinSamples: 30, Window: 10 * time.Minute}}
	s := benchStore(b, c)
	b.ReportAllocs()
	for b.Loop() {
		s.CarrierStatus(c)
	}
}

func BenchmarkClaimCounted(b *testing.B) {
	c := &graph.Carrier{ID: "carrier.a", Name: "a", Limits: graph.Limits{Calls: 100, CPS: 1 << 20}}
	s := benchStore(b, c)
	b.ReportAllocs()
	for b.Loop() {
		s.Claim(c)
		s.Counted(c.ID)
	}
}
