package auth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/digest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const realm = "example.com"

func testGraph() *graph.Graph {
	creds := &graph.Credentials{ID: "credentials.subs", Name: "subs", CacheTTL: time.Hour,
		Entries: map[string]string{
			"alice@example.com": digest.HA1(digest.MD5, "alice", realm, "secret"),
			"bob@example.com":   digest.HA1(digest.MD5, "bob", realm, "hunter2"),
		},
		EntriesSHA256: map[string]string{"alice@example.com": digest.HA1(digest.SHA256, "alice", realm, "secret")},
	}
	a := &graph.Auth{ID: "auth.endpoints", Name: "endpoints", Credentials: creds, Realm: realm,
		CheckFrom: true, NonceTTL: 5 * time.Minute, MaxFailures: 5, FailureWindow: time.Minute, Block: 15 * time.Minute}
	return &graph.Graph{Credentials: []*graph.Credentials{creds}, Auth: []*graph.Auth{a}}
}

func newTestService(t testing.TB) (*Service, *graph.Auth, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	s, err := NewService(Options{Secret: []byte("0123456789abcdef0123456789abcdef"), Now: c.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	g := testGraph()
	if err := s.Reload(g); err != nil {
		t.Fatal(err)
	}
	return s, g.Auth[0], c
}

// client answers challenges as a phone would.
type client struct {
	user, password string
	alg            digest.Algorithm
	nc             int
}

// answer returns the credentials header value for a request.
func (c *client) answer(nonce, method, uri string) string {
	c.nc++
	nc := fmt.Sprintf("%08x", c.nc)
	a := digest.Credentials{Username: c.user, Realm: realm, Nonce: nonce, URI: uri, NC: nc, CNonce: "c0ffee", QOP: "auth"}
	var dst [64]byte
	resp := digest.Response(&dst, c.alg, digest.HA1(c.alg, c.user, realm, c.password), method, &a)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, cnonce="c0ffee", qop=auth, nc=%s`,
		c.user, realm, nonce, uri, resp, c.alg, nc)
}

var phone = netip.MustParseAddr("203.0.113.50")

func request(method, ruriUser, fromUser, header string, src netip.Addr) *graph.Request {
	r := &graph.Request{Method: method, RURI: graph.URI{Scheme: "sip", User: ruriUser, Host: realm},
		From: graph.URI{Scheme: "sip", User: fromUser, Host: realm}, Source: graph.Source{IP: src, Port: 5060, Transport: "udp"}}
	if method == "REGISTER" {
		r.To = r.From // the address-of-record being registered
	}
	if header != "" {
		r.Headers = graph.HeaderList{{Name: CredentialsHeader(method), Value: header}}
	}
	return r
}

// nonceOf issues a challenge and returns its nonce (from the first value).
func nonceOf(t testing.TB, s *Service, a *graph.Auth, src netip.Addr) string {
	t.Helper()
	v := s.Challenge(a, src, false)
	if len(v) != 2 || !strings.Contains(v[0], "algorithm=SHA-256") || !strings.Contains(v[1], "algorithm=MD5") {
		t.Fatalf("challenge = %q, want SHA-256 then MD5", v)
	}
	_, rest, _ := strings.Cut(v[0], `nonce="`)
	nonce, _, _ := strings.Cut(rest, `"`)
	return nonce
}

func TestAuthenticate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cl      client
		method  string
		uri     string // the digest uri; the R-URI is sip:100@example.com
		from    string
		before  func(c *clock)
		want    graph.AuthOutcome
		reason  string
		counter func(s *Service) uint64
	}{
		{name: "md5 right", cl: client{user: "alice", password: "secret", alg: digest.MD5}, want: graph.AuthOK},
		{name: "sha-256 right", cl: client{user: "alice", password: "secret", alg: digest.SHA256}, want: graph.AuthOK},
		{name: "register", cl: client{user: "bob", password: "hunter2", alg: digest.MD5}, method: "REGISTER", from: "bob", want: graph.AuthOK},
		{name: "wrong password", cl: client{user: "alice", password: "guess", alg: digest.MD5}, want: graph.AuthChallenge, reason: "wrong credentials",
			counter: func(s *Service) uint64 { return s.Counters.Failures(FailWrongPassword) }},
		{name: "unknown user", cl: client{user: "mallory", password: "guess", alg: digest.MD5}, from: "mallory", want: graph.AuthChallenge, reason: "wrong credentials",
			counter: func(s *Service) uint64 { return s.Counters.Failures(FailUnknownUser) }},
		{name: "sha-256 without its HA1", cl: client{user: "bob", password: "hunter2", alg: digest.SHA256}, from: "bob", want: graph.AuthChallenge, reason: "wrong credentials"},
		{name: "uri of another request", cl: client{user: "alice", password: "secret", alg: digest.MD5}, uri: "sip:200@example.com", want: graph.AuthChallenge, reason: "uri_mismatch",
			counter: func(s *Service) uint64 { return s.Counters.Failures(FailURI) }},
		{name: "uri with params and default port", cl: client{user: "alice", password: "secret", alg: digest.MD5}, uri: "sip:100@EXAMPLE.com:5060;transport=udp", want: graph.AuthOK},
		{name: "stale nonce", cl: client{user: "alice", password: "secret", alg: digest.MD5}, before: func(c *clock) { c.add(6 * time.Minute) }, want: graph.AuthStale,
			counter: func(s *Service) uint64 { return s.Counters.Stale.Load() }},
		{name: "stale nonce, wrong password", cl: client{user: "alice", password: "guess", alg: digest.MD5}, before: func(c *clock) { c.add(6 * time.Minute) }, want: graph.AuthChallenge},
		{name: "from spoofing", cl: client{user: "alice", password: "secret", alg: digest.MD5}, from: "bob", want: graph.AuthForbidden,
			counter: func(s *Service) uint64 { return s.Counters.Forbidden.Load() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, a, c := newTestService(t)
			method, uri, from := cmpStr(tc.method, "INVITE"), cmpStr(tc.uri, "sip:100@example.com"), cmpStr(tc.from, "alice")
			nonce := nonceOf(t, s, a, phone)
			if tc.before != nil {
				tc.before(c)
			}
			v := s.Authenticate(a, request(method, "100", from, tc.cl.answer(nonce, method, uri), phone))
			if v.Outcome != tc.want || (tc.reason != "" && v.Reason != tc.reason) {
				t.Fatalf("verdict = %+v, want %s (%s)", v, tc.want, tc.reason)
			}
			if tc.want == graph.AuthOK && v.User != tc.cl.user {
				t.Errorf("user = %q", v.User)
			}
			if tc.counter != nil && tc.counter(s) != 1 {
				t.Errorf("counter = %d, want 1", tc.counter(s))
			}
		})
	}
}

func cmpStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestNoCredentialsIsChallenged(t *testing.T) {
	s, a, _ := newTestService(t)
	v := s.Authenticate(a, request("REGISTER", "", "nobody", "", phone))
	if v.Outcome != graph.AuthChallenge || s.Counters.Challenges.Load() != 1 {
		t.Fatalf("verdict = %+v", v)
	}
	if th := s.Throttle(a.ID); th.Len() != 0 {
		t.Error("a request without credentials counts as a failure")
	}
}

// TestRegisterOtherAOR: an authenticated user may not register another
// address-of-record (To) even with its own From.
func TestRegisterOtherAOR(t *testing.T) {
	s, a, _ := newTestService(t)
	cl := client{user: "alice", password: "secret", alg: digest.MD5}
	nonce := nonceOf(t, s, a, phone)
	r := request("REGISTER", "", "alice", cl.answer(nonce, "REGISTER", "sip:example.com"), phone)
	r.To = graph.URI{Scheme: "sip", User: "bob", Host: realm}
	if v := s.Authenticate(a, r); v.Outcome != graph.AuthForbidden {
		t.Fatalf("alice registering bob: %+v, want forbidden", v)
	}
}

func TestReplayedNC(t *testing.T) {
	s, a, _ := newTestService(t)
	cl := client{user: "alice", password: "secret", alg: digest.MD5}
	nonce := nonceOf(t, s, a, phone)
	first := cl.answer(nonce, "INVITE", "sip:100@example.com")
	if v := s.Authenticate(a, request("INVITE", "100", "alice", first, phone)); v.Outcome != graph.AuthOK {
		t.Fatalf("first use: %+v", v)
	}
	if v := s.Authenticate(a, request("INVITE", "100", "alice", first, phone)); v.Outcome != graph.AuthChallenge || v.Reason != "replayed_nc" {
		t.Fatalf("replay: %+v", v)
	}
	// The next nc on the same nonce is fine, and a late lower one too.
	cl.nc = 5
	if v := s.Authenticate(a, request("INVITE", "100", "alice", cl.answer(nonce, "INVITE", "sip:100@example.com"), phone)); v.Outcome != graph.AuthOK {
		t.Fatalf("nc 6: %+v", v)
	}
	cl.nc = 2
	if v := s.Authenticate(a, request("INVITE", "100", "alice", cl.answer(nonce, "INVITE", "sip:100@example.com"), phone)); v.Outcome != graph.AuthOK {
		t.Fatalf("late nc 3: %+v", v)
	}
}

// TestReplayDoesNotBlock: a right answer sent again (a retransmission
// after the proxy's transaction linger, or a replay) is challenged but
// does not count toward the brute-force block: the user's next answer
// still passes.
func TestReplayDoesNotBlock(t *testing.T) {
	s, a, _ := newTestService(t)
	a.MaxFailures = 2
	if err := s.Reload(&graph.Graph{Credentials: []*graph.Credentials{a.Credentials}, Auth: []*graph.Auth{a}}); err != nil {
		t.Fatal(err)
	}
	cl := client{user: "alice", password: "secret", alg: digest.MD5}
	nonce := nonceOf(t, s, a, phone)
	first := cl.answer(nonce, "INVITE", "sip:100@example.com")
	for i := range 6 {
		v := s.Authenticate(a, request("INVITE", "100", "alice", first, phone))
		if want := map[bool]graph.AuthOutcome{true: graph.AuthOK, false: graph.AuthChallenge}[i == 0]; v.Outcome != want {
			t.Fatalf("use %d: %+v", i+1, v)
		}
	}
	cl.nc = 10
	if v := s.Authenticate(a, request("INVITE", "100", "alice", cl.answer(nonce, "INVITE", "sip:100@example.com"), phone)); v.Outcome != graph.AuthOK {
		t.Fatalf("the next answer after five replays: %+v (replays counted toward a block)", v)
	}
}

func TestNonceBoundToSource(t *testing.T) {
	s, a, _ := newTestService(t)
	cl := client{user: "alice", password: "secret", alg: digest.MD5}
	nonce := nonceOf(t, s, a, phone)
	other := netip.MustParseAddr("2001:db8::7")
	v := s.Authenticate(a, request("INVITE", "100", "alice", cl.answer(nonce, "INVITE", "sip:100@example.com"), other))
	if v.Outcome != graph.AuthChallenge || v.Reason != "bad_nonce" {
		t.Fatalf("nonce from another source: %+v", v)
	}
	// A peer proxy with the same secret accepts the nonce.
	peer, err := NewService(Options{Secret: []byte("0123456789abcdef0123456789abcdef"), Now: s.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.Reload(testGraph()); err != nil {
		t.Fatal(err)
	}
	if v := peer.Authenticate(a, request("INVITE", "100", "alice", cl.answer(nonce, "INVITE", "sip:100@example.com"), phone)); v.Outcome != graph.AuthOK {
		t.Fatalf("peer proxy: %+v", v)
	}
}

// TestEnumerationProof: an unknown user and a wrong password get the same
// verdict and challenges of the same shape.
func TestEnumerationProof(t *testing.T) {
	s, a, _ := newTestService(t)
	var verdicts []graph.AuthVerdict
	for _, cl := range []client{{user: "alice", password: "guess", alg: digest.MD5}, {user: "mallory", password: "guess", alg: digest.MD5}} {
		nonce := nonceOf(t, s, a, phone)
		verdicts = append(verdicts, s.Authenticate(a, request("INVITE", "100", cl.user, cl.answer(nonce, "INVITE", "sip:100@example.com"), phone)))
	}
	if verdicts[0] != verdicts[1] {
		t.Fatalf("wrong password %+v, unknown user %+v", verdicts[0], verdicts[1])
	}
	c1, c2 := s.Challenge(a, phone, false), s.Challenge(a, phone, false)
	for i := range c1 {
		if len(c1[i]) != len(c2[i]) || c1[i] == c2[i] {
			t.Errorf("challenges %q and %q: want the same shape with fresh nonces", c1[i], c2[i])
		}
	}
}

func TestThrottle(t *testing.T) {
	s, a, c := newTestService(t)
	wrong := client{user: "alice", password: "guess", alg: digest.MD5}
	try := func(cl *client, src netip.Addr) graph.AuthVerdict {
		nonce := nonceOf(t, s, a, src)
		return s.Authenticate(a, request("INVITE", "100", cl.user, cl.answer(nonce, "INVITE", "sip:100@example.com"), src))
	}
	for i := 0; i < a.MaxFailures; i++ {
		if v := try(&wrong, phone); v.Outcome != graph.AuthChallenge {
			t.Fatalf("failure %d: %+v", i+1, v)
		}
	}
	// Over the limit: even the right password is refused without a lookup.
	right := client{user: "bob", password: "hunter2", alg: digest.MD5}
	if v := try(&right, phone); v.Outcome != graph.AuthThrottled || v.Reason != "source blocked" {
		t.Fatalf("after %d failures: %+v", a.MaxFailures, v)
	}
	// alice is blocked as a user, from anywhere.
	elsewhere := netip.MustParseAddr("198.51.100.99")
	alice := client{user: "alice", password: "secret", alg: digest.MD5}
	if v := try(&alice, elsewhere); v.Outcome != graph.AuthThrottled || v.Reason != "user blocked" {
		t.Fatalf("user block: %+v", v)
	}
	list := s.Throttle(a.ID).List(c.now())
	if len(list) != 2 || list[0].BlockedUntil.IsZero() || list[1].BlockedUntil.IsZero() {
		t.Fatalf("list = %+v", list)
	}
	if s.Counters.Blocks.Load() != 2 {
		t.Errorf("blocks = %d, want 2", s.Counters.Blocks.Load())
	}
	// The block ends by itself, and the failures that caused it end with
	// it: one more failure does not block again.
	c.add(a.Block + time.Second)
	if srcB, _ := s.Throttle(a.ID).Fail(netip.MustParseAddr("192.0.2.200"), "", c.now()); srcB {
		t.Fatal("a first failure blocked")
	}
	if v := try(&right, phone); v.Outcome != graph.AuthOK {
		t.Fatalf("after the block: %+v", v)
	}
	// ctl clears an entry.
	for i := 0; i < a.MaxFailures; i++ {
		try(&wrong, phone)
	}
	if !s.Throttle(a.ID).Clear(phone.String()) || !s.Throttle(a.ID).Clear("alice") {
		t.Fatal("clear found nothing")
	}
	if v := try(&alice, phone); v.Outcome != graph.AuthOK {
		t.Fatalf("after clear: %+v", v)
	}
}

func TestThrottleWindowSlides(t *testing.T) {
	s, a, c := newTestService(t)
	th := s.Throttle(a.ID)
	// Failures spread wider than the window never block.
	for i := 0; i < 3*a.MaxFailures; i++ {
		if srcB, _ := th.Fail(phone, "", c.now()); srcB {
			t.Fatalf("blocked at failure %d spaced by window/%d", i+1, a.MaxFailures-1)
		}
		c.add(a.FailureWindow/time.Duration(a.MaxFailures-1) + time.Second)
	}
	// The same number of failures within one window blocks at the last.
	c.add(a.FailureWindow)
	for i := 1; i <= a.MaxFailures; i++ {
		srcB, _ := th.Fail(phone, "", c.now())
		if srcB != (i == a.MaxFailures) {
			t.Fatalf("failure %d: blocked = %v", i, srcB)
		}
	}
}

func TestThrottleBoundedMemory(t *testing.T) {
	th := NewThrottle(ThrottleSettings{MaxFailures: 3, Window: time.Minute, Block: time.Hour}, 1024)
	now := time.Now()
	blocked := netip.MustParseAddr("192.0.2.1")
	for i := 0; i < 3; i++ {
		th.Fail(blocked, "", now)
	}
	for i := 0; i < 100_000; i++ {
		th.Fail(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), "", now)
	}
	if n := th.Len(); n > 1024+limiterShards {
		t.Errorf("tracks %d keys, capacity 1024", n)
	}
	if _, b := th.Blocked(blocked, "", now); !b {
		t.Error("a flood of new sources evicted a blocked one")
	}
}

func TestReplayBoundedMemory(t *testing.T) {
	s, a, c := newTestService(t)
	s.replay.Store(NewReplay(replayShards * 16))
	cl := client{user: "alice", password: "secret", alg: digest.MD5}
	first := nonceOf(t, s, a, phone)
	if v := s.Authenticate(a, request("INVITE", "100", "alice", cl.answer(first, "INVITE", "sip:100@example.com"), phone)); v.Outcome != graph.AuthOK {
		t.Fatal(v)
	}
	for i := 0; i < 5000; i++ {
		c.add(time.Millisecond)
		n := nonceOf(t, s, a, phone)
		other := client{user: "alice", password: "secret", alg: digest.MD5}
		s.Authenticate(a, request("INVITE", "100", "alice", other.answer(n, "INVITE", "sip:100@example.com"), phone))
	}
	if n := s.replay.Load().Len(); n > replayShards*16 {
		t.Errorf("tracks %d nonces, capacity %d", n, replayShards*16)
	}
	// The first nonce was forgotten: reusing it is stale, never a replay
	// that passes.
	cl.nc = 0
	if v := s.Authenticate(a, request("INVITE", "100", "alice", cl.answer(first, "INVITE", "sip:100@example.com"), phone)); v.Outcome != graph.AuthStale {
		t.Fatalf("forgotten nonce: %+v", v)
	}
}

func TestThrottleStartsAfreshAfterBlock(t *testing.T) {
	th := NewThrottle(ThrottleSettings{MaxFailures: 3, Window: time.Hour, Block: time.Minute}, 1024)
	now := time.Now()
	for i := 1; i <= 3; i++ {
		if b, _ := th.Fail(phone, "", now); b != (i == 3) {
			t.Fatalf("failure %d: blocked %v", i, b)
		}
	}
	now = now.Add(time.Minute + time.Second)
	if _, b := th.Blocked(phone, "", now); b {
		t.Fatal("still blocked after the block")
	}
	if b, _ := th.Fail(phone, "", now); b {
		t.Fatal("one failure after the block blocked again, within a window that still holds the old ones")
	}
}

// TestReloadKeepsState: a reload keeps each stage's throttle table (and
// applies new limits) and rebuilds file stores from the new graph.
func TestReloadKeepsState(t *testing.T) {
	s, a, c := newTestService(t)
	th := s.Throttle(a.ID)
	th.Fail(phone, "", c.now())
	g := testGraph()
	g.Auth[0].MaxFailures = 2
	g.Credentials[0].Entries["carol@example.com"] = digest.HA1(digest.MD5, "carol", realm, "pw")
	if err := s.Reload(g); err != nil {
		t.Fatal(err)
	}
	if s.Throttle(a.ID) != th || th.Settings().MaxFailures != 2 || len(th.List(c.now())) != 1 {
		t.Fatalf("throttle after reload: same %v, settings %+v, entries %v", s.Throttle(a.ID) == th, th.Settings(), th.List(c.now()))
	}
	cl := client{user: "carol", password: "pw", alg: digest.MD5}
	nonce := nonceOf(t, s, g.Auth[0], phone)
	if v := s.Authenticate(g.Auth[0], request("INVITE", "100", "carol", cl.answer(nonce, "INVITE", "sip:100@example.com"), phone)); v.Outcome != graph.AuthOK {
		t.Fatalf("user added by the reload: %+v", v)
	}
	if err := s.Reload(&graph.Graph{}); err != nil || s.Throttle(a.ID) != nil {
		t.Fatalf("a graph without the stage keeps its table: %v", err)
	}
}

// TestOnlyProvenFailuresCount: a failed answer counts against its source
// and user only when its nonce verified, which proves that the sender
// received our challenge at that address. Spoofed datagrams in the name of
// a victim (forged nonces, a nonce issued to another address, malformed
// answers, an unparsable header) never block the victim's address or user;
// the same failures with a verified nonce do.
func TestOnlyProvenFailuresCount(t *testing.T) {
	s, a, c := newTestService(t)
	th := s.Throttle(a.ID)
	elsewhere := netip.MustParseAddr("198.51.100.7")
	foreign := nonceOf(t, s, a, elsewhere) // the attacker's own nonce
	forged := strings.Repeat("ab", nonceHex/2)
	wrong := client{user: "alice", password: "guess", alg: digest.MD5}
	spoofed := []string{
		wrong.answer(forged, "INVITE", "sip:100@example.com"),
		wrong.answer(foreign, "INVITE", "sip:100@example.com"),
		wrong.answer("zz", "INVITE", "sip:100@example.com"),
		wrong.answer(forged, "INVITE", "sip:999@example.com"),                                                 // wrong uri
		strings.Replace(wrong.answer(forged, "INVITE", "sip:100@example.com"), "qop=auth", "qop=auth-int", 1), // malformed
		`Digest username=`, // unparsable
	}
	for i := 0; i < 3*a.MaxFailures; i++ {
		for _, h := range spoofed {
			if v := s.Authenticate(a, request("INVITE", "100", "alice", h, phone)); v.Outcome != graph.AuthChallenge {
				t.Fatalf("spoofed answer %q: %+v", h, v)
			}
		}
	}
	if n := th.Len(); n != 0 {
		t.Fatalf("spoofed answers were counted: %+v", th.List(c.now()))
	}
	alice := client{user: "alice", password: "secret", alg: digest.MD5}
	if v := s.Authenticate(a, request("INVITE", "100", "alice", alice.answer(nonceOf(t, s, a, phone), "INVITE", "sip:100@example.com"), phone)); v.Outcome != graph.AuthOK {
		t.Fatalf("the victim after the spoofed flood: %+v", v)
	}
	// With a verified nonce, a wrong uri or a malformed answer counts.
	for i := 1; i <= a.MaxFailures; i++ {
		n := nonceOf(t, s, a, phone)
		h := wrong.answer(n, "INVITE", "sip:999@example.com")
		if i%2 == 0 {
			h = strings.Replace(wrong.answer(n, "INVITE", "sip:100@example.com"), "qop=auth", "qop=auth-int", 1)
		}
		s.Authenticate(a, request("INVITE", "100", "alice", h, phone))
	}
	if _, blocked := th.Blocked(phone, "", c.now()); !blocked {
		t.Fatalf("%d proven failures did not block: %+v", a.MaxFailures, th.List(c.now()))
	}
}

// countingStore is a Store that counts its lookups.
type countingStore struct {
	Store
	n atomic.Int64
}

func (c *countingStore) Lookup(ctx context.Context, user, domain string) (Credential, bool, error) {
	c.n.Add(1)
	return c.Store.Lookup(ctx, user, domain)
}

// TestBadNonceCostsNoLookup: an answer whose nonce does not verify is
// checked against the dummy HA1 without asking the store (random users
// with garbage nonces cost no query and evict nobody from the cache); a
// verified nonce, fresh or stale, costs one lookup.
func TestBadNonceCostsNoLookup(t *testing.T) {
	s, a, c := newTestService(t)
	cs := &countingStore{Store: (*s.stores.Load())[a.Credentials.ID]}
	s.stores.Store(&map[graph.ID]Store{a.Credentials.ID: cs})
	alice := client{user: "alice", password: "secret", alg: digest.MD5}
	forged := strings.Repeat("ab", nonceHex/2)
	for i, h := range []string{
		alice.answer(forged, "INVITE", "sip:100@example.com"),
		alice.answer(nonceOf(t, s, a, netip.MustParseAddr("198.51.100.7")), "INVITE", "sip:100@example.com"),
		(&client{user: "random1234", password: "x", alg: digest.MD5}).answer(forged, "INVITE", "sip:100@example.com"),
	} {
		if v := s.Authenticate(a, request("INVITE", "100", "alice", h, phone)); v.Outcome != graph.AuthChallenge || v.Reason != "bad_nonce" {
			t.Fatalf("answer %d: %+v", i, v)
		}
	}
	if n := cs.n.Load(); n != 0 {
		t.Fatalf("bad nonces cost %d lookups", n)
	}
	if v := s.Authenticate(a, request("INVITE", "100", "alice", alice.answer(nonceOf(t, s, a, phone), "INVITE", "sip:100@example.com"), phone)); v.Outcome != graph.AuthOK {
		t.Fatalf("right answer: %+v", v)
	}
	stale := nonceOf(t, s, a, phone)
	c.add(a.NonceTTL + time.Second)
	if v := s.Authenticate(a, request("INVITE", "100", "alice", alice.answer(stale, "INVITE", "sip:100@example.com"), phone)); v.Outcome != graph.AuthStale {
		t.Fatalf("stale nonce: %+v", v)
	}
	if n := cs.n.Load(); n != 2 {
		t.Errorf("verified nonces cost %d lookups, want 2", n)
	}
}

// TestCacheBounded: a flood of new users keeps the credentials cache
// within its capacity and drops expired and unknown users before live
// known ones.
func TestCacheBounded(t *testing.T) {
	const capacity = cacheShards * 16
	c := newCache(capacity)
	now := time.Now().UnixNano()
	known := userDomain{"alice", realm}
	c.put(known, cacheEntry{found: true, expires: now + int64(time.Hour)}, now)
	for i := 0; i < 100*capacity; i++ {
		c.put(userDomain{"stranger" + strconv.Itoa(i), realm}, cacheEntry{expires: now + int64(time.Minute)}, now)
	}
	if n := c.len(); n > capacity {
		t.Errorf("cache holds %d entries, capacity %d", n, capacity)
	}
	if e, ok := c.get(known); !ok || !e.found {
		t.Error("a flood of unknown users evicted a known one")
	}
}
