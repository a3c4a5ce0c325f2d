package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestOpsPlanAgainst runs `sipfront plan NEW --against ADMIN_URL` against
// a running `sipfront serve`: a member disabled with ctl shows as drift,
// and the live calls of a member that NEW removes are listed. Once the
// override is cleared and the calls ended, planning the running policy
// against itself changes nothing (exit 0).
func TestOpsPlanAgainst(t *testing.T) {
	needSipp(t)
	_, members := threeBoxes(t, "uas.xml")
	proxyPort, adminPort := freePort(t), freePort(t)
	o := startOps(t, opsPolicy(proxyPort, adminPort, opsPool{balance: "round-robin", members: members}), proxyPort, adminPort)
	id1, id3 := string(memberID("box1")), string(memberID("box3"))

	o.ctl(t, "disable", id1)
	long := startCaller(t, o.addr, caller{scenario: "uac.xml", service: "alice", calls: 6, rate: 30, holdMS: 4000})
	o.waitActive(t, 6, 10*time.Second)
	held := o.pools(t)["box3"].ActiveCalls
	if held == 0 {
		t.Fatalf("box3 holds none of the 6 calls: %+v", o.pools(t))
	}

	newPath := writePolicy(t, opsPolicy(proxyPort, adminPort, opsPool{balance: "round-robin", members: members[:2]}))
	stdout, stderr, code := runSipfront(t, nil, "plan", newPath, "--against", o.url, "--no-color")
	if code != 2 {
		t.Errorf("plan --against: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"Comparing " + o.url + " (running ",
		"# " + id3 + " will be destroyed",
		"Runtime overrides (drift from the policy",
		"~ " + id1 + ": mode=disabled",
		"Live calls on members the new policy removes",
		fmt.Sprintf("- %s: %d live %s", id3, held, map[bool]string{true: "call", false: "calls"}[held == 1]),
		"alice",
		"Plan: 0 to add, 1 to change, 1 to destroy.",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan --against lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, string(memberID("box2"))+": ") {
		t.Errorf("box2, kept by NEW and without override, is listed:\n%s", stdout)
	}

	js, _, code := runSipfront(t, nil, "plan", "-json", newPath, "-against", o.url)
	var doc struct {
		Sections []struct {
			Key   string `json:"key"`
			Items []struct {
				ID      string   `json:"id"`
				Details []string `json:"details"`
			} `json:"items"`
		} `json:"sections"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || code != 2 || len(doc.Sections) != 2 ||
		len(doc.Sections[1].Items) != 1 || doc.Sections[1].Items[0].ID != id3 || len(doc.Sections[1].Items[0].Details) != min(held, 5) {
		t.Errorf("plan -json --against: exit %d, %v, sections %+v", code, err, doc.Sections)
	}

	// The running policy against itself: no structural change, but drift.
	stdout, _, code = runSipfront(t, nil, "plan", o.path, "--against", o.url, "--no-color")
	if code != 2 || !strings.Contains(stdout, "No changes.") || !strings.Contains(stdout, "~ "+id1+": mode=disabled") {
		t.Errorf("plan of the running policy with drift: exit %d, want 2:\n%s", code, stdout)
	}

	checkCaller(t, long.result(t, 30*time.Second), 6)
	o.waitActive(t, 0, 5*time.Second)
	o.ctl(t, "clear", id1)
	stdout, stderr, code = runSipfront(t, nil, "plan", o.path, "--against", o.url, "--no-color")
	if code != 0 {
		t.Errorf("plan of the running policy, no drift, no calls: exit %d, want 0\n%s%s", code, stdout, stderr)
	}
}
