package auth

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// BenchmarkAuthenticate measures one digest verification through the
// service (parse, throttle check, nonce MAC, lookup, response hash, nc
// table) for MD5 and SHA-256, against the baseline of a request without
// credentials (which is challenged at once), in the same run. The
// iterations reuse one nonce with increasing nc, as a phone does.
func BenchmarkAuthenticate(b *testing.B) {
	for _, tc := range []struct {
		name string
		alg  Algorithm
		none bool
	}{{"baseline-no-credentials", MD5, true}, {"md5", MD5, false}, {"sha256", SHA256, false}} {
		b.Run(tc.name, func(b *testing.B) {
			s, a, _ := newTestService(b)
			cl := client{user: "alice", password: "secret", alg: tc.alg}
			nonce := nonceOf(b, s, a, phone)
			reqs := make([]*graph.Request, b.N)
			for i := range reqs {
				h := ""
				if !tc.none {
					h = cl.answer(nonce, "INVITE", "sip:100@example.com")
				}
				reqs[i] = request("INVITE", "100", "alice", h, phone)
			}
			want := graph.AuthOK
			if tc.none {
				want = graph.AuthChallenge
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if v := s.Authenticate(a, reqs[i]); v.Outcome != want {
					b.Fatalf("%+v", v)
				}
			}
		})
	}
}

// BenchmarkCacheHit measures a database store's lookup answered by its
// cache, against a file store's lookup (a plain map) in the same run.
func BenchmarkCacheHit(b *testing.B) {
	creds := &graph.Credentials{ID: "credentials.f", Entries: map[string]string{}}
	st := &PGStore{cache: newCache(cacheCapacity), ttl: time.Hour, now: time.Now}
	users := make([]string, 1000)
	for i := range users {
		users[i] = fmt.Sprintf("user%04d", i)
		creds.Entries[users[i]+"@"+realm] = HA1(MD5, users[i], realm, "pw")
		st.cache.put(userDomain{users[i], realm}, cacheEntry{cred: Credential{MD5: "x"}, found: true, expires: time.Now().Add(time.Hour).UnixNano()}, 0)
	}
	fs := NewFileStore(creds)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		store Store
	}{{"baseline-file", fs}, {"postgres-cache-hit", st}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, found, err := tc.store.Lookup(ctx, users[i%len(users)], realm); !found || err != nil {
					b.Fatal(found, err)
				}
			}
		})
	}
}
