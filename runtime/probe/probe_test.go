package probe

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// slack absorbs goroutine scheduling on a loaded test machine; it is far
// below one interval so the bound still proves the threshold logic.
const slack = 60 * time.Millisecond

func testProbe() *graph.Probe {
	return &graph.Probe{Interval: 100 * time.Millisecond, Timeout: 60 * time.Millisecond,
		DownAfter: 3, UpAfter: 2, Accept: []int{2}}
}

// A box that stops answering is down within interval × DownAfter (+ one
// interval), not before DownAfter probes had the chance to fail, and is up
// again within interval × UpAfter (+ one interval) of coming back.
func TestDownWhenSilentAndBackWhenAnswering(t *testing.T) {
	pr := testProbe()
	a, b := newPeer(t, 200), newPeer(t, 200)
	g := poolGraph(t, pr, a, b)
	h := newHealth()
	p := runProber(t, newSource(t, g), h)
	id := g.Pools[0].Members[0].ID

	waitProbed(t, p, id, 2)
	stopped := time.Now()
	a.stop()
	downAt := h.waitFor(t, id, false, 2*time.Second)
	took := downAt.Sub(stopped)
	limit := pr.Interval*time.Duration(pr.DownAfter+1) + slack
	if took > limit {
		t.Errorf("marked down after %s, want within %s", took, limit)
	}
	if min := pr.Interval * time.Duration(pr.DownAfter-1); took < min {
		t.Errorf("marked down after %s, before %d probes could fail (%s)", took, pr.DownAfter, min)
	}
	assertReason(t, h, id, "3 consecutive failures, last: no answer within 60ms")
	t.Logf("silent box marked down after %s (bound %s)", took, limit)

	started := time.Now()
	a.start()
	upAt := h.waitFor(t, id, true, 2*time.Second)
	if took, limit := upAt.Sub(started), pr.Interval*time.Duration(pr.UpAfter+1)+slack; took > limit {
		t.Errorf("marked up after %s, want within %s", took, limit)
	} else {
		t.Logf("restarted box marked up after %s (bound %s)", took, limit)
	}
	for _, c := range h.snapshot() {
		if c.id != id {
			t.Errorf("healthy member changed state: %+v", c)
		}
	}
}

// An answer whose code is not accepted counts as a failure.
func TestRejectedCodeMarksDown(t *testing.T) {
	pr := testProbe()
	pr.Accept = []int{200, 4} // 200, or any 4xx
	a, b := newPeer(t, 404), newPeer(t, 503)
	g := poolGraph(t, pr, a, b)
	h := newHealth()
	runProber(t, newSource(t, g), h)
	h.waitFor(t, g.Pools[0].Members[1].ID, false, 2*time.Second)
	assertReason(t, h, g.Pools[0].Members[1].ID, "answered 503, not accepted")
	time.Sleep(pr.Interval * time.Duration(pr.DownAfter+1))
	if !h.Up(g.Pools[0].Members[0].ID) {
		t.Error("member answering an accepted 404 was marked down")
	}
}

// A member marked down by traffic (failover) while it answers probes comes
// back only after UpAfter fresh good probes, not at once.
func TestTrafficDownComesBackByProbe(t *testing.T) {
	pr := testProbe()
	pr.UpAfter = 4
	a := newPeer(t, 200)
	g := poolGraph(t, pr, a)
	h := newHealth()
	p := runProber(t, newSource(t, g), h)
	id := g.Pools[0].Members[0].ID
	waitProbed(t, p, id, pr.UpAfter+1)

	marked := time.Now()
	h.SetUp(id, false, "traffic: 503")
	upAt := h.waitFor(t, id, true, 2*time.Second)
	if took := upAt.Sub(marked); took < pr.Interval*time.Duration(pr.UpAfter-1) {
		t.Errorf("back up after %s: earlier good probes were counted", took)
	}
}

// A reload that adds a member gets it probed; one that removes a member
// stops probing it; one that drops the probe block stops all probes.
func TestFollowsReload(t *testing.T) {
	pr := testProbe()
	a, b := newPeer(t, 200), newPeer(t, 200)
	g1 := poolGraph(t, pr, a)
	src := newSource(t, g1)
	h := newHealth()
	p := runProber(t, src, h)
	ast1 := g1.Pools[0].Members[0].ID
	waitProbed(t, p, ast1, 1)

	g2 := poolGraph(t, pr, a, b)
	src.g.Store(g2)
	ast2 := g2.Pools[0].Members[1].ID
	waitProbed(t, p, ast2, 2)

	g3 := poolGraph(t, pr, b) // b is now named ast1, the old ast2 is gone
	src.g.Store(g3)
	waitGone(t, p, ast2)

	g4 := poolGraph(t, nil, a, b)
	src.g.Store(g4)
	waitGone(t, p, ast1)
	if len(h.snapshot()) != 0 {
		t.Errorf("healthy members changed state: %+v", h.snapshot())
	}
}

func TestAccepts(t *testing.T) {
	cases := []struct {
		accept []int
		code   int
		want   bool
	}{
		{nil, 200, true}, {nil, 299, true}, {nil, 404, false},
		{[]int{2}, 202, true}, {[]int{2}, 302, false},
		{[]int{200, 404}, 404, true}, {[]int{200, 404}, 403, false},
		{[]int{2, 4}, 408, true}, {[]int{5}, 503, true}, {[]int{200}, 0, false},
	}
	for _, c := range cases {
		if got := Accepts(c.accept, c.code); got != c.want {
			t.Errorf("Accepts(%v, %d) = %v, want %v", c.accept, c.code, got, c.want)
		}
	}
}

func TestJudgeTransportError(t *testing.T) {
	ok, why := judge(testProbe(), 0, errors.New("connection refused"))
	if ok || why != "connection refused" {
		t.Errorf("judge = %v %q", ok, why)
	}
}

// waitProbed waits until the member has n consecutive good probes.
func waitProbed(t *testing.T, p *Prober, id graph.ID, n int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if r, ok := p.Last(id); ok && r.Goods >= n {
			return
		}
	}
	r, ok := p.Last(id)
	t.Fatalf("%s: no %d good probes within 2s (last %+v, probed %v)", id, n, r, ok)
}

// waitGone waits until the prober has dropped the member.
func waitGone(t *testing.T, p *Prober, id graph.ID) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, ok := p.Last(id); !ok {
			return
		}
	}
	t.Fatalf("%s still probed 2s after it left the graph", id)
}

func assertReason(t *testing.T, h *health, id graph.ID, want string) {
	t.Helper()
	for _, c := range h.snapshot() {
		if c.id == id && !c.up && strings.Contains(c.reason, want) {
			return
		}
	}
	t.Errorf("no down change for %s with reason containing %q: %+v", id, want, h.snapshot())
}
