package digest

import (
	"strings"
	"testing"
)

// BenchmarkAuthorization measures a client answering a challenge, as
// runtime/carrier does for a carrier's 401/407: parsing the challenge and
// building the credentials value, per algorithm.
func BenchmarkAuthorization(b *testing.B) {
	for _, alg := range []string{"MD5", "SHA-256"} {
		b.Run(alg, func(b *testing.B) {
			h := strings.Replace(rfc7616Challenge, "%s", alg, 1)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				ch, err := ParseChallenge(h)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Authorization(ch, Answer{Username: "trunk01", Password: "pw", Method: "INVITE",
					URI: "sip:+12125550100@gw.carrier.example", CNonce: "0a4f113b", NC: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify measures a server parsing and verifying an answer, as
// runtime/auth does on every authenticated request, per algorithm.
func BenchmarkVerify(b *testing.B) {
	for _, v := range vectors[1:3] {
		b.Run(v.name, func(b *testing.B) {
			alg, _ := ParseAlgorithm(strings.TrimPrefix(v.name, "RFC 7616 3.9.1 "))
			ha1 := HA1(alg, "Mufasa", "http-auth@example.org", v.password)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c, ok := ParseCredentials(v.header)
				if !ok || !Verify(alg, ha1, v.method, &c) {
					b.Fatal("does not verify")
				}
			}
		})
	}
}
