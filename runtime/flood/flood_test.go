package flood

import (
	"net/netip"
	"sync"
	"testing"
	"time"
	"unsafe"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestCheck(t *testing.T) {
	src := netip.MustParseAddr("203.0.113.9")
	cfg := Config{Window: 2 * time.Second, MaxRequests: 30, Block: time.Minute}
	for _, tc := range []struct {
		name string
		// sends counts requests sent evenly over span, from t0+from
		// (after one at t0 when from > 0).
		sends      int
		from, span time.Duration
		// then is one more request at t0+at.
		at   time.Duration
		want Verdict
	}{
		{"at the rate", 29, 0, time.Second, time.Second, Allowed},
		{"over the rate in one window", 30, 0, time.Second, time.Second, Blocked},
		{"over the rate across two windows, under it in each", 44, time.Second, 2 * time.Second, 3 * time.Second, Blocking},
		{"the same rate spread over four windows", 30, 0, 8 * time.Second, 8 * time.Second, Allowed},
		{"blocked source stays blocked", 60, 0, time.Second, 30 * time.Second, Blocking},
		{"block expires", 60, 0, time.Second, 62 * time.Second, Allowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := New(cfg, 64)
			if tc.from > 0 { // the first request starts the window
				tb.Check(src, t0)
			}
			for i := range tc.sends {
				tb.Check(src, t0.Add(tc.from+tc.span*time.Duration(i)/time.Duration(tc.sends)))
			}
			if got := tb.Check(src, t0.Add(tc.at)); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRateIsCutToTheConfiguredRate(t *testing.T) {
	// 5000 requests a second for 10 s: with max 30 per 2 s and a 4 s
	// block, at most 30 pass per window, then one window's worth after
	// each block.
	tb := New(Config{Window: 2 * time.Second, MaxRequests: 30, Block: 4 * time.Second}, 64)
	src := netip.MustParseAddr("198.51.100.1")
	passed := 0
	for i := range 50000 {
		if tb.Check(src, t0.Add(time.Duration(i)*200*time.Microsecond)) == Allowed {
			passed++
		}
	}
	// Blocks start at 0 s, ~4 s, ~8 s: 3 × 30 requests.
	if passed < 30 || passed > 3*30 {
		t.Errorf("%d requests passed, want 30..90", passed)
	}
	if s := tb.Stats(); s.Blocks != 3 || s.Dropped != uint64(50000-passed) {
		t.Errorf("stats %+v", s)
	}
}

func TestExempt(t *testing.T) {
	tb := New(Config{MaxRequests: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, 64)
	for i := range 100 {
		if v := tb.Check(netip.MustParseAddr("10.1.2.3"), t0.Add(time.Duration(i))); v != Exempt {
			t.Fatalf("request %d: %v", i, v)
		}
	}
	if tb.Stats().Checked != 0 || len(tb.List(t0, false)) != 0 {
		t.Errorf("exempt source counted")
	}
	// An IPv4-mapped IPv6 address is the same source.
	if v := tb.Check(netip.MustParseAddr("::ffff:10.1.2.3"), t0); v != Exempt {
		t.Errorf("mapped address: %v", v)
	}
}

func TestBoundedUnderAddressCycling(t *testing.T) {
	tb := New(Config{MaxRequests: 5, Block: time.Hour}, 1024)
	flooder := netip.MustParseAddr("192.0.2.66")
	for i := range 10 {
		tb.Check(flooder, t0.Add(time.Duration(i)))
	}
	if !tb.flooding(flooder, t0) {
		t.Fatal("flooder not blocked")
	}
	// One million one-shot sources: the table never grows, and the
	// blocked flooder is not the one evicted.
	for i := range 1 << 20 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		tb.Check(ip, t0.Add(time.Second))
	}
	if got := len(tb.List(t0.Add(time.Second), false)); got > tb.Capacity() {
		t.Errorf("%d entries in a table of %d", got, tb.Capacity())
	}
	if tb.Capacity() != 1024 || len(tb.sets)*ways != 1024 {
		t.Errorf("capacity %d", tb.Capacity())
	}
	if !tb.flooding(flooder, t0.Add(time.Second)) {
		t.Error("address cycling evicted the blocked flooder")
	}
	if tb.Stats().Evicted == 0 {
		t.Error("no eviction counted")
	}
	if sz := unsafe.Sizeof(entry{}); sz > 64 {
		t.Errorf("entry is %d octets, docs say 64", sz)
	}
}

func (t *Table) flooding(ip netip.Addr, now time.Time) bool {
	for _, e := range t.List(now, true) {
		if e.IP == ip {
			return true
		}
	}
	return false
}

func TestListAndClear(t *testing.T) {
	tb := New(Config{MaxRequests: 1}, 64)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	now := time.Now()
	tb.Check(a, now)
	tb.Check(b, now)
	tb.Check(b, now)
	if l := tb.List(now, false); len(l) != 2 {
		t.Fatalf("list %+v", l)
	}
	bl := tb.List(now, true)
	if len(bl) != 1 || bl[0].IP != b || bl[0].BlockedUntil.IsZero() || !tb.Flooding(b) || tb.Flooding(a) {
		t.Fatalf("blocked %+v", bl)
	}
	if !tb.Clear(b) || tb.Clear(b) || tb.Flooding(b) {
		t.Error("Clear")
	}
	tb.Check(a, now)
	if n := tb.ClearAll(); n != 1 || len(tb.List(now, false)) != 0 {
		t.Errorf("ClearAll cleared %d blocked", n)
	}
}

func TestConcurrent(t *testing.T) {
	tb := New(Config{MaxRequests: 100}, 256)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 5000 {
				ip := netip.AddrFrom4([4]byte{10, 0, byte(g), byte(i % 64)})
				tb.Check(ip, time.Now())
				tb.Flooding(ip)
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			tb.List(time.Now(), false)
			tb.Configure(Config{MaxRequests: 50})
		}
	})
	wg.Wait()
	if tb.Stats().Checked != 8*5000 {
		t.Errorf("checked %d", tb.Stats().Checked)
	}
}

func TestCheckAllocatesNothing(t *testing.T) {
	tb := New(Config{Exempt: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, 1024)
	ip := netip.MustParseAddr("203.0.113.5")
	if n := testing.AllocsPerRun(1000, func() { tb.Check(ip, time.Now()) }); n != 0 {
		t.Errorf("Check allocates %.0f", n)
	}
}

// BenchmarkCheck compares the per-request check with a plain map update
// under a mutex, the naive alternative, in the same run.
func BenchmarkCheck(b *testing.B) {
	ips := make([]netip.Addr, 4096)
	for i := range ips {
		ips[i] = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
	}
	b.Run("table", func(b *testing.B) {
		tb := New(Config{}, 0)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tb.Check(ips[i&4095], time.Now())
			i++
		}
	})
	b.Run("map-baseline", func(b *testing.B) {
		var mu sync.Mutex
		m := map[netip.Addr]int{}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			mu.Lock()
			m[ips[i&4095]]++
			mu.Unlock()
			_ = time.Now()
			i++
		}
	})
}
