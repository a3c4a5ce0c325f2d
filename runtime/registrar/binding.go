// Package registrar is the location service of RFC 3261 §10.3: it keeps the
// contacts each subscriber registered, answers REGISTER requests, expires
// bindings on time and persists them behind a Store so that they survive a
// restart. The rules work on plain values (Request, Result); sip.go adapts
// them to sipgo messages.
package registrar

import (
	"strconv"
	"time"
)

// QUnset is the Q of a contact registered without a q parameter.
const QUnset = -1

// Binding is one contact bound to a user (the address of record).
type Binding struct {
	// User is the user part of the address of record. Users are shared by
	// all of the proxy's domains (they are aliases of one another, as
	// Kamailio's usrloc with use_domain=0).
	User string `json:"user"`
	// Domain is the host of the To URI the binding was registered with.
	Domain string `json:"domain"`
	// URI is the Contact URI as the UA wrote it: the Request-URI of the
	// requests sent to this binding.
	URI string `json:"uri"`
	// Key identifies the contact for RFC 3261 §19.1.4 comparison.
	Key string `json:"key"`
	// Q is the q value in thousandths (0..1000), QUnset when not given.
	Q int `json:"q"`
	// Expires is when the binding ends, in Unix nanoseconds.
	Expires int64 `json:"expires"`
	// Updated is when the binding was last written, in Unix nanoseconds: the
	// oldest binding is the one replaced when max_contacts is reached.
	Updated int64  `json:"updated"`
	CallID  string `json:"call_id"`
	CSeq    uint32 `json:"cseq"`
	// Source and Transport are where the REGISTER came from (ip:port and
	// UDP/TCP/...): requests for the binding are sent there, because a phone
	// behind NAT cannot be reached at its private Contact address.
	Source    string `json:"source"`
	Transport string `json:"transport"`
	UserAgent string `json:"user_agent,omitempty"`
}

// Rank is the q value used for ordering: a contact without q ranks as 1.0.
func (b *Binding) Rank() int {
	if b.Q == QUnset {
		return 1000
	}
	return b.Q
}

// Remaining is the binding's remaining lifetime at now, in whole seconds
// rounded up (a binding that is still live never shows 0).
func (b *Binding) Remaining(now time.Time) int {
	d := b.Expires - now.UnixNano()
	if d <= 0 {
		return 0
	}
	return int((d + int64(time.Second) - 1) / int64(time.Second))
}

// Live reports whether the binding has not expired at now (Unix nanoseconds).
func (b *Binding) Live(now int64) bool { return b.Expires > now }

// FormatQ renders a q value in thousandths as SIP writes it (0.5, 1.0).
func FormatQ(q int) string {
	if q >= 1000 {
		return "1.0"
	}
	s := strconv.Itoa(q + 1000)[1:] // three digits, zero padded
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return "0." + s
}

// ParseQ parses a q parameter (RFC 3261 §25: "0" ["." 0*3DIGIT] or "1"
// ["." 0*3("0")]) into thousandths.
func ParseQ(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' {
		return 0, false
	}
	scale := 100
	for _, c := range s[2:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	return q, q <= 1000
}
