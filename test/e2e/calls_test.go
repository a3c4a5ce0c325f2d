package e2e

import (
	"testing"
)

// TestRoundRobin1000Calls is the main job: a sipp caller places 1,000 calls
// (INVITE, 200, ACK, BYE) through the proxy to three sipp boxes at a brisk
// rate; none may fail and round robin must spread them evenly.
func TestRoundRobin1000Calls(t *testing.T) {
	needSipp(t)
	const calls = 1000
	boxes, members := threeBoxes(t, "uas.xml")
	port := freePort(t)
	p := startProxy(t, writePolicy(t, policyText(port, pool{balance: "round-robin", members: members}, "")), addr(port))

	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "alice", calls: calls, rate: 100, holdMS: 100})
	checkCaller(t, r, calls)

	counts := stopBoxes(t, boxes)
	total := int64(0)
	for i, c := range counts {
		n := invites(c)
		total += n
		// Within ±1 of a third: 333.3 ± 1 allows only 333 and 334.
		if 3*n < calls-3 || 3*n > calls+3 {
			t.Errorf("%s got %d calls, want %d±1 (a third of %d)", members[i].name, n, calls/3, calls)
		}
		if byes := column(c, "_BYE_Recv"); byes != n {
			t.Errorf("%s got %d INVITEs but %d BYEs; every call must end on its box", members[i].name, n, byes)
		}
	}
	t.Logf("round robin: %d calls, %d ok, %d failed; per box %v", r.created, r.ok, r.failed, spread(counts))
	if total != calls {
		t.Errorf("boxes got %d INVITEs in all, want %d (no retries on healthy boxes)", total, calls)
	}
}

// TestWeighted checks that weighted balancing follows the weights 1:2:3.
func TestWeighted(t *testing.T) {
	needSipp(t)
	const calls = 300
	boxes, members := threeBoxes(t, "uas.xml", 1, 2, 3)
	port := freePort(t)
	p := startProxy(t, writePolicy(t, policyText(port, pool{balance: "weighted", members: members}, "")), addr(port))

	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "alice", calls: calls, rate: 100, holdMS: 50})
	checkCaller(t, r, calls)

	counts := stopBoxes(t, boxes)
	for i, c := range counts {
		want := int64(calls * members[i].weight / 6)
		// Smooth weighted round robin is exact over whole cycles of 6.
		if n := invites(c); n < want-2 || n > want+2 {
			t.Errorf("%s (weight %d) got %d calls, want %d±2", members[i].name, members[i].weight, n, want)
		}
	}
	t.Logf("weighted 1:2:3: per box %v", spread(counts))
}

// TestFailover503AndSilent puts a box answering 503 and a box that never
// answers in front of one healthy box: the caller must see no failure.
func TestFailover503AndSilent(t *testing.T) {
	needSipp(t)
	const calls = 30
	ports := []int{freePort(t), freePort(t), freePort(t)}
	boxes := []*sippProc{
		startBox(t, "busy", "uas_503.xml", ports[0]),
		startBox(t, "hung", "uas_silent.xml", ports[1]),
		startBox(t, "good", "uas.xml", ports[2]),
	}
	members := []member{{name: "busy", port: ports[0]}, {name: "hung", port: ports[1]}, {name: "good", port: ports[2]}}
	port := freePort(t)
	fo := "on = [503]\nmax_tries = 3\ntimeout = \"1s\""
	p := startProxy(t, writePolicy(t, policyText(port, pool{balance: "round-robin", failover: fo, members: members}, "")), addr(port))

	r := runCaller(t, p.addr, caller{scenario: "uac.xml", service: "alice", calls: calls, rate: 10, limit: 50, holdMS: 100})
	checkCaller(t, r, calls)

	counts := stopBoxes(t, boxes)
	busy, hung, good := invites(counts[0]), invites(counts[1]), invites(counts[2])
	t.Logf("failover: busy(503) got %d INVITEs, hung got %d, good answered %d", busy, hung, good)
	if good != calls {
		t.Errorf("the healthy box got %d calls, want all %d", good, calls)
	}
	if busy == 0 || hung == 0 {
		t.Errorf("failover was not exercised: busy box got %d INVITEs, hung box %d; want both > 0", busy, hung)
	}
}

// stopBoxes stops every box and returns their counts in order.
func stopBoxes(t *testing.T, boxes []*sippProc) []map[string]int64 {
	t.Helper()
	out := make([]map[string]int64, len(boxes))
	for i, b := range boxes {
		out[i] = b.stop(t)
	}
	return out
}

// spread lists the INVITEs per box, for logs.
func spread(counts []map[string]int64) []int64 {
	out := make([]int64, len(counts))
	for i, c := range counts {
		out[i] = invites(c)
	}
	return out
}
