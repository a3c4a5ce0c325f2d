package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/runtime/admin"
)

// TestOpsCtlDisableDrainWeight drives a running `sipfront serve` with the
// real `sipfront ctl`: disable stops new calls to a member at once; drain
// lets the member's calls in progress finish, takes no new ones and
// reports drained at zero; weight changes the spread of the next few
// hundred calls.
func TestOpsCtlDisableDrainWeight(t *testing.T) {
	needSipp(t)
	boxes, members := threeBoxes(t, "uas.xml")
	proxyPort, adminPort := freePort(t), freePort(t)
	o := startOps(t, opsPolicy(proxyPort, adminPort, opsPool{balance: "weighted", members: members}), proxyPort, adminPort)
	id1, id2 := string(memberID("box1")), string(memberID("box2"))
	short := caller{scenario: "uac.xml", service: "alice", rate: 30, holdMS: 0}

	// disable: the next calls avoid box1 entirely.
	if out := o.ctl(t, "disable", id1); !strings.Contains(out, "disabled") {
		t.Errorf("ctl disable printed %q", out)
	}
	before := boxCounts(boxes)
	c := short
	c.calls = 30
	checkCaller(t, runCaller(t, o.addr, c), 30)
	disabled := waitDeltas(t, boxes, before, 30)
	if disabled[0] != 0 || disabled[1] != 15 || disabled[2] != 15 {
		t.Errorf("after ctl disable box1, 30 calls went %v; want [0 15 15]", disabled)
	}
	o.ctl(t, "enable", id1)

	// drain: box2 holds calls in progress; it takes no new ones, its calls
	// finish normally, and it reports drained at zero.
	long := startCaller(t, o.addr, caller{scenario: "uac.xml", service: "alice", calls: 9, rate: 30, holdMS: 3000})
	o.waitActive(t, 9, 10*time.Second)
	held := o.pools(t)["box2"].ActiveCalls
	if held == 0 {
		t.Fatalf("box2 holds no call of the 9 long ones: %+v", o.pools(t))
	}
	drainAt := time.Now()
	if out := o.ctl(t, "drain", id2); !strings.Contains(out, "draining") {
		t.Errorf("ctl drain printed %q", out)
	}
	if v := o.pools(t)["box2"]; v.Drained || v.ActiveCalls != held || v.Mode != "draining" {
		t.Errorf("box2 right after drain: mode %s, drained %v, %d calls; want draining, not drained, %d calls", v.Mode, v.Drained, v.ActiveCalls, held)
	}
	var calls admin.Calls
	if err := json.Unmarshal([]byte(o.ctl(t, "calls", "--member", id2, "-json")), &calls); err != nil || len(calls.Calls) != held {
		t.Errorf("ctl calls --member box2: %d calls (%v), want %d", len(calls.Calls), err, held)
	}
	before = settled(t, boxes, 30+9) // the long calls' INVITEs counted
	c.calls = 12
	checkCaller(t, runCaller(t, o.addr, c), 12)
	if d := waitDeltas(t, boxes, before, 12); d[1] != 0 {
		t.Errorf("box2 took %d new calls while draining (per box %v)", d[1], d)
	}
	checkCaller(t, long.result(t, 30*time.Second), 9) // the drained calls ended normally
	v, _ := o.waitMember(t, "box2", 10*time.Second, "drained", func(v admin.MemberView) bool { return v.Drained })
	took := time.Since(drainAt)
	if v.ActiveCalls != 0 {
		t.Errorf("box2 drained with %d active calls", v.ActiveCalls)
	}
	if line := lineWith(o.ctl(t, "pools"), id2); !strings.Contains(line, "draining (drained)") {
		t.Errorf("ctl pools shows box2 as %q, want draining (drained)", line)
	}
	o.ctl(t, "enable", id2)

	// weight: box1 at 4 against 1 and 1 takes two thirds of the next 300
	// calls (smooth weighted round robin is exact).
	if out := o.ctl(t, "weight", id1, "4"); !strings.Contains(out, "weight 4") {
		t.Errorf("ctl weight printed %q", out)
	}
	before = boxCounts(boxes)
	c = caller{scenario: "uac.xml", service: "alice", calls: 300, rate: 100, holdMS: 0}
	checkCaller(t, runCaller(t, o.addr, c), 300)
	spread := waitDeltas(t, boxes, before, 300)
	want := []int64{200, 50, 50}
	for i := range want {
		if spread[i] < want[i]-3 || spread[i] > want[i]+3 {
			t.Errorf("with weights 4/1/1 300 calls went %v; want %v (±3)", spread, want)
			break
		}
	}
	t.Logf("disable box1: 30 calls %v; drain box2 with %d calls in progress (3 s long): reported drained %v after ctl drain, 12 new calls avoided it; "+
		"weight 1/1/1 -> 4/1/1: 300 calls %v", disabled, held, took.Round(time.Millisecond), spread)
}
