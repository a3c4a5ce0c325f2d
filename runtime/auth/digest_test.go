package auth

import (
	"testing"

	"github.com/sipfront/sipfront/runtime/digest"
)

// TestParseAlgorithm keeps the stage's policy: MD5 (also when absent) and
// SHA-256 are accepted, the -sess variants are not offered, so not
// accepted, though runtime/digest computes them.
func TestParseAlgorithm(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want digest.Algorithm
		ok   bool
	}{
		{"", digest.MD5, true}, {"md5", digest.MD5, true}, {"SHA-256", digest.SHA256, true},
		{"MD5-sess", 0, false}, {"SHA-256-sess", 0, false}, {"SHA-512-256", 0, false},
	} {
		if got, ok := parseAlgorithm(tc.in); ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseAlgorithm(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestChallengeValue pins the challenge text phones parse.
func TestChallengeValue(t *testing.T) {
	for _, tc := range []struct {
		alg   digest.Algorithm
		stale bool
		want  string
	}{
		{digest.SHA256, false, `Digest realm="example.com", nonce="n0nce", algorithm=SHA-256, qop="auth"`},
		{digest.MD5, true, `Digest realm="example.com", nonce="n0nce", algorithm=MD5, qop="auth", stale=true`},
	} {
		if got := challengeValue(realm, "n0nce", tc.alg, tc.stale); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}
