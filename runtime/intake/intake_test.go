package intake

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestContentLengthFilter: octets after the announced body are cut off
// (RFC 3261 §18.3); a longer, negative or unreadable Content-Length is
// marked for a 400.
func TestContentLengthFilter(t *testing.T) {
	head := "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-cl\r\nContent-Length: %s\r\n\r\n"
	udp := sip.TransportReadProps{Transport: "UDP"}
	for _, c := range []struct {
		cl, body, want string
	}{
		{"4", "abcd", "abcd"},
		{"2", "abcdINVITE sip:x SIP/2.0", "ab"},
		{"0", "\r\nINVITE sip:joe@example.com SIP/2.0\r\n", ""},
		{"9", "abcd", "marked"},
		{"-9", "abcd", "marked"},
		{"x", "abcd", "marked"},
	} {
		in := fmt.Sprintf(head, c.cl) + c.body
		out, err := ContentLengthFilter(udp, []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		got := string(out)
		switch {
		case c.want == "marked":
			if !strings.Contains(got, BadContentLength) {
				t.Errorf("Content-Length %s, body %q: not marked: %q", c.cl, c.body, got)
			}
		case got != fmt.Sprintf(head, c.cl)+c.want:
			t.Errorf("Content-Length %s, body %q: got %q, want the body %q", c.cl, c.body, got, c.want)
		}
	}
}
