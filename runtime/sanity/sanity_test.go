package sanity

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// invite is a typical INVITE from a softphone, the message the ok path is
// measured on.
const invite = "INVITE sip:+4930123456@sip.example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK-524287-1---6f1c4e2b\r\n" +
	"Max-Forwards: 70\r\n" +
	"Contact: <sip:alice@198.51.100.7:5060;transport=udp>\r\n" +
	"To: <sip:+4930123456@sip.example.com>\r\n" +
	"From: \"Alice Müller\" <sip:alice@sip.example.com>;tag=8a1f3c\r\n" +
	"Call-ID: 9b1d2c3e4f5a6b7c8d9e0f@198.51.100.7\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n" +
	"Content-Type: application/sdp\r\n" +
	"User-Agent: Z 5.6.1 v2.10.20.1\r\n" +
	"Allow-Events: presence, kpml, talk\r\n" +
	"Content-Length: 134\r\n" +
	"\r\n" +
	"v=0\r\no=Z 0 1 IN IP4 198.51.100.7\r\ns=Z\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 8000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"

// with returns invite with old replaced by new (once; old must occur).
func with(t testing.TB, old, new string) string {
	if !strings.Contains(invite, old) {
		t.Fatalf("test message has no %q", old)
	}
	return strings.Replace(invite, old, new, 1)
}

func TestCheck(t *testing.T) {
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	manyVias := strings.Repeat("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n", 70)
	manyHeaders := strings.Repeat("X-A: b\r\n", 130)
	for _, tc := range []struct {
		name   string
		msg    string
		action Action
		status int
		rule   Rule
	}{
		{"typical INVITE", invite, Pass, 0, RuleNone},
		{"keepalive", "\r\n\r\n", Pass, 0, RuleNone},
		{"STUN binding", "\x00\x01\x00\x00\x21\x12\xa4\x42", Drop, 0, RuleGarbage},
		{"bad version", with(t, "SIP/2.0\r\nVia", "SIP/3.0\r\nVia"), Answer, 505, RuleVersion},
		{"unknown scheme", with(t, "sip:+4930123456@sip.example.com SIP", "http://example.com/ SIP"), Answer, 416, RuleRURIScheme},
		{"R-URI 32 KiB: over the message size", with(t, "sip:+4930123456@", "sip:"+long('a', 32<<10)+"@"), Answer, 513, RuleMessageSize},
		{"R-URI 8 KiB", with(t, "sip:+4930123456@", "sip:"+long('a', 8<<10)+"@"), Answer, 414, RuleRURILength},
		{"NUL in R-URI", with(t, "+4930123456@", "+49301\x0023456@"), Answer, 400, RuleControl},
		{"NUL in a header", with(t, "Z 5.6.1", "Z\x005.6.1"), Answer, 400, RuleControl},
		{"bare CR in a header", with(t, "Z 5.6.1", "Z\r5.6.1"), Answer, 400, RuleControl},
		{"bad UTF-8 in display name", with(t, "Müller", "M\xc3\x28ller"), Answer, 400, RuleUTF8},
		{"overlong UTF-8", with(t, "Müller", "M\xc0\xafller"), Answer, 400, RuleUTF8},
		{"unterminated quote", with(t, "\"Alice Müller\" <", "\"Alice Müller <"), Answer, 400, RuleQuoted},
		{"non-token display name", with(t, "\"Alice Müller\" <", "Müller, Alice <"), Answer, 400, RuleDisplayName},
		{"unbracketed URI with ?", with(t, "To: <sip:+4930123456@sip.example.com>", "To: sip:x@y?Route=z"), Answer, 400, RuleAddrSpec},
		{"negative CSeq", with(t, "CSeq: 1 INVITE", "CSeq: -1 INVITE"), Answer, 400, RuleCSeq},
		{"CSeq 2^31", with(t, "CSeq: 1 INVITE", "CSeq: 2147483648 INVITE"), Answer, 400, RuleCSeq},
		{"CSeq without method", with(t, "CSeq: 1 INVITE", "CSeq: 1"), Answer, 400, RuleCSeq},
		{"CSeq method mismatch", with(t, "CSeq: 1 INVITE", "CSeq: 1 BYE"), Answer, 400, RuleCSeqMethod},
		{"Max-Forwards 256", with(t, "Max-Forwards: 70", "Max-Forwards: 256"), Answer, 400, RuleMaxForwards},
		{"Max-Forwards text", with(t, "Max-Forwards: 70", "Max-Forwards: seventy"), Answer, 400, RuleMaxForwards},
		{"Expires 2^32", with(t, "Max-Forwards: 70", "Max-Forwards: 70\r\nExpires: 4294967296"), Answer, 400, RuleExpires},
		{"Content-Length negative", with(t, "Content-Length: 134", "Content-Length: -1"), Answer, 400, RuleContentLength},
		{"Content-Length too large", with(t, "Content-Length: 134", "Content-Length: 500"), Answer, 400, RuleLengthMismatch},
		{"Content-Length short: extra octets ignored", with(t, "Content-Length: 134", "Content-Length: 100"), Pass, 0, RuleNone},
		{"duplicate Call-ID", with(t, "CSeq: 1", "Call-ID: other\r\nCSeq: 1"), Answer, 400, RuleDuplicate},
		{"duplicate compact From", with(t, "CSeq: 1", "f: <sip:b@c>;tag=1\r\nCSeq: 1"), Answer, 400, RuleDuplicate},
		{"missing Call-ID", with(t, "Call-ID: 9b1d2c3e4f5a6b7c8d9e0f@198.51.100.7\r\n", ""), Answer, 400, RuleMissing},
		{"missing Via: cannot answer", with(t, "Via: SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK-524287-1---6f1c4e2b\r\n", ""), Drop, 400, RuleMissing},
		{"header without colon", with(t, "Allow-Events", "Allow-Events presence\r\nBroken"), Answer, 400, RuleHeaderSyntax},
		{"header line 5000", with(t, "Z 5.6.1", long('z', 5000)), Answer, 400, RuleHeaderLine},
		{"header bomb", with(t, "Max-Forwards", manyHeaders+"Max-Forwards"), Answer, 400, RuleHeaderCount},
		{"Via bomb", with(t, "Max-Forwards", manyVias+"Max-Forwards"), Drop, 400, RuleViaCount},
		{"empty Via value", with(t, "branch=z9hG4bK-524287-1---6f1c4e2b", "branch=z9hG4bK-524287-1---6f1c4e2b,,"), Drop, 400, RuleVia},
		{"body 20000", with(t, "Content-Length: 134\r\n\r\n", "Content-Length: 20134\r\n\r\n"+long('a', 20000)), Answer, 413, RuleBodySize},
		{"message 40000", with(t, "Z 5.6.1", "Z"+strings.Repeat("\r\nX-Pad: "+long('p', 3000), 13)), Answer, 513, RuleMessageSize},
		{"no empty line", invite[:strings.Index(invite, "\r\n\r\n")+2], Answer, 400, RuleEndOfHeaders},
		{"broken ACK is not answered", strings.ReplaceAll(with(t, "CSeq: 1 INVITE", "CSeq: x ACK"), "INVITE sip:", "ACK sip:"), Drop, 400, RuleCSeq},
		{"bad response is dropped", "SIP/2.0 2000 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\r\n", Drop, 400, RuleStatusLine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewChecker(Limits{}).Check([]byte(tc.msg), Datagram)
			if v.Action != tc.action || v.Rule != tc.rule || (tc.status != 0 && v.Status != tc.status) {
				t.Errorf("got %s %d %q (rule %s), want %s %d (rule %s)", v.Action, v.Status, v.Reason, v.Rule, tc.action, tc.status, tc.rule)
			}
			if v.Action == Answer && !Answerable([]byte(tc.msg)) {
				t.Errorf("Answer for a message without an echoable Via")
			}
		})
	}
}

// rfc4475Sanity is what the raw check alone does with each torture
// message: Pass for the valid ones and for defects only visible after the
// parse (420, 483, the proxy's own answers), a reject for the rest. The
// end-to-end expectations are test/e2e's.
var rfc4475Sanity = map[string]Action{
	"wsinv.dat": Pass, "intmeth.dat": Pass, "esc01.dat": Pass, "escnull.dat": Pass, "esc02.dat": Pass,
	"lwsdisp.dat": Pass, "longreq.dat": Pass, "dblreq.dat": Pass, "semiuri.dat": Pass, "transports.dat": Pass,
	"mpart01.dat": Pass, "unreason.dat": Pass, "noreason.dat": Pass, "badinv01.dat": Drop, "clerr.dat": Answer,
	"ncl.dat": Answer, "scalar02.dat": Answer, "scalarlg.dat": Drop, "quotbal.dat": Answer, "ltgtruri.dat": Answer,
	"lwsruri.dat": Answer, "lwsstart.dat": Answer, "trws.dat": Answer, "escruri.dat": Answer, "baddate.dat": Pass,
	"regbadct.dat": Answer, "badaspec.dat": Answer, "baddn.dat": Answer, "baddn.crlf-terminated.dat": Answer,
	"badvers.dat": Answer, "mismatch01.dat": Answer, "mismatch02.dat": Answer, "bigcode.dat": Drop,
	"badbranch.dat": Pass, "insuf.dat": Answer, "unkscm.dat": Answer, "novelsc.dat": Answer, "unksm2.dat": Pass,
	"bext01.dat": Pass, "invut.dat": Pass, "regaut01.dat": Pass, "multi01.dat": Answer, "mcl01.dat": Answer,
	"bcast.dat": Pass, "zeromf.dat": Pass, "cparam01.dat": Pass, "cparam02.dat": Pass, "regescrt.dat": Pass,
	"sdp01.dat": Pass, "inv2543.dat": Pass, "test.dat": Drop,
}

func TestRFC4475Raw(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "rfc4475")
	files, _ := filepath.Glob(filepath.Join(dir, "*.dat"))
	variants, _ := filepath.Glob(filepath.Join(dir, "variants", "*.dat"))
	if len(files) == 0 {
		t.Skipf("RFC 4475 corpus not found at %s", dir)
	}
	c := NewChecker(Limits{})
	for _, f := range append(files, variants...) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			msg, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := rfc4475Sanity[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			if v := c.Check(msg, Datagram); v.Action != want {
				t.Errorf("got %s %d %q, want %s", v.Action, v.Status, v.Reason, want)
			}
		})
	}
}

func TestAppendReply(t *testing.T) {
	msg := []byte(with(t, "Max-Forwards: 70", "Max-Forwards: 700"))
	v := NewChecker(Limits{}).Check(msg, Datagram)
	got := string(AppendReply(nil, msg, v, "Server: sipfront\r\n"))
	want := "SIP/2.0 400 Bad Max-Forwards\r\n" +
		"Via: SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK-524287-1---6f1c4e2b\r\n" +
		"From: \"Alice Müller\" <sip:alice@sip.example.com>;tag=8a1f3c\r\n" +
		"To: <sip:+4930123456@sip.example.com>;tag=sf"
	if !strings.HasPrefix(got, want) {
		t.Fatalf("reply:\n%s\nwant prefix:\n%s", got, want)
	}
	for _, h := range []string{"\r\nCall-ID: 9b1d2c3e4f5a6b7c8d9e0f@198.51.100.7\r\n", "\r\nCSeq: 1 INVITE\r\n", "\r\nServer: sipfront\r\n"} {
		if !strings.Contains(got, h) {
			t.Errorf("reply lacks %q:\n%s", h, got)
		}
	}
	if !strings.HasSuffix(got, "Content-Length: 0\r\n\r\n") {
		t.Errorf("reply does not end with an empty body:\n%s", got)
	}
	if again := string(AppendReply(nil, msg, v, "Server: sipfront\r\n")); again != got {
		t.Errorf("a retransmission gets another answer (To tag must be stable)")
	}
	res, err := sip.ParseMessage([]byte(got))
	if err != nil {
		t.Fatalf("sipgo cannot parse the reply: %v\n%s", err, got)
	}
	if r, ok := res.(*sip.Response); !ok || r.StatusCode != 400 {
		t.Fatalf("parsed %#v", res)
	}
	tagged := []byte(with(t, "To: <sip:+4930123456@sip.example.com>", "To: <sip:b@c> ; tag = x"))
	tagged = []byte(strings.Replace(string(tagged), "Max-Forwards: 70", "Max-Forwards: 700", 1))
	if got := string(AppendReply(nil, tagged, v, "")); strings.Contains(got, "tag=sf") || strings.Contains(got, "Server:") {
		t.Errorf("tag added to a tagged To, or Server without asking:\n%s", got)
	}
}

func TestTopVia(t *testing.T) {
	for _, tc := range []struct {
		via   string
		port  int
		rport bool
	}{
		{"Via: SIP/2.0/UDP 198.51.100.7:5062;rport;branch=z9hG4bK1", 5062, true},
		{"v: SIP / 2.0 / UDP host.example.com;branch=z9hG4bK1;received=1.2.3.4", 0, false},
		{"Via: SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bK1;rport=", 5070, true},
		{"Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1, SIP/2.0/UDP a:1", 0, false},
	} {
		msg := []byte("OPTIONS sip:a@b SIP/2.0\r\n" + tc.via + "\r\nCSeq: 1 OPTIONS\r\n\r\n")
		port, rport, ok := TopVia(msg)
		if !ok || port != tc.port || rport != tc.rport {
			t.Errorf("%s: got %d %v %v, want %d %v", tc.via, port, rport, ok, tc.port, tc.rport)
		}
	}
}

func TestFramer(t *testing.T) {
	msg := with(t, "SIP/2.0/UDP", "SIP/2.0/TCP")
	stream := "\r\n" + msg + "\r\n\r\n" + msg
	f := NewFramer(Limits{})
	var got []string
	var frames []Frame
	for i := 0; i < len(stream); i += 7 { // TCP delivers whatever it likes
		f.Feed([]byte(stream[i:min(i+7, len(stream))]))
		for {
			m, fr := f.Next()
			if fr == NeedMore {
				break
			}
			frames = append(frames, fr)
			got = append(got, string(m))
		}
	}
	if len(got) != 3 || got[0] != msg || frames[1] != Keepalive || got[2] != msg {
		t.Fatalf("frames %v: %q", frames, got)
	}
	if f.Pending() {
		t.Errorf("pending after the last message")
	}
	for _, tc := range []struct {
		name, msg string
		status    int
	}{
		{"no Content-Length", strings.Replace(msg, "Content-Length: 134\r\n", "", 1), 400},
		{"bad Content-Length", strings.Replace(msg, "Content-Length: 134", "Content-Length: x", 1), 400},
		{"announced body above the limit", strings.Replace(msg, "Content-Length: 134", "Content-Length: 99999", 1), 513},
		{"endless header block", "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK1\r\nX: " + strings.Repeat("a", 40000), 513},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFramer(Limits{})
			f.Feed([]byte(tc.msg))
			if _, fr := f.Next(); fr != Broken || f.Failure().Status != tc.status || f.Failure().Action != Answer {
				t.Errorf("got %v %+v", fr, f.Failure())
			}
		})
	}
}

func TestCheckAllocatesNothing(t *testing.T) {
	c := NewChecker(Limits{})
	msg := []byte(invite)
	if n := testing.AllocsPerRun(100, func() { c.Check(msg, Datagram) }); n != 0 {
		t.Errorf("Check allocates %.0f times per INVITE", n)
	}
	bad := []byte(with(t, "CSeq: 1 INVITE", "CSeq: -1 INVITE"))
	if n := testing.AllocsPerRun(100, func() { c.Check(bad, Datagram) }); n != 0 {
		t.Errorf("Check allocates %.0f times per rejected INVITE", n)
	}
}

// BenchmarkCheck measures the raw check against sipgo's parse of the same
// INVITE (the work every message costs anyway), in the same run.
func BenchmarkCheck(b *testing.B) {
	msg := []byte(invite)
	b.Run("sanity", func(b *testing.B) {
		c := NewChecker(Limits{})
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if c.Check(msg, Datagram).Action != Pass {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("sipgo-parse", func(b *testing.B) {
		p := sip.NewParser()
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := p.ParseSIP(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	bad := bytes.Replace(msg, []byte("CSeq: 1"), []byte("CSeq: -1"), 1)
	b.Run("sanity-reject+reply", func(b *testing.B) {
		c := NewChecker(Limits{})
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		for b.Loop() {
			v := c.Check(bad, Datagram)
			buf = AppendReply(buf[:0], bad, v, "")
		}
	})
}

func TestNormalize(t *testing.T) {
	in := "INVITE sip:a@b;x SIP/2.0\r\n" +
		"TO :\r\n sip:a@b ;   tag    = 1918181833n\r\n" +
		"from   : \"J Rosenberg \\\\\\\"\"       <sip:c@d>\r\n  ;\r\n  tag = 98asjd8\r\n" +
		"cseq: 0009\r\n  INVITE\r\n" +
		"Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n" +
		"Subject: a  ;  b\r\n" +
		"Content-Length: 4\r\n\r\nbody"
	want := "INVITE sip:a@b;x SIP/2.0\r\n" +
		"TO : sip:a@b;tag=1918181833n\r\n" +
		"from : \"J Rosenberg \\\\\\\"\" <sip:c@d>;tag=98asjd8\r\n" +
		"cseq: 0009 INVITE\r\n" +
		"Via : SIP/2.0/UDP 192.0.2.2;branch=390skdjuw\r\n" +
		"Subject: a ; b\r\n" +
		"Content-Length: 4\r\n\r\nbody"
	b := []byte(in)
	if got := string(b[:Normalize(b)]); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	plain := []byte(invite)
	if n := Normalize(plain); n != len(invite) || string(plain) != invite {
		t.Error("a message without folded lines changed")
	}
	m, err := sip.ParseMessage(b[:Normalize([]byte(in))])
	if err != nil {
		t.Fatal(err)
	}
	if tag, _ := m.(*sip.Request).From().Params.Get("tag"); tag != "98asjd8" {
		t.Errorf("From tag %q", tag)
	}
}
