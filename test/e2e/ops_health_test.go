package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sipfront/sipfront/runtime/admin"
)

// TestOpsProbeDownFailoverAndBack: three probed boxes behind `sipfront
// serve`. A box that stops answering is marked down by probing within
// interval × threshold plus one interval (the bound, observed on
// /v1/pools); calls placed while a box is dead all succeed through
// failover; a box that comes back is re-enabled by probing and takes its
// share of calls again.
func TestOpsProbeDownFailoverAndBack(t *testing.T) {
	needSipp(t)
	const (
		interval  = time.Second
		threshold = 2
		bound     = interval*threshold + interval
	)
	var boxes []*sippProc
	var members []member
	for i := range 3 {
		port := freePort(t)
		name := fmt.Sprintf("box%d", i+1)
		boxes = append(boxes, startProbedBox(t, name, "uas.xml", port))
		members = append(members, member{name: name, port: port})
	}
	proxyPort, adminPort := freePort(t), freePort(t)
	o := startOps(t, opsPolicy(proxyPort, adminPort, opsPool{
		balance:  "round-robin",
		probe:    fmt.Sprintf("interval  = %q\ntimeout   = \"300ms\"\nthreshold = %d\nrecover   = 2", interval, threshold),
		failover: "on = [408, 500, 502, 503, 504]\nmax_tries = 3\ntimeout = \"1s\"",
		members:  members,
	}), proxyPort, adminPort)
	for _, m := range members {
		o.waitMember(t, m.name, 5*time.Second, "up with a good probe", func(v admin.MemberView) bool {
			return v.Up && v.Probe != nil && v.Probe.OK
		})
	}

	// 1. box2 stops answering: probing alone marks it down within the bound.
	boxes[1].kill()
	killed := time.Now()
	down, _ := o.waitMember(t, "box2", bound+5*time.Second, "down", func(v admin.MemberView) bool { return !v.Up })
	detect := time.Since(killed)
	if detect > bound {
		t.Errorf("box2 marked down %v after it stopped answering; the bound is interval × threshold + interval = %v", detect, bound)
	}
	if !strings.HasPrefix(down.DownReason, "probe:") {
		t.Errorf("box2 down reason %q, want a probe verdict", down.DownReason)
	}
	if line := lineWith(o.ctl(t, "pools"), string(memberID("box2"))); !strings.Contains(line, "DOWN") {
		t.Errorf("ctl pools shows box2 as %q, want DOWN", line)
	}

	// 2. It comes back (a new box on the same port): probing re-enables it.
	boxes[1] = startProbedBox(t, "box2-back", "uas.xml", members[1].port)
	_, back := o.waitMember(t, "box2", 4*interval+5*time.Second, "up again", func(v admin.MemberView) bool { return v.Up })

	// 3. It stops answering again and calls start at once, before any
	// probe noticed: every call succeeds through failover.
	boxes[1].kill()
	before := boxCounts(boxes)
	r := runCaller(t, o.addr, caller{scenario: "uac.xml", service: "alice", calls: 30, rate: 15, holdMS: 0})
	checkCaller(t, r, 30)
	d := waitDeltas(t, boxes, before, 30)
	if d[0]+d[2] != 30 {
		t.Errorf("box1 and box3 took %d and %d of the 30 calls placed while box2 was dead; want all 30", d[0], d[2])
	}
	if v := o.pools(t)["box2"]; v.Up {
		t.Errorf("box2 still up after 30 calls while dead: %+v", v)
	}

	// 4. It comes back again and takes calls again.
	boxes[1] = startProbedBox(t, "box2-back-again", "uas.xml", members[1].port)
	_, back2 := o.waitMember(t, "box2", 4*interval+5*time.Second, "up again", func(v admin.MemberView) bool { return v.Up })
	before = boxCounts(boxes)
	r = runCaller(t, o.addr, caller{scenario: "uac.xml", service: "alice", calls: 30, rate: 30, holdMS: 0})
	checkCaller(t, r, 30)
	after := waitDeltas(t, boxes, before, 30)
	if after[1] < 9 {
		t.Errorf("after coming back box2 took %d of 30 round-robin calls; want about 10 (per box: %v)", after[1], after)
	}
	t.Logf("probe interval %v, threshold %d: down after %v (bound %v, reason %q); re-enabled after %v and %v; "+
		"30 calls while dead: %v per box, all ok; 30 calls after: %v per box", interval, threshold, detect.Round(time.Millisecond),
		bound, down.DownReason, back.Round(time.Millisecond), back2.Round(time.Millisecond), d, after)
}

// lineWith returns the first line of s that contains sub.
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
