package auth

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/digest"
)

// Challenge headers: a REGISTER is challenged by the registrar with 401 and
// WWW-Authenticate, any other request by the proxy with 407 and
// Proxy-Authenticate (RFC 3261 §22.2, §22.3).
const (
	HeaderWWW   = "WWW-Authenticate"
	HeaderProxy = "Proxy-Authenticate"
)

// ChallengeStatus returns the status, reason and header name of a challenge
// for method.
func ChallengeStatus(method string) (status int, reason, header string) {
	if method == "REGISTER" {
		return 401, "Unauthorized", HeaderWWW
	}
	return 407, "Proxy Authentication Required", HeaderProxy
}

// CredentialsHeader returns the header that carries the answer to a
// challenge for method.
func CredentialsHeader(method string) string {
	if method == "REGISTER" {
		return "Authorization"
	}
	return "Proxy-Authorization"
}

// Challenge returns the values of the challenge header for a: one per
// algorithm the stage offers, with one fresh nonce bound to src; stale marks
// a nonce that expired under a right answer (RFC 3261 §22.4, RFC 7616
// §3.3). An unknown user and a wrong password get exactly this, too.
func (s *Service) Challenge(a *graph.Auth, src netip.Addr, stale bool) []string {
	nonce := s.nonces.Issue(a.Realm, src, s.now())
	algs := offered(a)
	out := make([]string, 0, len(algs))
	for _, alg := range algs {
		out = append(out, challengeValue(a.Realm, nonce, alg, stale))
	}
	return out
}

// qopAuth is the qop every challenge offers, shared so that building one
// allocates only its text.
var qopAuth = []string{"auth"}

// challengeValue formats one challenge header value: realm, nonce,
// algorithm, qop="auth" and, for a stale nonce, stale=true.
func challengeValue(realm, nonce string, alg digest.Algorithm, stale bool) string {
	ch := digest.Challenge{Realm: realm, Nonce: nonce, Algorithm: alg.String(), QOP: qopAuth, Stale: stale}
	return ch.String()
}

// offered lists the algorithms a's challenges offer, strongest first.
func offered(a *graph.Auth) []digest.Algorithm {
	if len(a.Algorithms) == 0 {
		return defaultAlgorithms
	}
	out := make([]digest.Algorithm, 0, len(a.Algorithms))
	for _, s := range a.Algorithms {
		if alg, ok := parseAlgorithm(s); ok {
			out = append(out, alg)
		}
	}
	return out
}

var defaultAlgorithms = []digest.Algorithm{digest.SHA256, digest.MD5}

// RetryAfter renders a Retry-After value in whole seconds (at least 1).
func RetryAfter(d time.Duration) string {
	return strconv.Itoa(max(int((d+time.Second-1)/time.Second), 1))
}

// uriMatches reports whether the digest uri names the request's R-URI
// (RFC 7616 §3.4.6): same scheme, user, host and port, parameters aside.
// The answer's hash covers the uri as the client wrote it, so the check
// compares meaning, not bytes.
func uriMatches(digestURI string, r graph.URI) bool {
	scheme, rest, ok := strings.Cut(digestURI, ":")
	if !ok || !strings.EqualFold(scheme, schemeOr(r.Scheme)) {
		return false
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	user, hostport := "", rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user, hostport = rest[:at], rest[at+1:]
		if c := strings.IndexByte(user, ':'); c >= 0 {
			user = user[:c] // user:password, deprecated but legal
		}
	}
	host, port := splitHostPort(hostport)
	return user == r.User && strings.EqualFold(strings.Trim(host, "[]"), strings.Trim(r.Host, "[]")) &&
		portOr(port, scheme) == portOr(r.Port, scheme)
}

func schemeOr(s string) string {
	if s == "" {
		return "sip"
	}
	return s
}

func splitHostPort(s string) (string, int) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.HasSuffix(s, "]") {
		return s, 0
	}
	p, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return s, -1
	}
	return s[:i], p
}

// portOr treats an absent port as the scheme's default.
func portOr(p int, scheme string) int {
	if p != 0 {
		return p
	}
	if strings.EqualFold(scheme, "sips") {
		return 5061
	}
	return 5060
}
