package carrier

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
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
// and the Proxy-Authorization header; a second challenge is not answered.
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
	res := sip.NewResponseFromRequest(inv, 407, "Proxy Authentication Required", nil)
	res.AppendHeader(sip.NewHeader("Proxy-Authenticate", `Digest realm="carrier.test", nonce="n1", qop="auth"`))

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
	if it.Retries(407) || it.Authorize(out, res) != nil {
		t.Error("a second challenge was answered; want it relayed to the caller")
	}
	s.forget("call-1", "ft")
	if n := s.CSeqShift("call-1", "ft"); n != 0 {
		t.Errorf("CSeq shift after the dialog ended: %d, want 0", n)
	}
}
