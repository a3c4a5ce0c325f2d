// Package auth serves the auth stages of a policy: SIP digest
// authentication (RFC 3261 §22, RFC 7616 with the RFC 8760 algorithms MD5
// and SHA-256, qop=auth), stateless nonces, nonce-count replay protection,
// credential stores (a CSV file compiled into the graph, or PostgreSQL
// behind a cache) and a brute-force throttle per source and per user.
//
// Service implements graph.Authenticator. Its state (throttle tables,
// database pools and caches, nonce counts) is keyed by graph IDs and
// survives a policy reload.
package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Algorithm is a digest algorithm (RFC 8760).
type Algorithm uint8

// Digest algorithms, in the order a challenge offers them: the stronger
// first, as RFC 8760 §2.4 asks.
const (
	SHA256 Algorithm = iota + 1
	MD5
)

// String returns the algorithm as written in the algorithm parameter.
func (a Algorithm) String() string {
	switch a {
	case SHA256:
		return "SHA-256"
	case MD5:
		return "MD5"
	}
	return "unknown"
}

// hexLen is the length of a hex hash of the algorithm.
func (a Algorithm) hexLen() int {
	if a == SHA256 {
		return 2 * sha256.Size
	}
	return 2 * md5.Size
}

// parseAlgorithm reads the algorithm parameter; an absent one means MD5
// (RFC 2617 §3.2.1). The -sess variants are not offered, so not accepted.
func parseAlgorithm(s string) (Algorithm, bool) {
	switch {
	case s == "" || strings.EqualFold(s, "MD5"):
		return MD5, true
	case strings.EqualFold(s, "SHA-256"):
		return SHA256, true
	}
	return 0, false
}

// Answer is the parsed value of an Authorization or Proxy-Authorization
// header. Its strings point into the header value: parsing copies nothing
// unless a quoted value holds an escape.
type Answer struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string
	CNonce    string
	QOP       string
	NC        string
	Opaque    string
}

// ParseAnswer parses a Digest credentials header value. ok is false for
// another scheme or a value that is not a list of name=value pairs.
func ParseAnswer(h string) (a Answer, ok bool) {
	h = strings.TrimSpace(h)
	if len(h) < 7 || !strings.EqualFold(h[:6], "digest") || (h[6] != ' ' && h[6] != '\t') {
		return a, false
	}
	rest := h[7:]
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return a, a.Username != "" && a.Response != ""
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return a, false
		}
		name := strings.TrimSpace(rest[:eq])
		var val string
		val, rest, ok = paramValue(strings.TrimLeft(rest[eq+1:], " \t"))
		if !ok {
			return a, false
		}
		a.set(name, val)
	}
}

// paramValue reads a token or a quoted string at the start of s.
func paramValue(s string) (val, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		end := strings.IndexAny(s, ", \t")
		if end < 0 {
			return s, "", true
		}
		return s[:end], s[end:], true
	}
	escaped := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			v := s[1:i]
			if escaped {
				v = unescape(v)
			}
			return v, s[i+1:], true
		}
	}
	return "", "", false // unterminated quote
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (a *Answer) set(name, val string) {
	switch strings.ToLower(name) {
	case "username":
		a.Username = val
	case "realm":
		a.Realm = val
	case "nonce":
		a.Nonce = val
	case "uri":
		a.URI = val
	case "response":
		a.Response = val
	case "algorithm":
		a.Algorithm = val
	case "cnonce":
		a.CNonce = val
	case "qop":
		a.QOP = val
	case "nc":
		a.NC = val
	case "opaque":
		a.Opaque = val
	}
}

// maxHashInput bounds what one hash input may hold on the stack; longer
// answers (a 1 KB uri) are refused rather than hashed on the heap.
const maxHashInput = 512

// sumHex writes the hex hash of in to dst (which holds 64 bytes) and
// returns the written part.
func sumHex(alg Algorithm, dst *[64]byte, in []byte) []byte {
	if alg == SHA256 {
		sum := sha256.Sum256(in)
		hex.Encode(dst[:], sum[:])
		return dst[:2*sha256.Size]
	}
	sum := md5.Sum(in)
	hex.Encode(dst[:], sum[:])
	return dst[:2*md5.Size]
}

// HA1 returns hex H(user:realm:password), what a credential store keeps.
func HA1(alg Algorithm, user, realm, password string) string {
	var dst [64]byte
	return string(sumHex(alg, &dst, []byte(user+":"+realm+":"+password)))
}

// expectedResponse computes the qop=auth response (RFC 7616 §3.4.1),
// H(HA1:nonce:nc:cnonce:qop:H(method:uri)), into dst. ok is false when the
// answer is too long to hash on the stack.
func expectedResponse(alg Algorithm, dst *[64]byte, ha1, method string, a *Answer) (out []byte, ok bool) {
	if len(method)+len(a.URI)+1 > maxHashInput ||
		len(ha1)+len(a.Nonce)+len(a.NC)+len(a.CNonce)+len(a.QOP)+64+5 > maxHashInput {
		return nil, false
	}
	var buf [maxHashInput]byte
	in := append(buf[:0], method...)
	in = append(in, ':')
	in = append(in, a.URI...)
	var ha2 [64]byte
	h2 := sumHex(alg, &ha2, in)
	in = append(buf[:0], ha1...)
	for _, p := range [...]string{a.Nonce, a.NC, a.CNonce, a.QOP} {
		in = append(in, ':')
		in = append(in, p...)
	}
	in = append(in, ':')
	in = append(in, h2...)
	return sumHex(alg, dst, in), true
}

// responseMatches verifies a's response for method against the hex HA1 in
// constant time. A wrong-length HA1 (a user without a SHA-256 HA1 answering
// SHA-256) is hashed all the same, so that the work does not depend on it.
func responseMatches(alg Algorithm, ha1, method string, a *Answer) bool {
	var dst [64]byte
	want, ok := expectedResponse(alg, &dst, ha1, method, a)
	if !ok || len(a.Response) != len(want) {
		return false
	}
	var got [64]byte
	for i := 0; i < len(want); i++ {
		got[i] = lowerHex(a.Response[i])
	}
	hasHA1 := len(ha1) == alg.hexLen()
	return subtle.ConstantTimeCompare(got[:len(want)], want) == 1 && hasHA1
}

func lowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + ('a' - 'A')
	}
	return c
}
