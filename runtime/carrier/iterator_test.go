package carrier

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/dialog"
)

// TestIterator walks a candidate list: carriers at their limits are
// skipped and counted, max_tries of the first carrier bounds the tries,
// and each carrier's failover block decides what fails over.
func TestIterator(t *testing.T) {
	fo := graph.Failover{On: []int{503}, MaxTries: 2}
	full := &graph.Carrier{ID: "carrier.full", Name: "full", Limits: graph.Limits{Calls: 1}, Failover: fo}
	a := &graph.Carrier{ID: "carrier.a", Name: "a", Failover: fo}
	b := &graph.Carrier{ID: "carrier.b", Name: "b", Failover: graph.Failover{On: []int{500}}}
	c := &graph.Carrier{ID: "carrier.c", Name: "c"}
	s, _, _, _ := newTestStore(t, full, a, b, c)
	s.Claim(full) // its one call is taken
	cands := []graph.Candidate{{Carrier: full}, {Carrier: a}, {Carrier: b}, {Carrier: c}}

	it := NewIterator(s, cands)
	var got []graph.ID
	for tg, ok := it.Next(); ok; tg, ok = it.Next() {
		got = append(got, tg.ID)
		if tg.Carrier == a && (!it.Retries(503) || it.Retries(500) || !it.Retries(0)) {
			t.Errorf("carrier a: retries 503 %v, 500 %v, timeout %v; want its own failover.on", it.Retries(503), it.Retries(500), it.Retries(0))
		}
		if tg.Carrier == b && (it.Retries(503) || !it.Retries(500)) {
			t.Errorf("carrier b: retries 503 %v, 500 %v; want its own failover.on", it.Retries(503), it.Retries(500))
		}
	}
	if len(got) != 2 || got[0] != "carrier.a" || got[1] != "carrier.b" {
		t.Errorf("tried %v, want [carrier.a carrier.b] (full at its limit, max_tries 2 of the first candidate)", got)
	}
	if it.Limited() {
		t.Error("Limited after tries, want false")
	}
	if st, _ := s.Status(full.ID); st.Skipped["calls limit"] != 1 {
		t.Errorf("full: skipped %v, want one calls-limit skip", st.Skipped)
	}

	only := NewIterator(s, []graph.Candidate{{Carrier: full}})
	if _, ok := only.Next(); ok || !only.Limited() {
		t.Errorf("a list of one carrier at its limit: Next %v, Limited %v; want none and limited (503 Retry-After)", ok, only.Limited())
	}
}

// TestAuthorize answers a 407 once: a new transaction (branch) with CSeq+1
// and the Proxy-Authorization header; a second challenge is not answered
// and never reaches the caller.
func TestAuthorize(t *testing.T) {
	c := &graph.Carrier{ID: "carrier.a", Name: "a", Auth: &graph.CarrierAuth{Username: "trunk01", Password: "s3cret"}}
	s, _, _, _ := newTestStore(t, c)
	it := NewIterator(s, []graph.Candidate{{Carrier: c}})
	if _, ok := it.Next(); !ok {
		t.Fatal("no carrier")
	}
	if !it.Retries(407) {
		t.Fatal("a first 407 is not held back for Authorize")
	}
	inv, via, res := challenged(407, "Proxy-Authenticate")
	out := it.Authorize(inv, res)
	if out == nil {
		t.Fatal("407 not answered")
	}
	if out.CSeq().SeqNo != 8 || out.Via() == via {
		t.Errorf("answer: CSeq %d, same Via %v; want CSeq 8 and a new Via", out.CSeq().SeqNo, out.Via() == via)
	}
	if b, _ := out.Via().Params.Get("branch"); b == "z9hG4bK-sfloop.first" || !strings.HasPrefix(b, "z9hG4bK-sfloop.") {
		t.Errorf("branch %q: want a new one keeping the loop hash", b)
	}
	if h := out.GetHeader("Proxy-Authorization"); h == nil {
		t.Error("no Proxy-Authorization")
	}
	if n := s.CSeqShift("call-1", "ft"); n != 1 {
		t.Errorf("CSeq shift %d, want 1", n)
	}
	if !it.Retries(407) || it.Authorize(out, res) != nil || !it.Withholds(res) {
		t.Error("a second challenge was answered or may reach the caller; want failover, then 503")
	}
	s.forget("call-1", "ft")
	if n := s.CSeqShift("call-1", "ft"); n != 0 {
		t.Errorf("CSeq shift after the dialog ended: %d, want 0", n)
	}
}

// challenged returns an INVITE as the proxy forwards it (Call-ID call-1,
// From tag ft, CSeq 7), its Via, and the carrier's challenge with status
// code in header.
func challenged(code int, header string) (*sip.Request, *sip.ViaHeader, *sip.Response) {
	inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "+1212", Host: "gw.example"})
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "203.0.113.5", Port: 5060,
		Params: sip.HeaderParams{{K: "branch", V: "z9hG4bK-sfloop.first"}}}
	inv.AppendHeader(via)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "example.com"}}
	from.Params.Add("tag", "ft")
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "+1212", Host: "example.com"}})
	cid := sip.CallIDHeader("call-1")
	inv.AppendHeader(&cid)
	inv.AppendHeader(&sip.CSeqHeader{SeqNo: 7, MethodName: sip.INVITE})
	res := sip.NewResponseFromRequest(inv, code, "Authentication Required", nil)
	res.AppendHeader(sip.NewHeader(header, `Digest realm="carrier.test", nonce="n1", qop="auth"`))

	return inv, via, res
}

// TestShiftForgottenOnFailover: carrier a challenges, the authorized retry
// fails and the call moves to b: b's leg starts at the caller's CSeq, so
// the shift must go (else the caller's ACK and BYE reach b one too high).
func TestShiftForgottenOnFailover(t *testing.T) {
	auth := &graph.CarrierAuth{Username: "trunk01", Password: "s3cret"}
	fo := graph.Failover{On: []int{503}, MaxTries: 2}
	a := &graph.Carrier{ID: "carrier.a", Name: "a", Auth: auth, Failover: fo}
	b := &graph.Carrier{ID: "carrier.b", Name: "b", Auth: auth, Failover: fo}
	s, _, _, _ := newTestStore(t, a, b)
	table := dialog.New(nil)
	table.CountCarriers(Accounting{Store: s})
	it := NewIterator(s, []graph.Candidate{{Carrier: a}, {Carrier: b}})
	ta, _ := it.Next()
	table.Start(ta, "call-1", "ft", "alice", "+1212")
	inv, _, res := challenged(401, "WWW-Authenticate")
	if it.Authorize(inv, res) == nil {
		t.Fatal("401 not answered")
	}
	if n := s.CSeqShift("call-1", "ft"); n != 1 {
		t.Fatalf("shift at carrier a: %d, want 1", n)
	}
	it.Failed(ta, 503, "503 Service Unavailable", true)
	tb, ok := it.Next()
	if !ok || tb.ID != b.ID {
		t.Fatalf("next carrier %v %v, want carrier.b", tb.ID, ok)
	}
	table.Moved("call-1", "ft", tb)
	if n := s.CSeqShift("call-1", "ft"); n != 0 {
		t.Errorf("shift after failover to b: %d, want 0", n)
	}
	if !it.Retries(401) || it.Authorize(inv, res) == nil {
		t.Error("carrier b's first challenge is not answered")
	}
	if n := s.CSeqShift("call-1", "ft"); n != 1 {
		t.Errorf("shift after b challenged: %d, want 1", n)
	}
	table.End("call-1", "ft")
	if n := s.CSeqShift("call-1", "ft"); n != 0 {
		t.Errorf("shift after the call ended: %d, want 0", n)
	}
}

// TestChallengeNeverRelayed: a challenge from a carrier without an auth
// block, or a second one, moves the call on and is withheld from the
// caller (the carrier's realm and nonce mean nothing to it).
func TestChallengeNeverRelayed(t *testing.T) {
	plain := &graph.Carrier{ID: "carrier.plain", Name: "plain"}
	s, _, _, _ := newTestStore(t, plain)
	it := NewIterator(s, []graph.Candidate{{Carrier: plain}})
	if _, ok := it.Next(); !ok {
		t.Fatal("no carrier")
	}
	for _, tc := range []struct {
		code             int
		retries, withold bool
	}{{401, true, true}, {407, true, true}, {486, false, false}, {503, false, false}} {
		res := sip.NewResponse(tc.code, "x")
		if it.Retries(tc.code) != tc.retries || it.Withholds(res) != tc.withold {
			t.Errorf("%d: retries %v withholds %v, want %v %v", tc.code, it.Retries(tc.code), it.Withholds(res), tc.retries, tc.withold)
		}
	}
}
