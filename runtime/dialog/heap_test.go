package dialog

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/runtime/sipmsg"
	"github.com/sipfront/sipfront/runtime/target"
)

// heapDialogs is the number of concurrent calls of issue 11's memory target.
const heapDialogs = 50_000

// maxHeapPerDialog is issue 11's target: live heap per active dialog.
const maxHeapPerDialog = 4 << 10

// dialogInvite is an initial INVITE as the proxy receives it from a
// caller behind one upstream proxy (one Record-Route), with an SDP offer.
func dialogInvite(i int) []byte {
	body := "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	return fmt.Appendf(nil, "INVITE sip:+1555%07d@example.com SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-up-%d\r\n"+
		"Via: SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK-%d\r\n"+
		"Record-Route: <sip:192.0.2.10;lr;ftag=%x>\r\n"+
		"Max-Forwards: 69\r\n"+
		"From: \"Alice\" <sip:alice%d@example.com>;tag=%x\r\n"+
		"To: <sip:+1555%07d@example.com>\r\n"+
		"Call-ID: %x-%x@198.51.100.7\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Contact: <sip:alice%d@198.51.100.7:5060;transport=udp>\r\n"+
		"User-Agent: Zoiper rv2.10.19.9\r\n"+
		"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n"+
		"Content-Type: application/sdp\r\n"+
		"Content-Length: %d\r\n\r\n%s",
		i, i, i, i*7919, i, i*104729, i, i*15485863, i, i, len(body), body)
}

// dialogOK is the callee's 2xx: our Record-Route and the upstream one
// copied back, plus the callee's own proxy.
func dialogOK(i int, req *sip.Request) []byte {
	return fmt.Appendf(nil, "SIP/2.0 200 OK\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-px-%d\r\n"+
		"Record-Route: <sip:10.0.0.11:5070;lr>\r\n"+
		"Record-Route: <sip:127.0.0.1:5060;lr>\r\n"+
		"Record-Route: <sip:192.0.2.10;lr;ftag=%x>\r\n"+
		"From: %s\r\nTo: <sip:+1555%07d@example.com>;tag=as%x\r\n"+
		"Call-ID: %s\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:+1555%07d@10.0.0.11:5060>\r\n"+
		"Content-Length: 0\r\n\r\n",
		i, i*7919, req.From().Value(), i, i*31, req.CallID().Value(), i)
}

// ownRoute recognises the proxy's own Record-Route entry in dialogOK.
func ownRoute(u *sip.Uri) bool { return u.Host == "127.0.0.1" && u.Port == 5060 }

// fillTable puts n confirmed dialogs in tab the way the proxy does for a
// relayed INVITE and its 2xx (runtime/proxy.go: Start, Record, Answer,
// Established), from messages parsed by sipgo, and lets them go: only what
// the table keeps stays reachable.
func fillTable(tb testing.TB, tab *Table, n int) {
	tb.Helper()
	tg := target.Target{ID: "pool.asterisk.member.ast1", Group: "pool.asterisk", Addr: "10.0.0.11:5060", Transport: "udp"}
	for i := range n {
		m, err := sip.ParseMessage(dialogInvite(i))
		if err != nil {
			tb.Fatal(err)
		}
		req := m.(*sip.Request)
		req.SetSource("198.51.100.7:5060")
		req.SetTransport("UDP")
		cid, fromTag := req.CallID().Value(), sipmsg.Tag(req.From())
		tab.Start(tg, cid, fromTag, req.From().Address.User, req.Recipient.User)
		tab.Record(cid, fromTag, req, false)
		m, err = sip.ParseMessage(dialogOK(i, req))
		if err != nil {
			tb.Fatal(err)
		}
		res := m.(*sip.Response)
		tab.Answer(cid, fromTag, res, ownRoute)
		tab.Established(cid, fromTag, sipmsg.ToHeaderTag(res.To()))
	}
}

// liveHeap returns the heap in use after a full collection.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC() // the first cycle may leave finalizer-reachable objects
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// heapPerDialog fills a new table with n dialogs and returns the live heap
// it holds, per dialog.
func heapPerDialog(tb testing.TB, n int) float64 {
	before := liveHeap()
	tab := New(nil)
	fillTable(tb, tab, n)
	after := liveHeap()
	if got := len(tab.Dialogs()); got != n {
		tb.Fatalf("%d dialogs in the table, want %d", got, n)
	}
	runtime.KeepAlive(tab)
	return float64(int64(after)-int64(before)) / float64(n)
}

// TestHeapPerDialog holds the table to issue 11's memory target: at most
// 4 KiB of live heap per confirmed dialog, with 50,000 of them.
func TestHeapPerDialog(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a 50,000-dialog table")
	}
	per := heapPerDialog(t, heapDialogs)
	t.Logf("%.0f bytes of live heap per dialog (%d dialogs)", per, heapDialogs)
	if per > maxHeapPerDialog {
		t.Fatalf("%.0f bytes of heap per dialog, want at most %d", per, maxHeapPerDialog)
	}
}

// BenchmarkDialogHeap reports the live heap per dialog (B/dialog) of a
// 50,000-dialog table, and the cost of filling it per dialog (parsing
// included, as BenchmarkDialogParseOnly measures alone in the same run).
func BenchmarkDialogHeap(b *testing.B) {
	var per float64
	for b.Loop() {
		per = heapPerDialog(b, heapDialogs)
	}
	b.ReportMetric(per, "B/dialog")
}

// BenchmarkDialogFill is one dialog's Start, Record, Answer and
// Established, messages parsed by sipgo; BenchmarkDialogParseOnly is the
// parsing alone, its baseline.
func BenchmarkDialogFill(b *testing.B) {
	tab := New(nil)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fillOne(b, tab, i, true)
		i++
	}
}

// BenchmarkDialogParseOnly parses the same messages without the table.
func BenchmarkDialogParseOnly(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fillOne(b, nil, i, false)
		i++
	}
}

func fillOne(b *testing.B, tab *Table, i int, record bool) {
	tg := target.Target{ID: "pool.asterisk.member.ast1", Group: "pool.asterisk", Addr: "10.0.0.11:5060", Transport: "udp"}
	m, err := sip.ParseMessage(dialogInvite(i))
	if err != nil {
		b.Fatal(err)
	}
	req := m.(*sip.Request)
	req.SetSource("198.51.100.7:5060")
	cid, fromTag := req.CallID().Value(), sipmsg.Tag(req.From())
	if record {
		tab.Start(tg, cid, fromTag, req.From().Address.User, req.Recipient.User)
		tab.Record(cid, fromTag, req, false)
	}
	m, err = sip.ParseMessage(dialogOK(i, req))
	if err != nil {
		b.Fatal(err)
	}
	if record {
		res := m.(*sip.Response)
		tab.Answer(cid, fromTag, res, ownRoute)
		tab.Established(cid, fromTag, sipmsg.ToHeaderTag(res.To()))
		tab.End(cid, fromTag)
	}
}
