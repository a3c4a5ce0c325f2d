package auth

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/digest"
)

// BenchmarkAuthenticate measures one digest verification through the
// service (parse, throttle check, nonce MAC, lookup, response hash, nc
// table) for MD5 and SHA-256, against the baseline of a request without
// credentials (which is challenged at once), in the same run. The
// iterations reuse one nonce with increasing nc, as a phone does.
func BenchmarkAuthenticate(b *testing.B) {
	for _, tc := range []struct {
		name, user, password string
		alg                  digest.Algorithm
		none                 bool
	}{
		{"baseline-no-credentials", "alice", "secret", digest.MD5, true},
		{"md5", "alice", "secret", digest.MD5, false},
		{"sha256", "alice", "secret", digest.SHA256, false},
		// An unknown user must cost what a wrong password costs.
		{"md5-wrong-password", "alice", "guess", digest.MD5, false},
		{"md5-unknown-user", "mallory", "guess", digest.MD5, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, a, _ := newTestService(b)
			a.MaxFailures = 0 // measure the verification, not the throttle's block
			if err := s.Reload(&graph.Graph{Credentials: []*graph.Credentials{a.Credentials}, Auth: []*graph.Auth{a}}); err != nil {
				b.Fatal(err)
			}
			cl := client{user: tc.user, password: tc.password, alg: tc.alg}
			nonce := nonceOf(b, s, a, phone)
			reqs := make([]*graph.Request, b.N)
			for i := range reqs {
				h := ""
				if !tc.none {
					h = cl.answer(nonce, "INVITE", "sip:100@example.com")
				}
				reqs[i] = request("INVITE", "100", tc.user, h, phone)
			}
			want := graph.AuthOK
			if tc.none || tc.password != "secret" {
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
	st := &PGStore{cache: newCache(cacheCapacity), now: time.Now}
	st.ttl.Store(int64(time.Hour))
	users := make([]string, 1000)
	for i := range users {
		users[i] = fmt.Sprintf("user%04d", i)
		creds.Entries[users[i]+"@"+realm] = digest.HA1(digest.MD5, users[i], realm, "pw")
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

// BenchmarkFullTables measures adding a new key to a full credentials
// cache and a full throttle table (every key a stranger's: the flood that
// fills them), against updating a key already there (the baseline), in
// the same run. Adding must cost about what updating costs: no scan of a
// shard under its lock.
func BenchmarkFullTables(b *testing.B) {
	const capacity, filled = 1 << 15, 1<<15 + 1<<12 // 1,024 keys a shard
	now := time.Now()
	live := cacheEntry{found: true, expires: now.Add(time.Hour).UnixNano()}
	fill := func(c *cache) {
		for i := 0; i < filled; i++ {
			c.put(userDomain{"u" + strconv.Itoa(i), realm}, live, now.UnixNano())
		}
	}
	strangers := make([]userDomain, 1<<16)
	for i := range strangers {
		strangers[i] = userDomain{"s" + strconv.Itoa(i), realm}
	}
	b.Run("cache-baseline-update", func(b *testing.B) {
		c := newCache(capacity)
		fill(c)
		b.ResetTimer()
		k := userDomain{"u" + strconv.Itoa(filled-1), realm}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c.put(k, live, now.UnixNano())
		}
	})
	b.Run("cache-new-key-full", func(b *testing.B) {
		c := newCache(capacity)
		fill(c)
		b.ResetTimer()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c.put(strangers[i%len(strangers)], live, now.UnixNano())
		}
	})
	set := ThrottleSettings{MaxFailures: 5, Window: time.Minute, Block: time.Hour}
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	fillThrottle := func() *Throttle {
		th := NewThrottle(set, capacity)
		for i := 0; i < filled; i++ {
			th.Fail(addr(i), "", now)
		}
		return th
	}
	b.Run("throttle-baseline-update", func(b *testing.B) {
		th := fillThrottle()
		b.ResetTimer()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			th.Fail(addr(filled-1), "", now)
		}
	})
	b.Run("throttle-new-key-full", func(b *testing.B) {
		th := fillThrottle()
		b.ResetTimer()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			th.Fail(netip.AddrFrom4([4]byte{172, byte(i >> 16), byte(i >> 8), byte(i)}), "", now)
		}
	})
}

// TestAuthenticateAllocatesNothing: verifying a good answer allocates
// nothing, with the default algorithms and with a stage that lists its own
// (which once built a slice per request).
func TestAuthenticateAllocatesNothing(t *testing.T) {
	for _, algs := range [][]string{nil, {"SHA-256", "MD5"}} {
		s, a, _ := newTestService(t)
		a.Algorithms = algs
		if err := s.Reload(&graph.Graph{Credentials: []*graph.Credentials{a.Credentials}, Auth: []*graph.Auth{a}}); err != nil {
			t.Fatal(err)
		}
		cl := client{user: "alice", password: "secret", alg: digest.MD5}
		nonce := nonceOf(t, s, a, phone)
		reqs := make([]*graph.Request, 110)
		for i := range reqs {
			reqs[i] = request("INVITE", "100", "alice", cl.answer(nonce, "INVITE", "sip:100@example.com"), phone)
		}
		i := 0
		allocs := testing.AllocsPerRun(100, func() {
			if v := s.Authenticate(a, reqs[i]); v.Outcome != graph.AuthOK {
				t.Fatalf("algorithms %v: %+v", algs, v)
			}
			i++
		})
		if allocs != 0 {
			t.Errorf("algorithms %v: %.1f allocations per verification, want 0", algs, allocs)
		}
	}
}
