package graph

import (
	"fmt"
	"math/rand/v2"
	goruntime "runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// lcrGraph builds a graph with the given carriers and one route to all of
// them.
func lcrGraph(tb testing.TB, carriers ...*Carrier) *Graph {
	tb.Helper()
	g := &Graph{Carriers: carriers, Routes: []*Route{{ID: "route.pstn", Target: TargetCarriers}}}
	if err := g.Seal(); err != nil {
		tb.Fatal(err)
	}
	return g
}

func carrier(name string, prio, weight int, prefixes ...string) *Carrier {
	c := &Carrier{ID: ID("carrier." + name), Name: name, Host: name + ".example", Priority: prio, Weight: weight}
	for _, p := range prefixes {
		c.Prefixes = append(c.Prefixes, CarrierPrefix{Prefix: p, Priority: int32(prio)})
	}
	return c
}

// fakeCarriers is a State whose carrier statuses come from a map.
type fakeCarriers struct {
	StaticState
	status map[ID]CarrierStatus
}

func (f fakeCarriers) CarrierStatus(c *Carrier) CarrierStatus { return f.status[c.ID] }

func order(d Decision) string {
	s := ""
	for i, c := range d.Candidates {
		if i > 0 {
			s += " "
		}
		s += c.Carrier.Name
		if !c.Eligible() {
			s += "(" + c.Status.Skip.String() + ")"
		}
	}
	return s
}

func TestLCROrder(t *testing.T) {
	acme := carrier("acme", 1, 1, "+1", "+1212")
	bravo := carrier("bravo", 2, 1, "+1", "+44")
	cheap := carrier("cheap", 0, 1, "+1212555")
	backup := carrier("backup", 9, 1, "+")
	g := lcrGraph(t, acme, bravo, cheap, backup)
	tests := []struct {
		name, number string
		status       map[ID]CarrierStatus
		want, taken  string
		prefix       string
	}{
		{name: "longest prefix first, then shorter ones", number: "+12125550100", want: "cheap acme bravo backup", taken: "cheap", prefix: "+1212555"},
		{name: "priority inside a prefix", number: "+13125550100", want: "acme bravo backup", taken: "acme", prefix: "+1"},
		{name: "only the backup serves France", number: "+33123456789", want: "backup", taken: "backup", prefix: "+"},
		{name: "nobody serves a national number", number: "0123", want: "", taken: ""},
		{name: "down and at limits are skipped", number: "+12125550100",
			status: map[ID]CarrierStatus{"carrier.cheap": {Skip: SkipDown}, "carrier.acme": {Skip: SkipCPS}},
			want:   "cheap(down) acme(cps limit) bravo backup", taken: "bravo", prefix: "+1212555"},
		{name: "critical quality goes last", number: "+13125550100",
			status: map[ID]CarrierStatus{"carrier.acme": {Quality: QualityCritical}},
			want:   "bravo backup acme", taken: "bravo", prefix: "+1"},
		{name: "critical quality still takes the call when alone", number: "+33123",
			status: map[ID]CarrierStatus{"carrier.backup": {Quality: QualityCritical}},
			want:   "backup", taken: "backup", prefix: "+"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Method: "INVITE", RURI: URI{User: tt.number}, CallID: "c1"}
			d := g.Decide(&req, fakeCarriers{status: tt.status}, nil)
			if got := order(d); got != tt.want {
				t.Errorf("order %q, want %q", got, tt.want)
			}
			taken := ""
			if d.Carrier != nil {
				taken = d.Carrier.Name
			}
			if taken != tt.taken || d.LCRPrefix != tt.prefix {
				t.Errorf("taken %q by %q, want %q by %q", taken, d.LCRPrefix, tt.taken, tt.prefix)
			}
			if tt.taken == "" && (d.Action != ActionReply || d.Status != 503) {
				t.Errorf("no carrier: %v %d, want reply 503", d.Action, d.Status)
			}
		})
	}
}

// TestLCRWeights checks that equal priorities split calls by weight, that
// a call's carrier depends only on its Call-ID, and that a warned carrier
// gets half its share.
func TestLCRWeights(t *testing.T) {
	a, b := carrier("a", 1, 1, "+1"), carrier("b", 1, 3, "+1")
	g := lcrGraph(t, a, b)
	const calls = 20000
	for _, tt := range []struct {
		name   string
		status map[ID]CarrierStatus
		wantA  float64
	}{
		{"1:3", nil, 0.25},
		{"b warned: 1:1.5", map[ID]CarrierStatus{"carrier.b": {Quality: QualityWarn}}, 0.4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := fakeCarriers{status: tt.status}
			n := 0
			for i := range calls {
				req := Request{RURI: URI{User: "+12125550100"}, CallID: fmt.Sprintf("call-%d@10.0.0.11", i)}
				d := g.Decide(&req, st, nil)
				if d.Carrier == a {
					n++
				}
				again := Request{RURI: URI{User: "+12125550100"}, CallID: req.CallID}
				if g.Decide(&again, st, nil).Carrier != d.Carrier {
					t.Fatalf("call %s: a second decision took another carrier", req.CallID)
				}
			}
			if got := float64(n) / calls; got < tt.wantA-0.015 || got > tt.wantA+0.015 {
				t.Errorf("carrier a took %.3f of calls, want %.3f", got, tt.wantA)
			}
		})
	}
}

func TestCarrierNumber(t *testing.T) {
	for _, tt := range []struct {
		strip   int
		prepend string
		in, out string
	}{
		{0, "", "+12125550100", "+12125550100"},
		{1, "00", "+12125550100", "0012125550100"},
		{2, "", "+1", ""},
		{5, "9", "+1", "9"},
	} {
		c := &Carrier{Strip: tt.strip, Prepend: tt.prepend}
		if got := c.Number(tt.in); got != tt.out {
			t.Errorf("strip %d prepend %q: %q -> %q, want %q", tt.strip, tt.prepend, tt.in, got, tt.out)
		}
	}
}

func TestDecideLCRAllocs(t *testing.T) {
	g := lcrGraph(t, carrier("acme", 1, 1, "+1", "+1212"), carrier("bravo", 1, 2, "+1"), carrier("backup", 9, 1, "+"))
	var st State = StaticState{}
	req := new(Request)
	allocs := testing.AllocsPerRun(100, func() {
		*req = Request{Method: "INVITE", RURI: URI{User: "+12125550100"}, CallID: "abc@host"}
		g.Decide(req, st, nil)
	})
	if allocs != 0 {
		t.Errorf("an LCR decision allocates %v times, want 0", allocs)
	}
}

// millionCarriers generates five carriers sharing 1,000,000 prefix rows of
// 4 to 9 digits, as a rates table would.
func millionCarriers() []*Carrier {
	r := rand.New(rand.NewPCG(1, 2))
	cs := make([]*Carrier, 5)
	for i := range cs {
		cs[i] = &Carrier{ID: ID("carrier.c" + strconv.Itoa(i)), Name: "c" + strconv.Itoa(i), Host: "gw", Priority: 1, Weight: 1 + i}
	}
	seen := make(map[string]bool, 1_000_000)
	for n := 0; n < 1_000_000; {
		p := "+" + strconv.Itoa(1+r.IntN(9)) + strconv.FormatUint(1e9+r.Uint64N(1e9), 10)[1:4+r.IntN(6)]
		c := cs[r.IntN(len(cs))]
		if seen[c.Name+p] {
			continue
		}
		seen[c.Name+p] = true
		c.Prefixes = append(c.Prefixes, CarrierPrefix{Prefix: p, Priority: int32(r.IntN(3))})
		n++
	}
	cs = append(cs, &Carrier{ID: "carrier.backup", Name: "backup", Host: "gw", Priority: 9, Weight: 1,
		Prefixes: []CarrierPrefix{{Prefix: "+", Priority: 9}}})
	return cs
}

func TestLCRMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1,000,000-row table")
	}
	cs := millionCarriers()
	start := time.Now()
	g := lcrGraph(t, cs...)
	t.Logf("sealed %d rows (%d prefixes) in %v", g.LCR.Rows(), g.LCR.Prefixes(), time.Since(start))
	// Every row is found as its own longest prefix.
	for _, c := range cs {
		for _, p := range c.Prefixes[:min(len(c.Prefixes), 2000)] {
			req := Request{RURI: URI{User: p.Prefix + "000"}, CallID: "x"}
			d := g.Decide(&req, StaticState{}, nil)
			if !listed(d.Candidates, c) {
				t.Fatalf("%s: %s not among the candidates of %s", p.Prefix, c.Name, req.RURI.User)
			}
		}
	}
}

// BenchmarkLCRDecide is one least-cost decision in a 1,000,000-row table.
func BenchmarkLCRDecide(b *testing.B) {
	cs := millionCarriers()
	g := lcrGraph(b, cs...)
	numbers := make([]string, 1024)
	for i := range numbers {
		c := cs[i%5]
		numbers[i] = c.Prefixes[i%len(c.Prefixes)].Prefix + "12345"
	}
	var st State = StaticState{}
	req := new(Request)
	goruntime.GC() // the generator's garbage, collected before the clock starts
	b.ReportAllocs()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		*req = Request{Method: "INVITE", RURI: URI{User: numbers[i&1023]}, CallID: "abc@host"}
		g.Decide(req, st, nil)
		i++
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's CPU time (user+system): on a machine shared
// with other work, cpu-ns/op moves much less than ns/op, which counts the
// time the benchmark waited for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLCRBuild is the time Seal takes to index 1,000,000 rows.
func BenchmarkLCRBuild(b *testing.B) {
	cs := millionCarriers()
	b.ReportAllocs()
	for b.Loop() {
		NewLCRTable(cs)
	}
}

// BenchmarkLCRDecideSmall is the same decision in a three-carrier table:
// the baseline of BenchmarkLCRDecide.
func BenchmarkLCRDecideSmall(b *testing.B) {
	g := lcrGraph(b, carrier("acme", 1, 1, "+1", "+1212"), carrier("bravo", 1, 2, "+1"), carrier("backup", 9, 1, "+"))
	var st State = StaticState{}
	req := new(Request)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		*req = Request{Method: "INVITE", RURI: URI{User: "+12125550100"}, CallID: "abc@host"}
		g.Decide(req, st, nil)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
