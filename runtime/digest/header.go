package digest

import (
	"errors"
	"fmt"
	"strings"
)

// Credentials is the value of an Authorization or Proxy-Authorization
// header (RFC 7616 §3.4). Parsed, its strings point into the header
// value: parsing copies nothing unless a quoted value holds an escape.
type Credentials struct {
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

// ParseCredentials parses a Digest credentials header value. ok is false
// for another scheme, a value that is not a list of name=value pairs, or
// one without a username or a response.
func ParseCredentials(h string) (c Credentials, ok bool) {
	rest, ok := cutScheme(h)
	if !ok {
		return c, false
	}
	p := params{rest: rest}
	for {
		name, val, more := p.next()
		if !more {
			return c, p.bad == nil && c.Username != "" && c.Response != ""
		}
		c.set(name, val)
	}
}

func (c *Credentials) set(name, val string) {
	switch strings.ToLower(name) {
	case "username":
		c.Username = val
	case "realm":
		c.Realm = val
	case "nonce":
		c.Nonce = val
	case "uri":
		c.URI = val
	case "response":
		c.Response = val
	case "algorithm":
		c.Algorithm = val
	case "cnonce":
		c.CNonce = val
	case "qop":
		c.QOP = val
	case "nc":
		c.NC = val
	case "opaque":
		c.Opaque = val
	}
}

// String formats c as a header value: username, realm, nonce, uri,
// response and algorithm (when set); qop, nc and cnonce only with a qop
// (RFC 2617 §3.2.2: no cnonce without qop); opaque when set.
func (c *Credentials) String() string {
	var b strings.Builder
	b.Grow(len(c.Username) + len(c.Realm) + len(c.Nonce) + len(c.URI) + len(c.Response) + len(c.Algorithm) +
		len(c.QOP) + len(c.NC) + len(c.CNonce) + len(c.Opaque) + credentialsText)
	b.WriteString(`Digest username=`)
	writeQuoted(&b, c.Username)
	b.WriteString(`, realm=`)
	writeQuoted(&b, c.Realm)
	b.WriteString(`, nonce=`)
	writeQuoted(&b, c.Nonce)
	b.WriteString(`, uri=`)
	writeQuoted(&b, c.URI)
	b.WriteString(`, response=`)
	writeQuoted(&b, c.Response)
	if c.Algorithm != "" {
		b.WriteString(`, algorithm=`)
		b.WriteString(c.Algorithm)
	}
	if c.QOP != "" {
		b.WriteString(`, qop=`)
		b.WriteString(c.QOP)
		b.WriteString(`, nc=`)
		b.WriteString(c.NC)
		b.WriteString(`, cnonce=`)
		writeQuoted(&b, c.CNonce)
	}
	if c.Opaque != "" {
		b.WriteString(`, opaque=`)
		writeQuoted(&b, c.Opaque)
	}
	return b.String()
}

// credentialsText and challengeText are the lengths of the fixed text of
// a formatted value with every parameter present, so that one allocation
// holds it unless a quoted value needs escapes.
var (
	credentialsText = len(`Digest username="", realm="", nonce="", uri="", response="", algorithm=, qop=, nc=, cnonce="", opaque=""`)
	challengeText   = len(`Digest realm="", nonce="", opaque="", algorithm=, qop="", stale=true`)
)

// Challenge is the value of a WWW-Authenticate (401) or
// Proxy-Authenticate (407) header (RFC 7616 §3.3, RFC 3261 §22.4).
type Challenge struct {
	Realm  string
	Nonce  string
	Opaque string
	// Algorithm is as written; ParseChallenge sets "MD5" when absent.
	Algorithm string
	// QOP lists the offered qop values; empty for an RFC 2069 challenge.
	QOP   []string
	Stale bool
}

// ParseChallenge parses a Digest challenge header value. Its strings
// point into v unless a quoted value holds an escape; QOP is a new slice.
func ParseChallenge(v string) (Challenge, error) {
	rest, ok := cutScheme(v)
	if !ok {
		scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		return Challenge{}, fmt.Errorf("challenge scheme %q: only Digest is supported", scheme)
	}
	ch := Challenge{Algorithm: "MD5"}
	p := params{rest: rest}
	for {
		name, val, more := p.next()
		if !more {
			break
		}
		ch.set(name, val)
	}
	if p.bad != nil {
		return Challenge{}, fmt.Errorf("digest challenge: %w", p.err())
	}
	if ch.Nonce == "" {
		return Challenge{}, errors.New("digest challenge without nonce")
	}
	return ch, nil
}

func (ch *Challenge) set(name, val string) {
	switch strings.ToLower(name) {
	case "realm":
		ch.Realm = val
	case "nonce":
		ch.Nonce = val
	case "opaque":
		ch.Opaque = val
	case "algorithm":
		ch.Algorithm = val
	case "qop":
		for q := range strings.SplitSeq(val, ",") {
			if q = strings.TrimSpace(q); q != "" {
				ch.QOP = append(ch.QOP, q)
			}
		}
	case "stale":
		ch.Stale = strings.EqualFold(val, "true")
	}
}

// String formats ch as a header value: realm, nonce, opaque (when set),
// algorithm (when set), qop (when offered) and stale=true (when stale).
func (ch *Challenge) String() string {
	var b strings.Builder
	n := len(ch.Realm) + len(ch.Nonce) + len(ch.Opaque) + len(ch.Algorithm) + challengeText
	for _, q := range ch.QOP {
		n += len(q) + 1
	}
	b.Grow(n)
	b.WriteString(`Digest realm=`)
	writeQuoted(&b, ch.Realm)
	b.WriteString(`, nonce=`)
	writeQuoted(&b, ch.Nonce)
	if ch.Opaque != "" {
		b.WriteString(`, opaque=`)
		writeQuoted(&b, ch.Opaque)
	}
	if ch.Algorithm != "" {
		b.WriteString(`, algorithm=`)
		b.WriteString(ch.Algorithm)
	}
	if len(ch.QOP) > 0 {
		b.WriteString(`, qop="`)
		for i, q := range ch.QOP {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(q)
		}
		b.WriteByte('"')
	}
	if ch.Stale {
		b.WriteString(`, stale=true`)
	}
	return b.String()
}

// cutScheme returns what follows the Digest scheme of a header value.
func cutScheme(h string) (rest string, ok bool) {
	h = strings.TrimSpace(h)
	if len(h) < 6 || !strings.EqualFold(h[:6], "digest") {
		return "", false
	}
	if len(h) == 6 {
		return "", true
	}
	if h[6] != ' ' && h[6] != '\t' {
		return "", false
	}
	return h[7:], true
}

// params walks the comma-separated name=value pairs of a header value
// (RFC 7235 §2.1 auth-params) without copying them.
type params struct {
	rest string
	// bad is what was malformed (nil while the pairs are well formed) and
	// at the text from there on; err words them only when asked, so that
	// a malformed header costs the request path no allocation.
	bad error
	at  string
}

var (
	errNoValue      = errors.New("without value")
	errUnterminated = errors.New("unterminated quoted string")
)

// err describes what was malformed.
func (p *params) err() error {
	if p.bad == errNoValue {
		return fmt.Errorf("parameter %q %w", p.at, p.bad)
	}
	return fmt.Errorf("parameter %s: %w", p.at, p.bad)
}

// next returns the next pair; more is false at the end of the value and at
// a malformed pair (then p.bad says why).
func (p *params) next() (name, val string, more bool) {
	rest := strings.TrimLeft(p.rest, " \t,")
	if rest == "" {
		return "", "", false
	}
	eq := strings.IndexByte(rest, '=')
	if eq <= 0 {
		p.bad, p.at = errNoValue, rest
		return "", "", false
	}
	name = strings.TrimSpace(rest[:eq])
	val, p.rest, more = paramValue(strings.TrimLeft(rest[eq+1:], " \t"))
	if !more {
		p.bad, p.at = errUnterminated, name
	}
	return name, val, more
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

// writeQuoted writes s as a quoted string, escaping quotes and
// backslashes (RFC 3261 §25.1).
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	if !strings.ContainsAny(s, `"\`) {
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// Header names (RFC 3261 §22): a 401 carries WWW-Authenticate and is
// answered with Authorization, a 407 Proxy-Authenticate and
// Proxy-Authorization.
const (
	HeaderWWWAuthenticate    = "WWW-Authenticate"
	HeaderProxyAuthenticate  = "Proxy-Authenticate"
	HeaderAuthorization      = "Authorization"
	HeaderProxyAuthorization = "Proxy-Authorization"
)

// ChallengeHeader names the header a challenge of the given status comes
// in: WWW-Authenticate for 401, Proxy-Authenticate for 407.
func ChallengeHeader(status int) string {
	if status == 407 {
		return HeaderProxyAuthenticate
	}
	return HeaderWWWAuthenticate
}

// AuthorizationHeader names the header that answers a challenge of the
// given status: Authorization for 401, Proxy-Authorization for 407.
func AuthorizationHeader(status int) string {
	if status == 407 {
		return HeaderProxyAuthorization
	}
	return HeaderAuthorization
}
