package sanity

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"
)

// FuzzCheck feeds arbitrary bytes to Check, AppendReply, TopVia and the
// Framer: none may panic, a passed message never holds a control octet or
// invalid UTF-8 in its header block, and an answer is never much larger
// than the request (no amplification).
func FuzzCheck(f *testing.F) {
	f.Add([]byte(invite))
	f.Add([]byte("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"))
	if files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "testdata", "rfc4475", "*.dat")); len(files) > 0 {
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	c := NewChecker(Limits{})
	f.Fuzz(func(t *testing.T, msg []byte) {
		v := c.Check(msg, Datagram)
		if v.Len > len(msg) || v.Len < 0 {
			t.Fatalf("Len %d of %d octets", v.Len, len(msg))
		}
		if v.Action == Pass && !isKeepalive(msg) {
			head := msg[:headerBlockEnd(msg)]
			if !utf8.Valid(head) {
				t.Fatalf("passed invalid UTF-8 in the header block: %q", msg)
			}
			if bytes.IndexByte(head, 0) >= 0 && !bytes.Contains(head, []byte("\\\x00")) {
				t.Fatalf("passed a NUL outside a quoted-pair: %q", msg)
			}
		}
		if v.Action == Answer {
			out := AppendReply(nil, msg, v, "")
			if len(out) == 0 {
				t.Fatalf("Answer verdict but no answer: %q", msg)
			}
			if len(out) > len(msg)+160 {
				t.Fatalf("answer of %d octets to a request of %d", len(out), len(msg))
			}
		}
		TopVia(msg)
		if v.Action == Pass {
			cp := append([]byte(nil), msg[:v.Len]...)
			if n := Normalize(cp); n > len(cp) || n < 0 {
				t.Fatalf("Normalize grew the message")
			}
		}
		fr := NewFramer(Limits{})
		fr.Feed(msg)
		for range 16 {
			m, kind := fr.Next()
			if kind == NeedMore || kind == Broken {
				break
			}
			c.Check(m, Streamed)
		}
	})
}

// headerBlockEnd returns where the header block ends: at the first empty
// line, ended by CRLF or by a bare LF as the Checker accepts both.
func headerBlockEnd(msg []byte) int {
	for i := 0; i < len(msg); {
		j := bytes.IndexByte(msg[i:], '\n')
		if j < 0 {
			return len(msg)
		}
		if j == 0 || (j == 1 && msg[i] == '\r') {
			return i
		}
		i += j + 1
	}
	return len(msg)
}

// FuzzParse runs what the proxy does with a message the check passed:
// sipgo's parse and the header and URI accessors the runtime reads. sipgo
// has no recover (P10), so a panic here would be a crash in production.
func FuzzParse(f *testing.F) {
	f.Add([]byte(invite))
	f.Add([]byte("REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP a:5060;branch=z9hG4bK1;rport\r\nFrom: <sip:u@example.com>;tag=1\r\nTo: <sip:u@example.com>\r\nCall-ID: r\r\nCSeq: 1 REGISTER\r\nContact: <sip:u@192.0.2.1:5060>;expires=60\r\nContent-Length: 0\r\n\r\n"))
	c := NewChecker(Limits{})
	f.Fuzz(func(t *testing.T, msg []byte) {
		v := c.Check(msg, Datagram)
		if v.Action != Pass || isKeepalive(msg) {
			return
		}
		cp := append([]byte(nil), msg[:v.Len]...)
		m, err := sip.ParseMessage(cp[:Normalize(cp)])
		if err != nil {
			return
		}
		req, ok := m.(*sip.Request)
		if !ok {
			return
		}
		_ = req.Recipient.String()
		for _, h := range req.Headers() {
			_ = h.Value()
		}
		if from := req.From(); from != nil {
			_, _ = from.Params.Get("tag")
		}
		if to := req.To(); to != nil {
			var u sip.Uri
			_ = sip.ParseUri(to.Address.String(), &u)
		}
		if via := req.Via(); via != nil {
			_, _ = via.Params.Get("branch")
		}
		_ = req.CSeq()
		_ = req.Clone()
	})
}
