package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/internal/simpbx"
)

// TestTransferAffinity runs the talk's attended-transfer sequence through a
// pool with affinity = "party": Bob calls Alice, Bob calls Carol, Alice
// calls Carol with Replaces naming the Bob-Carol dialog. All three legs
// must land on one box, while calls between other users spread.
func TestTransferAffinity(t *testing.T) {
	needSipp(t)
	boxes, members := threeBoxes(t, "uas.xml")
	port := freePort(t)
	p := startProxy(t, writePolicy(t, policyText(port, pool{balance: "round-robin", affinity: "party", members: members}, "")), addr(port))
	names := map[string]string{}
	for _, m := range members {
		names[addr(m.port)] = m.name
	}
	c, err := simpbx.NewCaller(p.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var open []*simpbx.Dialog
	t.Cleanup(func() { hangupAll(t, open) })
	dial := func(from, to string, headers ...sip.Header) string {
		t.Helper()
		d, err := c.Dial(ctx, simpbx.Call{From: from, To: to, Headers: headers})
		if err != nil {
			t.Fatalf("%s calls %s: %v", from, to, err)
		}
		open = append(open, d)
		return names[d.Remote]
	}

	bobAlice := dial("bob", "alice")
	filler := []string{dial("user1", "ext1")}
	bobCarol := dial("bob", "carol")
	filler = append(filler, dial("user2", "ext2"))
	replaces := sip.NewHeader("Replaces", open[2].Replaces())
	aliceCarol := dial("alice", "carol", replaces)
	for i := 3; i <= 8; i++ {
		filler = append(filler, dial("user"+strconv.Itoa(i), "ext"+strconv.Itoa(i)))
	}
	t.Logf("bob->alice on %s, bob->carol on %s, alice->carol (Replaces) on %s; other calls on %v",
		bobAlice, bobCarol, aliceCarol, filler)
	if bobAlice == "" || bobCarol != bobAlice || aliceCarol != bobAlice {
		t.Errorf("transfer legs spread over boxes: bob->alice %q, bob->carol %q, alice->carol %q; want one box",
			bobAlice, bobCarol, aliceCarol)
	}
	if n := distinct(filler); n < 3 {
		t.Errorf("calls between other users used %d boxes (%v), want all 3", n, filler)
	}
	hangupAll(t, open)
	open = nil
	stopBoxes(t, boxes)
}

// hangupAll ends every dialog, reporting failures.
func hangupAll(t *testing.T, ds []*simpbx.Dialog) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, d := range ds {
		if err := d.Hangup(ctx); err != nil {
			t.Errorf("hang up %s: %v", d.CallID, err)
		}
	}
}

func distinct(xs []string) int {
	seen := map[string]bool{}
	for _, x := range xs {
		seen[x] = true
	}
	return len(seen)
}

var _ = fmt.Sprint
