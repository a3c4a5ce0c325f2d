package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestMalformedRequests sends each request the proxy core must refuse and
// checks the answer, then that the proxy still answers OPTIONS.
func TestMalformedRequests(t *testing.T) {
	port := freePort(t)
	self := addr(port)
	// The pool "self" is the proxy itself: a request routed there comes
	// back with the proxy's own Via, a loop.
	extra := fmt.Sprintf("pool \"self\" {\n  balance = \"round-robin\"\n  member \"me\" { uri = \"sip:%s\" }\n}\n\n"+
		"route \"loop\" {\n  when = \"ruri.user == 'loop'\"\n  to   = pool.self\n}\n\n", self)
	policy := policyText(port, pool{balance: "round-robin", members: []member{{name: "nobody", port: freePort(t)}}}, extra)
	p := startProxy(t, writePolicy(t, policy), self)

	cases := []struct {
		name, network string
		want          int
		msg           []byte
	}{
		{"missing Call-ID", "udp", 400, invite(self, "alice", without("Call-ID"))},
		{"missing From", "udp", 400, invite(self, "alice", without("From"))},
		{"missing To", "udp", 400, invite(self, "alice", without("To"))},
		{"CSeq method mismatch", "udp", 400, invite(self, "alice", replace("CSeq: 1 INVITE", "CSeq: 1 BYE"))},
		{"Content-Length larger than the body", "udp", 400, invite(self, "alice", replace("Content-Length: 0", "Content-Length: 100"), body("v=0\r\n"))},
		{"Max-Forwards 0", "udp", 483, invite(self, "alice", replace("Max-Forwards: 70", "Max-Forwards: 0"))},
		{"loop through this proxy", "udp", 482, invite(self, "loop")},
		{"missing Call-ID over TCP", "tcp", 400, invite(self, "alice", without("Call-ID"), transport("TCP"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := exchange(c.network, "", self, c.msg, 5*time.Second)
			if err != nil || got != c.want {
				t.Errorf("%s: got %d (%v), want %d", c.name, got, err, c.want)
			}
			if code, err := options(p.addr, "udp", 2*time.Second); code != 200 {
				t.Fatalf("after %s the proxy no longer answers OPTIONS: %d %v", c.name, code, err)
			}
		})
	}
}

// edit changes the lines of a raw request.
type edit func([]string) []string

func without(name string) edit {
	return func(ls []string) []string {
		var out []string
		for _, l := range ls {
			if !strings.HasPrefix(l, name+":") {
				out = append(out, l)
			}
		}
		return out
	}
}

func replace(old, repl string) edit {
	return func(ls []string) []string {
		for i, l := range ls {
			if l == old {
				ls[i] = repl
			}
		}
		return ls
	}
}

func transport(tp string) edit {
	return func(ls []string) []string {
		for i, l := range ls {
			ls[i] = strings.Replace(l, "SIP/2.0/UDP", "SIP/2.0/"+tp, 1)
		}
		return ls
	}
}

// body appends raw body bytes after the blank line.
func body(b string) edit {
	return func(ls []string) []string { return append(ls, b) }
}

// invite builds a raw INVITE to user@proxy with a fresh branch, Call-ID and
// tag; the Via asks for rport so the answer comes back to the sender.
func invite(proxy, user string, edits ...edit) []byte {
	id := fmt.Sprintf("%x", rand.Uint64())
	ls := []string{
		"INVITE sip:" + user + "@" + proxy + " SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-" + id + ";rport",
		"Max-Forwards: 70",
		"From: <sip:bob@sipfront.test>;tag=" + id,
		"To: <sip:" + user + "@sipfront.test>",
		"Call-ID: " + id + "@e2e",
		"CSeq: 1 INVITE",
		"Contact: <sip:bob@127.0.0.1:9>",
		"Content-Length: 0",
		"",
	}
	for _, e := range edits {
		ls = e(ls)
	}
	// Lines end in CRLF; a body edit appended after the blank line is raw.
	if last := ls[len(ls)-1]; last != "" {
		return append(crlf(ls[:len(ls)-1]...), last...)
	}
	return crlf(ls...)
}
