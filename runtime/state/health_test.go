package state

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// changes records OnChange calls.
type changes struct {
	mu   sync.Mutex
	list []string
}

func (c *changes) record(id graph.ID, up bool, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	state := "down"
	if up {
		state = "up"
	}
	c.list = append(c.list, string(id)+" "+state)
}

func (c *changes) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.list, ", ")
}

func TestFailureThreshold(t *testing.T) {
	tests := []struct {
		name   string
		probe  *graph.Probe
		events string // F = failure, S = success
		up     bool
	}{
		{"two failures of default three", nil, "FF", true},
		{"three failures", nil, "FFF", false},
		{"success resets the count", nil, "FFSFF", true},
		{"probe threshold 2", &graph.Probe{DownAfter: 2, UpAfter: 1}, "FF", false},
		{"probe threshold 5", &graph.Probe{DownAfter: 5, UpAfter: 1}, "FFFF", true},
		{"success does not bring a probed member up", &graph.Probe{DownAfter: 1}, "FS", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b")...)
			p.Probe = tt.probe
			s := New()
			s.Attach(mkGraph(t, p))
			var ch changes
			s.OnChange(ch.record)
			a := p.Members[0]
			for _, ev := range tt.events {
				if ev == 'F' {
					s.ReportFailure(a, "timeout")
				} else {
					s.ReportSuccess(a)
				}
			}
			if s.Up(a.ID) != tt.up || s.MemberAvailable(a) != tt.up {
				t.Fatalf("after %s: Up=%v available=%v, want %v", tt.events, s.Up(a.ID), s.MemberAvailable(a), tt.up)
			}
			wantChanges := ""
			if !tt.up {
				wantChanges = "pool.asterisk.member.a down"
			}
			if ch.String() != wantChanges {
				t.Errorf("OnChange calls %q, want %q", ch.String(), wantChanges)
			}
			if !tt.up {
				st := s.Members()[0]
				if st.Up || !strings.Contains(st.DownReason, "timeout") {
					t.Errorf("status %+v: want down with the last failure as reason", st)
				}
				if m := s.Pick(p, nil, nil); m == nil || m.Name != "b" {
					t.Errorf("down member must not be picked: got %v", m)
				}
			}
		})
	}
}

func TestSetUpByProbing(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("a")...)
	var ch changes
	s.OnChange(ch.record)
	a := p.Members[0]
	s.SetUp(a.ID, false, "no answer to OPTIONS")
	s.SetUp(a.ID, false, "no answer to OPTIONS") // no change: no second call
	if s.Up(a.ID) || s.MemberAvailable(a) || s.Pick(p, nil, nil) != nil {
		t.Fatal("member still usable after SetUp(false)")
	}
	s.SetUp(a.ID, true, "200 to OPTIONS")
	if !s.Up(a.ID) || !s.MemberAvailable(a) {
		t.Fatal("member not back after SetUp(true)")
	}
	if got, want := ch.String(), "pool.asterisk.member.a down, pool.asterisk.member.a up"; got != want {
		t.Errorf("changes %q, want %q", got, want)
	}
	if !s.Up("pool.nope.member.x") {
		t.Error("unknown IDs must read as up")
	}
	s.SetUp("pool.nope.member.x", false, "x") // ignored, no panic
}

func TestTrafficDownRestsThenRetries(t *testing.T) {
	tests := []struct {
		name  string
		probe *graph.Probe
		retry bool
	}{
		{"no probe: retried after rest", nil, true},
		{"probe: only probing brings it back", &graph.Probe{DownAfter: 3, UpAfter: 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// b stays up: traffic never takes the last member out.
			p := mkPool("asterisk", graph.BalanceRoundRobin, names("a", "b")...)
			p.Probe = tt.probe
			s := New()
			clk := newClock(s)
			s.Attach(mkGraph(t, p))
			s.SetRetryAfter(10 * time.Second)
			a := p.Members[0]
			for i := 0; i < 3; i++ {
				s.ReportFailure(a, "408")
			}
			clk.Advance(9 * time.Second)
			if s.MemberAvailable(a) {
				t.Fatal("available before its rest is over")
			}
			s.ReportFailure(a, "503") // restarts the rest
			clk.Advance(9 * time.Second)
			if s.MemberAvailable(a) {
				t.Fatal("a new failure must restart the rest")
			}
			clk.Advance(time.Second)
			if s.MemberAvailable(a) != tt.retry {
				t.Fatalf("after rest: available=%v, want %v", s.MemberAvailable(a), tt.retry)
			}
			s.ReportSuccess(a)
			if s.Up(a.ID) != tt.retry {
				t.Fatalf("answer after rest: up=%v, want %v", s.Up(a.ID), tt.retry)
			}
		})
	}
}

// TestLastMemberStaysInService: traffic failures mark members down only
// while another member of the pool is in service; the last one stays up,
// degraded, and is still picked. An answer clears the flag; probing can
// still take it down.
func TestLastMemberStaysInService(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("a", "b", "c")...)
	var ch changes
	s.OnChange(ch.record)
	a, b, c := p.Members[0], p.Members[1], p.Members[2]
	if err := s.SetOverride(c.ID, Override{Mode: ModeDisabled}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s.ReportFailure(a, "timeout")
	}
	if s.Up(a.ID) {
		t.Fatal("a: three failures while b is in service must mark it down")
	}
	for range 10 {
		s.ReportFailure(b, "timeout")
	}
	if !s.Up(b.ID) || !s.MemberAvailable(b) || !s.Degraded(b.ID) {
		t.Fatalf("b, the last member in service (c is disabled): up=%v available=%v degraded=%v, want up, available, degraded",
			s.Up(b.ID), s.MemberAvailable(b), s.Degraded(b.ID))
	}
	if m := s.Pick(p, nil, nil); m != b {
		t.Fatalf("Pick = %v, want the degraded member b", m)
	}
	if st := s.Members()[1]; !st.Up || !st.Degraded {
		t.Errorf("status of b %+v: want up and degraded", st)
	}
	if got, want := ch.String(), "pool.asterisk.member.a down"; got != want {
		t.Errorf("changes %q, want %q", got, want)
	}
	s.ReportSuccess(b)
	if s.Degraded(b.ID) {
		t.Error("an answer must clear degraded")
	}
	s.SetUp(b.ID, false, "probe: no answer")
	if s.Up(b.ID) {
		t.Error("probing must still be able to mark the last member down")
	}
}

func TestOverridesModes(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("a", "b")...)
	a, b := p.Members[0], p.Members[1]
	if err := s.SetOverride(a.ID, Override{Mode: ModeDisabled}); err != nil {
		t.Fatal(err)
	}
	if s.MemberAvailable(a) {
		t.Fatal("disabled member available")
	}
	if got := pickN(t, s, p, 10, false); got["a"] != 0 {
		t.Fatalf("disabled member picked: %v", got)
	}
	s.StartCall(b, "c1", "f1", "u", "v")
	if err := s.SetOverride(b.ID, Override{Mode: ModeDraining}); err != nil {
		t.Fatal(err)
	}
	if s.MemberAvailable(b) || s.Pick(p, nil, nil) != nil {
		t.Fatal("draining member takes new calls")
	}
	if s.Drained(b.ID) {
		t.Fatal("drained with a call left")
	}
	s.EndCall("c1", "f1")
	if !s.Drained(b.ID) || s.Drained(a.ID) {
		t.Fatalf("Drained(b)=%v Drained(a)=%v, want true false", s.Drained(b.ID), s.Drained(a.ID))
	}
	st := s.Members()
	if st[0].Mode != ModeDisabled || st[1].Mode != ModeDraining {
		t.Errorf("modes %s %s", st[0].Mode, st[1].Mode)
	}
	s.ClearOverride(a.ID)
	s.ClearOverride(a.ID) // clearing twice is harmless
	if !s.MemberAvailable(a) || s.Members()[0].Mode != ModeEnabled {
		t.Fatal("cleared member not back to enabled")
	}
	if ov := s.Overrides(); len(ov) != 1 || ov[b.ID].Mode != ModeDraining {
		t.Fatalf("overrides %v, want only b draining", ov)
	}
}

func TestOverrideErrorsChangeNothing(t *testing.T) {
	s, p := attached(t, graph.BalanceRoundRobin, names("a")...)
	neg := -1
	tests := []struct {
		name string
		id   graph.ID
		o    Override
		want string
	}{
		{"unknown member", "pool.asterisk.member.zz", Override{Mode: ModeDisabled}, "not a member"},
		{"pool is not a member", "pool.asterisk", Override{Mode: ModeDisabled}, "not a member"},
		{"bad mode", p.Members[0].ID, Override{Mode: "off"}, "mode"},
		{"negative weight", p.Members[0].ID, Override{Weight: &neg}, "weight"},
		{"negative capacity", p.Members[0].ID, Override{Capacity: map[string]int{"pstn": -2}}, "capacity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SetOverride(tt.id, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one mentioning %q", err, tt.want)
			}
			if len(s.Overrides()) != 0 || !s.MemberAvailable(p.Members[0]) {
				t.Fatal("a refused override changed state")
			}
		})
	}
}

func TestOverridesCopyIsolated(t *testing.T) {
	s, p := attached(t, graph.BalanceResource, spec{name: "a", cap: map[string]int{"pstn": 1}})
	capa := map[string]int{"pstn": 4}
	if err := s.SetOverride(p.Members[0].ID, Override{Capacity: capa}); err != nil {
		t.Fatal(err)
	}
	capa["pstn"] = 0
	s.Overrides()[p.Members[0].ID].Capacity["pstn"] = 0
	if got := s.Members()[0].Free["pstn"]; got != 4 {
		t.Fatalf("free %d: the stored override was changed from outside", got)
	}
	err := s.UpdateOverride(p.Members[0].ID, func(o Override) Override {
		o.Mode = ModeDraining
		return o
	})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := s.Override(p.Members[0].ID)
	if o.Mode != ModeDraining || o.Capacity["pstn"] != 4 {
		t.Fatalf("UpdateOverride lost a field: %+v", o)
	}
}
