package dialog

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/target"
)

// recorder is an Accounting that writes down what it is told.
type recorder struct{ events []string }

func (r *recorder) Start(t target.Target, callID, fromTag, caller, callee string) {
	r.events = append(r.events, "start "+string(t.ID))
}
func (r *recorder) Moved(callID, fromTag string, to target.Target) {
	r.events = append(r.events, "moved "+string(to.ID))
}
func (r *recorder) Established(callID, fromTag, toTag string) {
	r.events = append(r.events, "established "+toTag)
}
func (r *recorder) End(callID, fromTag string) { r.events = append(r.events, "end "+callID) }

func member(id graph.ID) target.Target {
	return target.Target{ID: id, Addr: "127.0.0.1:5080", Transport: "udp", Member: &graph.Member{ID: id}}
}

func TestTableCountsAndAccounting(t *testing.T) {
	rec := &recorder{}
	tab := New(rec)
	contact := target.Target{ID: "registrar.alice.1", Group: "alice@example.com", Addr: "10.0.0.5:5060", Transport: "udp"}
	tab.Start(member("m1"), "c1", "f1", "alice", "bob")
	tab.Start(contact, "c2", "f2", "carol", "alice")
	tab.Moved("c1", "f1", member("m2"))
	tab.Established("c1", "f1", "t1")
	for _, c := range []struct {
		id   graph.ID
		want int
	}{{"m1", 0}, {"m2", 1}, {"registrar.alice.1", 1}} {
		if got := tab.Active(c.id); got != c.want {
			t.Errorf("Active(%s) = %d, want %d", c.id, got, c.want)
		}
	}
	d, ok := tab.Lookup("c1")
	if !ok || d.Target != "m2" || d.ToTag != "t1" || !d.Established || d.Addr != "127.0.0.1:5080" {
		t.Fatalf("Lookup(c1) = %+v, %v", d, ok)
	}
	if _, ok := tab.End("c1", "f1"); !ok {
		t.Fatal("End(c1) found nothing")
	}
	if _, ok := tab.End("c1", "f1"); ok {
		t.Error("End twice ended twice")
	}
	if tab.Active("m2") != 0 {
		t.Errorf("m2 still counts %d", tab.Active("m2"))
	}
	// Only member targets are accounted to the member state.
	want := []string{"start m1", "moved m2", "established t1", "end c1"}
	if len(rec.events) != len(want) {
		t.Fatalf("events %v, want %v", rec.events, want)
	}
	for i := range want {
		if rec.events[i] != want[i] {
			t.Fatalf("events %v, want %v", rec.events, want)
		}
	}
}

func TestTableExpire(t *testing.T) {
	tab := New(nil)
	now := time.Now()
	tab.now = func() time.Time { return now.Add(-time.Hour) }
	tab.Start(member("m1"), "old", "f", "a", "b")
	tab.now = func() time.Time { return now }
	tab.Start(member("m1"), "new", "f", "a", "b")
	gone := tab.Expire(30*time.Minute, now)
	if len(gone) != 1 || gone[0].CallID != "old" {
		t.Fatalf("expired %+v", gone)
	}
	if tab.Active("m1") != 1 || len(tab.Dialogs()) != 1 {
		t.Errorf("after expiry: %d active, %d dialogs", tab.Active("m1"), len(tab.Dialogs()))
	}
}

// TestTableExpireAccounts: an expired dialog is ended at its accounting,
// a carrier's too (its CSeq shift and hidden Contact go), after before saw
// it (the proxy builds its BYEs while the shift is known).
func TestTableExpireAccounts(t *testing.T) {
	members, carriers := &recorder{}, &recorder{}
	tab := New(members)
	tab.CountCarriers(carriers)
	now := time.Now()
	tab.now = func() time.Time { return now.Add(-time.Hour) }
	tab.Start(member("m1"), "to-member", "f", "a", "b")
	tab.Start(target.Target{ID: "carrier.acme", Carrier: &graph.Carrier{ID: "carrier.acme"}}, "to-carrier", "f", "a", "b")
	var seen []string
	gone := tab.ExpireWith(30*time.Minute, now, func(d Dialog) {
		seen = append(seen, d.CallID+" "+strconv.Itoa(len(members.events)+len(carriers.events)))
	})
	if len(gone) != 2 || tab.Active("carrier.acme") != 0 || tab.Active("m1") != 0 {
		t.Fatalf("expired %d, active carrier %d member %d; want 2, 0, 0", len(gone), tab.Active("carrier.acme"), tab.Active("m1"))
	}
	if !slices.Contains(carriers.events, "end to-carrier") {
		t.Errorf("carrier accounting told %v, want the end of to-carrier", carriers.events)
	}
	if len(seen) != 2 || !strings.HasSuffix(seen[0], " 2") || !strings.HasSuffix(seen[1], " 4") {
		t.Errorf("before saw %v; want each dialog before its ends were told (2 starts, then 2 ends each)", seen)
	}
}

// TestMatch: requests are found in either direction, early dialogs accept
// any To tag from the caller and any From tag from the callee's side, and CSeq must not go down per direction (not
// for ACK).
func TestMatch(t *testing.T) {
	tab := New(nil)
	tab.Start(member("m1"), "c", "caller-tag", "a", "b")
	tab.entryOf("c", "caller-tag").CallerCSeq = 1
	steps := []struct {
		name          string
		from, to      string
		cseq          uint32
		method        sip.RequestMethod
		side          Side
		want          Verdict
		establishWith string // To tag of a 2xx before this step
	}{
		{"PRACK while early, any To tag", "caller-tag", "early-tag", 2, sip.PRACK, Caller, Known, ""},
		{"callee UPDATE while early", "early-tag", "caller-tag", 5, sip.UPDATE, Callee, Known, ""},
		{"another early callee, lower CSeq", "early-tag-2", "caller-tag", 1, sip.INFO, Callee, Known, ""},
		{"early callee BYE", "early-tag", "caller-tag", 6, sip.BYE, Callee, Known, ""},
		{"unknown Call-ID while early", "early-tag", "caller-tag-x", 7, sip.BYE, 0, Unknown, ""},
		{"unknown tags", "x", "y", 9, sip.BYE, 0, Unknown, ""},
		{"other To tag once established", "caller-tag", "early-tag", 3, sip.BYE, Caller, Sibling, "callee-tag"},
		{"caller INFO", "caller-tag", "callee-tag", 3, sip.INFO, Caller, Known, ""},
		{"caller repeats its CSeq (a retransmission that outlived its transaction)", "caller-tag", "callee-tag", 3, sip.INFO, Caller, Known, ""},
		{"caller goes back", "caller-tag", "callee-tag", 2, sip.INFO, Caller, OldCSeq, ""},
		{"ACK keeps the INVITE's CSeq", "caller-tag", "callee-tag", 1, sip.ACK, Caller, Known, ""},
		{"callee's first request, any CSeq", "callee-tag", "caller-tag", 5, sip.INFO, Callee, Known, ""},
		{"callee repeats it", "callee-tag", "caller-tag", 5, sip.INFO, Callee, Known, ""},
		{"callee goes back", "callee-tag", "caller-tag", 4, sip.INFO, Callee, OldCSeq, ""},
		{"the fork's other callee", "other-callee", "caller-tag", 1, sip.BYE, Callee, Sibling, ""},
	}
	for _, s := range steps {
		if s.establishWith != "" {
			tab.Established("c", "caller-tag", s.establishWith)
		}
		d, side, v := tab.Match("c", s.from, s.to, s.cseq, s.method)
		if v != s.want || (v != Unknown && side != s.side) {
			t.Errorf("%s: side %d verdict %d, want side %d verdict %d", s.name, side, v, s.side, s.want)
		}
		if v == Known && s.method != sip.ACK {
			tab.Advance(d, side, s.method, s.cseq) // as the proxy does once the request passed
		}
	}
}

// entryOf gives tests the dialog of an entry to seed.
func (t *Table) entryOf(callID, fromTag string) *Dialog {
	sh := t.shardFor(callID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return &sh.find(callID, fromTag).d
}

// TestMatchRecordsNothing: Match only checks; a request refused after it
// (a forged route set with a huge CSeq) must not raise the CSeq the real
// party is held to. Advance records, and only upwards.
func TestMatchRecordsNothing(t *testing.T) {
	tab := New(nil)
	tab.Start(member("m1"), "c", "caller-tag", "a", "b")
	tab.entryOf("c", "caller-tag").CallerCSeq = 1
	tab.Established("c", "caller-tag", "callee-tag")
	if _, _, v := tab.Match("c", "caller-tag", "callee-tag", 1_000_000, sip.INFO); v != Known {
		t.Fatalf("forged INFO: verdict %d, want Known", v)
	}
	d, side, v := tab.Match("c", "caller-tag", "callee-tag", 2, sip.BYE)
	if v != Known {
		t.Fatalf("the real BYE after a refused request: verdict %d, want Known", v)
	}
	tab.Advance(d, side, sip.BYE, 2)
	tab.Advance(d, side, sip.INFO, 1)
	if _, _, v := tab.Match("c", "caller-tag", "callee-tag", 1, sip.INFO); v != OldCSeq {
		t.Errorf("CSeq 1 after 2 was advanced: verdict %d, want OldCSeq (Advance must not go down)", v)
	}
}

// TestExpireUnacked: a dialog answered and never acknowledged ends after
// the limit; one whose ACK came (by Advance, or by Acked when validation
// is off), an early one, and one answered recently stay.
func TestExpireUnacked(t *testing.T) {
	tab := New(nil)
	clock := time.Unix(1_000_000, 0)
	tab.now = func() time.Time { return clock }
	for _, id := range []string{"unacked", "acked", "acked-off", "early", "sibling-ack"} {
		tab.Start(member("m1"), id, "ft", "a", "b")
	}
	for _, id := range []string{"unacked", "acked", "acked-off", "sibling-ack"} {
		tab.Established(id, "ft", "tt")
	}
	d, side, v := tab.Match("acked", "ft", "tt", 1, sip.ACK)
	if v != Known {
		t.Fatalf("ACK: verdict %d", v)
	}
	tab.Advance(d, side, sip.ACK, 1)
	tab.Acked("acked-off", "ft", "tt")
	tab.Acked("sibling-ack", "ft", "other-tt") // a fork's other 2xx: not this dialog's ACK
	clock = clock.Add(NoAckTimeout - time.Second)
	tab.Start(member("m1"), "recent", "ft", "a", "b")
	tab.Established("recent", "ft", "tt")
	if gone := tab.ExpireUnacked(NoAckTimeout, clock); len(gone) != 0 {
		t.Fatalf("ended %d dialogs before the limit", len(gone))
	}
	clock = clock.Add(2 * time.Second)
	var ids []string
	for _, d := range tab.ExpireUnacked(NoAckTimeout, clock) {
		ids = append(ids, d.CallID)
	}
	if got := strings.Join(ids, ","); got != "sibling-ack,unacked" { // same start: sorted by Call-ID
		t.Errorf("ended %q, want sibling-ack,unacked", got)
	}
	if n := tab.Active("m1"); n != 4 {
		t.Errorf("active on m1: %d, want 4 (acked, acked-off, early, recent)", n)
	}
}

// TestRetransmitted: an INVITE with a tracked Call-ID and From tag and a
// CSeq not above the caller's last is a late retransmission; a higher CSeq
// (a new attempt after a challenge), another From tag or Call-ID, or a
// dialog whose INVITE was never recorded is not.
func TestRetransmitted(t *testing.T) {
	tab := New(nil)
	tab.Start(member("m1"), "c", "caller-tag", "a", "b")
	tab.Start(member("m1"), "unrecorded", "caller-tag", "a", "b")
	tab.entryOf("c", "caller-tag").CallerCSeq = 3
	for _, c := range []struct {
		name          string
		callID, tag   string
		cseq          uint32
		retransmitted bool
	}{
		{"the INVITE again", "c", "caller-tag", 3, true},
		{"an older CSeq", "c", "caller-tag", 1, true},
		{"a new attempt (after a challenge)", "c", "caller-tag", 4, false},
		{"another caller tag (a fork upstream)", "c", "other-tag", 3, false},
		{"another Call-ID", "d", "caller-tag", 3, false},
		{"no CSeq recorded", "unrecorded", "caller-tag", 1, false},
	} {
		if got := tab.Retransmitted(c.callID, c.tag, c.cseq); got != c.retransmitted {
			t.Errorf("%s: %v, want %v", c.name, got, c.retransmitted)
		}
	}
}
