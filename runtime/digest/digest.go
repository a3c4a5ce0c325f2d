// Package digest owns the HTTP digest arithmetic and header syntax that SIP
// uses for authentication (RFC 3261 §22, RFC 2617, RFC 7616 with the RFC
// 8760 algorithms): the algorithms MD5 and SHA-256 and their -sess
// variants, HA1 and the response (qop=auth, or none for an RFC 2069
// peer), parsing and formatting a challenge (WWW-Authenticate,
// Proxy-Authenticate) and credentials (Authorization,
// Proxy-Authorization).
//
// Both sides use it: runtime/auth challenges subscribers and verifies
// their answers on the request path, so parsing and verifying allocate
// nothing; runtime/carrier answers a carrier's challenge. What each side
// accepts (which algorithms it offers, which qop it needs) is its own
// policy, not this package's.
package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Algorithm is a digest algorithm (RFC 7616 §3.3, RFC 8760).
type Algorithm uint8

// Digest algorithms. SHA256 comes first, as a challenge offers it first
// (RFC 8760 §2.4). The -sess variants hash the nonces into HA1 (RFC 7616
// §3.4.2).
const (
	SHA256 Algorithm = iota + 1
	MD5
	SHA256Sess
	MD5Sess
)

// String returns the algorithm as written in the algorithm parameter.
func (a Algorithm) String() string {
	switch a {
	case SHA256:
		return "SHA-256"
	case MD5:
		return "MD5"
	case SHA256Sess:
		return "SHA-256-sess"
	case MD5Sess:
		return "MD5-sess"
	}
	return "unknown"
}

// Sess reports whether a is a -sess variant.
func (a Algorithm) Sess() bool { return a == SHA256Sess || a == MD5Sess }

func (a Algorithm) sha256() bool { return a == SHA256 || a == SHA256Sess }

// HexLen is the length of a hex hash of the algorithm: what a stored HA1
// of it holds.
func (a Algorithm) HexLen() int {
	if a.sha256() {
		return 2 * sha256.Size
	}
	return 2 * md5.Size
}

// ParseAlgorithm reads the algorithm parameter, case-insensitively; an
// absent one means MD5 (RFC 2617 §3.2.1). ok is false for an algorithm
// this package cannot compute (SHA-512-256, a token of another scheme).
func ParseAlgorithm(s string) (a Algorithm, ok bool) {
	base, sess := s, false
	if n := len(s) - len("-sess"); n >= 0 && strings.EqualFold(s[n:], "-sess") {
		base, sess = s[:n], true
	}
	switch {
	case base == "" || strings.EqualFold(base, "MD5"):
		a = MD5
	case strings.EqualFold(base, "SHA-256"):
		a = SHA256
	default:
		return 0, false
	}
	if sess {
		a += SHA256Sess - SHA256
	}
	return a, true
}

// sumHex writes the hex hash of in to dst and returns the written part.
func sumHex(alg Algorithm, dst *[64]byte, in []byte) []byte {
	if alg.sha256() {
		sum := sha256.Sum256(in)
		hex.Encode(dst[:], sum[:])
		return dst[:2*sha256.Size]
	}
	sum := md5.Sum(in)
	hex.Encode(dst[:], sum[:])
	return dst[:2*md5.Size]
}

// HA1 returns hex H(user:realm:password), what a credential store keeps.
// For a -sess algorithm it is the base HA1 all the same: Response hashes
// the nonces in.
func HA1(alg Algorithm, user, realm, password string) string {
	var dst [64]byte
	return string(sumHex(alg, &dst, []byte(user+":"+realm+":"+password)))
}

// hashInput is the stack buffer one hash input is built in; a longer input
// (a client's long Request-URI) grows onto the heap.
const hashInput = 512

// Response computes into dst the response c must carry for a request of
// method, from the hex HA1 (RFC 7616 §3.4.1): H(HA1:nonce:nc:cnonce:qop:HA2)
// with HA2 = H(method:uri), or H(HA1:nonce:HA2) when c has no qop (RFC
// 2069). For a -sess algorithm HA1 is first H(HA1:nonce:cnonce). Only
// c's Nonce, NC, CNonce, QOP and URI are read; qop=auth-int is not
// computed (its HA2 needs the body): the caller refuses it.
func Response(dst *[64]byte, alg Algorithm, ha1, method string, c *Credentials) []byte {
	var buf [hashInput]byte
	var ha2 [64]byte
	h2 := sumHex(alg, &ha2, joinTo(append(buf[:0], method...), c.URI))
	in := append(buf[:0], ha1...)
	if alg.Sess() {
		var key [64]byte
		in = append(buf[:0], sumHex(alg, &key, joinTo(in, c.Nonce, c.CNonce))...)
	}
	if c.QOP == "" {
		in = joinTo(in, c.Nonce)
	} else {
		in = joinTo(in, c.Nonce, c.NC, c.CNonce, c.QOP)
	}
	return sumHex(alg, dst, append(append(in, ':'), h2...))
}

// joinTo appends a colon and each part to b.
func joinTo(b []byte, parts ...string) []byte {
	for _, p := range parts {
		b = append(b, ':')
		b = append(b, p...)
	}
	return b
}

// maxVerifyInput bounds what a verified answer may make the server hash:
// longer answers (a 1 KB uri) are refused rather than hashed on the heap.
const maxVerifyInput = hashInput

// Verify reports whether c's response for method matches the hex HA1, in
// constant time. A wrong-length HA1 (a user without a SHA-256 HA1
// answering SHA-256, or none at all) is hashed all the same, so that the
// work does not depend on it; an answer too long to hash on the stack is
// refused.
func Verify(alg Algorithm, ha1, method string, c *Credentials) bool {
	if len(method)+len(c.URI)+1 > maxVerifyInput ||
		len(ha1)+len(c.Nonce)+len(c.NC)+len(c.CNonce)+len(c.QOP)+64+5 > maxVerifyInput {
		return false
	}
	var dst [64]byte
	want := Response(&dst, alg, ha1, method, c)
	if len(c.Response) != len(want) {
		return false
	}
	var got [64]byte
	for i := 0; i < len(want); i++ {
		got[i] = lowerHex(c.Response[i])
	}
	hasHA1 := len(ha1) == alg.HexLen()
	return subtle.ConstantTimeCompare(got[:len(want)], want) == 1 && hasHA1
}

func lowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + ('a' - 'A')
	}
	return c
}
