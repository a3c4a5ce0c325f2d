package digest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Answer is what a client needs to answer one challenge.
type Answer struct {
	Username, Password string
	// Method and URI are the request's method and Request-URI.
	Method, URI string
	// CNonce is the client nonce; NewCNonce makes one. NC is the nonce
	// count (1 for the first request with a nonce).
	CNonce string
	NC     uint32
}

// NewCNonce returns a random client nonce.
func NewCNonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Authorization builds the value of the Authorization (for a 401) or
// Proxy-Authorization (for a 407) header answering ch, with qop=auth when
// the challenge offers it. It supports MD5, SHA-256 and their -sess
// variants; it fails for other algorithms and for a challenge offering
// only qop=auth-int. The result holds the response hash, never the
// password.
func Authorization(ch Challenge, a Answer) (string, error) {
	alg, ok := ParseAlgorithm(ch.Algorithm)
	if !ok {
		return "", fmt.Errorf("digest algorithm %q: only MD5 and SHA-256 are supported", ch.Algorithm)
	}
	c := Credentials{Username: a.Username, Realm: ch.Realm, Nonce: ch.Nonce, URI: a.URI,
		Algorithm: ch.Algorithm, CNonce: a.CNonce, Opaque: ch.Opaque}
	if len(ch.QOP) > 0 {
		for _, q := range ch.QOP {
			if strings.EqualFold(q, "auth") {
				c.QOP = "auth"
			}
		}
		if c.QOP == "" {
			return "", fmt.Errorf("digest qop %q: only auth is supported", strings.Join(ch.QOP, ","))
		}
		c.NC = formatNC(a.NC)
	}
	var dst [64]byte
	c.Response = string(Response(&dst, alg, HA1(alg, a.Username, ch.Realm, a.Password), a.Method, &c))
	return c.String(), nil
}

// formatNC writes a nonce count as eight hex digits (RFC 7616 §3.4).
func formatNC(n uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}
