package carrier

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Challenge is a digest challenge from a carrier's WWW-Authenticate (401)
// or Proxy-Authenticate (407) header (RFC 7616, RFC 3261 §22.4).
type Challenge struct {
	Realm  string
	Nonce  string
	Opaque string
	// Algorithm is as the carrier wrote it ("MD5" when absent).
	Algorithm string
	// QOP lists the offered qop values; empty for an RFC 2069 challenge.
	QOP   []string
	Stale bool
}

// ParseChallenge parses a Digest challenge header value.
func ParseChallenge(v string) (Challenge, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	if !strings.EqualFold(scheme, "Digest") {
		return Challenge{}, fmt.Errorf("challenge scheme %q: only Digest is supported", scheme)
	}
	ch := Challenge{Algorithm: "MD5"}
	params, err := authParams(rest)
	if err != nil {
		return Challenge{}, fmt.Errorf("digest challenge: %w", err)
	}
	for _, p := range params {
		switch strings.ToLower(p[0]) {
		case "realm":
			ch.Realm = p[1]
		case "nonce":
			ch.Nonce = p[1]
		case "opaque":
			ch.Opaque = p[1]
		case "algorithm":
			ch.Algorithm = p[1]
		case "qop":
			for _, q := range strings.Split(p[1], ",") {
				if q = strings.TrimSpace(q); q != "" {
					ch.QOP = append(ch.QOP, q)
				}
			}
		case "stale":
			ch.Stale = strings.EqualFold(p[1], "true")
		}
	}
	if ch.Nonce == "" {
		return Challenge{}, errors.New("digest challenge without nonce")
	}
	return ch, nil
}

// authParams splits `a="x, y", b=z` into name/value pairs, unquoting
// quoted values.
func authParams(s string) ([][2]string, error) {
	var out [][2]string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimLeft(s, " \t,") {
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("parameter %q without value", s)
		}
		name, rest = strings.TrimSpace(name), strings.TrimLeft(rest, " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			if i >= len(rest) {
				return nil, fmt.Errorf("parameter %s: unterminated quoted string", name)
			}
			val, s = b.String(), rest[i+1:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val, s = strings.TrimSpace(rest[:end]), rest[end:]
		}
		out = append(out, [2]string{name, val})
	}
	return out, nil
}

// Answer is what is needed to answer one challenge.
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
	newHash, sess, err := digestAlgorithm(ch.Algorithm)
	if err != nil {
		return "", err
	}
	qop := ""
	if len(ch.QOP) > 0 {
		for _, q := range ch.QOP {
			if strings.EqualFold(q, "auth") {
				qop = "auth"
			}
		}
		if qop == "" {
			return "", fmt.Errorf("digest qop %q: only auth is supported", strings.Join(ch.QOP, ","))
		}
	}
	h := func(s string) string {
		x := newHash()
		x.Write([]byte(s))
		return hex.EncodeToString(x.Sum(nil))
	}
	ha1 := h(a.Username + ":" + ch.Realm + ":" + a.Password)
	if sess {
		ha1 = h(ha1 + ":" + ch.Nonce + ":" + a.CNonce)
	}
	ha2 := h(a.Method + ":" + a.URI)
	nc := fmt.Sprintf("%08x", a.NC)
	var response string
	if qop == "" {
		response = h(ha1 + ":" + ch.Nonce + ":" + ha2)
	} else {
		response = h(ha1 + ":" + ch.Nonce + ":" + nc + ":" + a.CNonce + ":" + qop + ":" + ha2)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s`,
		quote(a.Username), quote(ch.Realm), quote(ch.Nonce), quote(a.URI), response, ch.Algorithm)
	if qop != "" {
		fmt.Fprintf(&b, `, qop=%s, nc=%s, cnonce="%s"`, qop, nc, quote(a.CNonce))
	}
	if ch.Opaque != "" {
		fmt.Fprintf(&b, `, opaque="%s"`, quote(ch.Opaque))
	}
	return b.String(), nil
}

func digestAlgorithm(name string) (func() hash.Hash, bool, error) {
	base, sess := strings.CutSuffix(strings.ToUpper(name), "-SESS")
	switch base {
	case "", "MD5":
		return md5.New, sess, nil
	case "SHA-256":
		return sha256.New, sess, nil
	}
	return nil, false, fmt.Errorf("digest algorithm %q: only MD5 and SHA-256 are supported", name)
}

// quote escapes a quoted-string's content.
func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// AuthorizationHeader names the header that answers a challenge of the
// given status: Authorization for 401, Proxy-Authorization for 407.
func AuthorizationHeader(status int) string {
	if status == 407 {
		return "Proxy-Authorization"
	}
	return "Authorization"
}

// ChallengeHeader names the header a challenge of the given status comes
// in: WWW-Authenticate for 401, Proxy-Authenticate for 407.
func ChallengeHeader(status int) string {
	if status == 407 {
		return "Proxy-Authenticate"
	}
	return "WWW-Authenticate"
}
