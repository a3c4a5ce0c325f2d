package auth

import "testing"

// BenchmarkChallenge measures building a 407's challenge values (one fresh
// nonce, one value per offered algorithm), what every request without
// credentials costs.
func BenchmarkChallenge(b *testing.B) {
	s, a, _ := newTestService(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if v := s.Challenge(a, phone, false); len(v) != 2 {
			b.Fatal(v)
		}
	}
}
