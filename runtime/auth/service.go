package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/digest"
)

// FailReason is why an answer to a challenge failed; metrics count each.
// An unknown user and a wrong password are told apart here and nowhere
// else: the caller gets the same challenge for both.
type FailReason uint8

// Failure reasons.
const (
	FailMalformed FailReason = iota
	FailUnknownUser
	FailWrongPassword
	FailBadNonce
	FailReplay
	FailURI
	numFailReasons
)

var failNames = [numFailReasons]string{"malformed", "unknown_user", "wrong_password", "bad_nonce", "replayed_nc", "uri_mismatch"}

// String returns the reason as a metric label.
func (r FailReason) String() string { return failNames[r] }

// FailReasons lists every reason, for metrics.
func FailReasons() []FailReason {
	out := make([]FailReason, numFailReasons)
	for i := range out {
		out[i] = FailReason(i)
	}
	return out
}

// Counters are what the service did, for metrics and the admin API.
type Counters struct {
	// Challenges counts requests answered with a challenge (stale ones
	// included); Stale those with stale=true.
	Challenges, Stale atomic.Uint64
	// Successes counts verified answers; Forbidden answers refused for a
	// From of another identity; Throttled requests refused or dropped
	// because their source or user is blocked; Blocks the blocks started;
	// Unavailable the 503s of a credential store that could not answer.
	Successes, Forbidden, Throttled, Blocks, Unavailable atomic.Uint64
	failures                                             [numFailReasons]atomic.Uint64
}

// Failures returns the count of failed answers for r.
func (c *Counters) Failures(r FailReason) uint64 { return c.failures[r].Load() }

// Options tune a Service; the zero value is the production default.
type Options struct {
	// Secret keys the nonces; nil generates one (see SecretFromEnv).
	Secret []byte
	// Now replaces the clock in tests.
	Now func() time.Time
	// ReplayCapacity bounds the tracked nonces (default 65536);
	// ThrottleCapacity the tracked sources and users of each stage
	// (default 65536 each).
	ReplayCapacity, ThrottleCapacity int
	Logger                           *slog.Logger
}

// retryAfter is the Retry-After of a 503 while the credential database is
// down.
const retryAfter = 5 * time.Second

// Service authenticates requests for the auth stages of the current graph.
// It implements graph.Authenticator. Its state is keyed by graph IDs:
// throttle tables per auth stage, stores per credentials block. Reload
// moves it to a new graph.
type Service struct {
	nonces *Nonces
	// replay is allocated by the first Reload of a graph with an auth
	// stage (about 8 MB by default): a proxy without auth never pays for it.
	replay atomic.Pointer[Replay]
	now    func() time.Time
	log    *slog.Logger
	opts   Options
	// Counters are read by metrics.
	Counters Counters

	stores    atomic.Pointer[map[graph.ID]Store]
	throttles atomic.Pointer[map[graph.ID]*Throttle]
	// mu serialises Reload and Close; the request path never takes it.
	mu  sync.Mutex
	pgs map[graph.ID]pgEntry
	// dummy is verified against when the user is unknown, so that an
	// unknown user costs what a wrong password costs.
	dummy Credential
}

type pgEntry struct {
	store *PGStore
	conf  graph.Postgres
}

// NewService returns a service with no stages; Reload gives it a graph.
func NewService(o Options) (*Service, error) {
	if o.Secret == nil {
		secret, _, err := SecretFromEnv()
		if err != nil {
			return nil, err
		}
		o.Secret = secret
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Service{nonces: NewNonces(o.Secret),
		now: o.Now, log: o.Logger, opts: o, pgs: make(map[graph.ID]pgEntry)}
	s.dummy = Credential{MD5: digest.HA1(digest.MD5, "dummy", "dummy", string(o.Secret)), SHA256: digest.HA1(digest.SHA256, "dummy", "dummy", string(o.Secret))}
	empty := map[graph.ID]Store{}
	s.stores.Store(&empty)
	noThrottles := map[graph.ID]*Throttle{}
	s.throttles.Store(&noThrottles)
	return s, nil
}

func cmp(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

var _ graph.Authenticator = (*Service)(nil)

// Reload serves g: file stores are rebuilt from the graph, database stores
// are kept when their DSN, query and pool size did not change (their cache
// with them) and opened otherwise, throttle tables are kept per auth stage
// with the new limits. It does not touch the network.
func (s *Service) Reload(g *graph.Graph) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(g.Auth) > 0 && s.replay.Load() == nil {
		s.replay.Store(NewReplay(cmp(s.opts.ReplayCapacity, 1<<16)))
	}
	stores := make(map[graph.ID]Store, len(g.Credentials))
	pgs := make(map[graph.ID]pgEntry)
	var errs []error
	for _, c := range g.Credentials {
		if c.Postgres == nil {
			stores[c.ID] = NewFileStore(c)
			continue
		}
		if prev, ok := s.pgs[c.ID]; ok && prev.conf == *c.Postgres {
			prev.store.Configure(c)
			pgs[c.ID], stores[c.ID] = prev, prev.store
			continue
		}
		pg, err := OpenPostgres(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pgs[c.ID], stores[c.ID] = pgEntry{pg, *c.Postgres}, pg
	}
	if err := errors.Join(errs...); err != nil {
		for id, e := range pgs {
			if s.pgs[id].store != e.store {
				e.store.Close()
			}
		}
		return err
	}
	for id, e := range s.pgs {
		if pgs[id].store != e.store {
			e.store.Close()
		}
	}
	s.pgs = pgs
	s.stores.Store(&stores)
	old := *s.throttles.Load()
	throttles := make(map[graph.ID]*Throttle, len(g.Auth))
	for _, a := range g.Auth {
		set := ThrottleSettings{MaxFailures: a.MaxFailures, Window: a.FailureWindow, Block: a.Block}
		if t := old[a.ID]; t != nil {
			t.SetSettings(set)
			throttles[a.ID] = t
			continue
		}
		throttles[a.ID] = NewThrottle(set, cmp(s.opts.ThrottleCapacity, 1<<16))
	}
	s.throttles.Store(&throttles)
	return nil
}

// Ping checks every database store and returns one error per store that
// does not answer, for serve's start-up log.
func (s *Service) Ping(ctx context.Context) map[graph.ID]error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[graph.ID]error)
	for id, e := range s.pgs {
		if err := e.store.Ping(ctx); err != nil {
			out[id] = err
		}
	}
	return out
}

// PostgresStores returns the database stores by credentials ID, for
// metrics.
func (s *Service) PostgresStores() map[graph.ID]*PGStore {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[graph.ID]*PGStore, len(s.pgs))
	for id, e := range s.pgs {
		out[id] = e.store
	}
	return out
}

// Throttle returns the throttle table of an auth stage, nil when the graph
// has no such stage.
func (s *Service) Throttle(id graph.ID) *Throttle { return (*s.throttles.Load())[id] }

// Throttles returns every stage's throttle table by auth ID.
func (s *Service) Throttles() map[graph.ID]*Throttle { return *s.throttles.Load() }

// Close closes the database pools.
func (s *Service) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.pgs {
		e.store.Close()
	}
	s.pgs = map[graph.ID]pgEntry{}
}

// Authenticate implements graph.Authenticator. A blocked source (or user,
// when the request names one) is refused before anything else, without a
// lookup.
func (s *Service) Authenticate(a *graph.Auth, req *graph.Request) graph.AuthVerdict {
	var h string
	var present bool
	if req.Headers != nil {
		h, present = req.Headers.Header(CredentialsHeader(req.Method))
	}
	var ans digest.Credentials
	ok := false
	if present {
		ans, ok = digest.ParseCredentials(h)
	}
	now := s.now()
	src := req.Source.IP
	th := s.Throttle(a.ID)
	if th != nil {
		if kind, blocked := th.Blocked(src, ans.Username, now); blocked {
			s.Counters.Throttled.Add(1)
			return graph.AuthVerdict{Outcome: graph.AuthThrottled, Reason: blockedReason[kind], Silent: a.BlockDrop}
		}
	}
	switch {
	case !present:
		return s.challenge("no credentials")
	case ok && ans.Realm != a.Realm:
		// Credentials for another realm (an upstream's): not ours to judge.
		return s.challenge("no credentials for this realm")
	case !ok:
		// No nonce to prove the sender's address: not counted.
		return s.fail(a, th, src, "", now, FailMalformed, false)
	}
	return s.verify(a, th, req, &ans, now)
}

// blockedReason is the verdict's reason per blocked kind, built once.
var blockedReason = map[string]string{"source": "source blocked", "user": "user blocked"}

// verify checks a parsed answer. The nonce is checked first: it is bound to
// the source address, so only a nonce that verifies proves that the sender
// received our challenge there. Only such an answer counts against the
// source and the user when it fails (a spoofed datagram cannot block
// anyone) and only such an answer costs a credential lookup (a forged one
// cannot fill the cache or load the database). Every failure of the answer
// itself (user, password, nonce) then does one response hash and gets the
// same challenge: an unknown user costs what a wrong password costs.
func (s *Service) verify(a *graph.Auth, th *Throttle, req *graph.Request, ans *digest.Credentials, now time.Time) graph.AuthVerdict {
	src := req.Source.IP
	key, issued, nst := s.nonces.Check(ans.Nonce, a.Realm, src, now, a.NonceTTL)
	counts := nst == nonceOK
	alg, algOK := parseAlgorithm(ans.Algorithm)
	nc, ncOK := parseNC(ans.NC)
	if !algOK || !ncOK || ans.QOP != "auth" || ans.CNonce == "" || !offers(a, alg) {
		return s.fail(a, th, src, ans.Username, now, FailMalformed, counts)
	}
	if !uriMatches(ans.URI, req.RURI) {
		return s.fail(a, th, src, ans.Username, now, FailURI, counts)
	}
	cred, found := s.dummy, false
	if nst != nonceBad {
		c, ok, err := s.lookup(a, ans.Username)
		if err != nil {
			s.Counters.Unavailable.Add(1)
			return graph.AuthVerdict{Outcome: graph.AuthUnavailable, Reason: "credential store unavailable", RetryAfter: retryAfter}
		}
		if ok {
			cred, found = c, true
		}
	}
	match := digest.Verify(alg, cred.ha1(alg), req.Method, ans)
	switch {
	case nst == nonceBad:
		return s.fail(a, th, src, ans.Username, now, FailBadNonce, false)
	case !match && !found:
		return s.fail(a, th, src, ans.Username, now, FailUnknownUser, counts)
	case !match:
		return s.fail(a, th, src, ans.Username, now, FailWrongPassword, counts)
	case nst == nonceStale:
		return s.stale()
	}
	replay := s.replay.Load()
	if replay == nil { // no graph with auth was loaded: nothing can be tracked
		return s.stale()
	}
	switch replay.Use(key, issued, nc, now, a.NonceTTL) {
	case replayRepeated:
		// The answer was right: a retransmission that outlived its
		// transaction, or a replay by someone who learnt nothing. Neither
		// is a guess, so it does not count toward a block.
		return s.fail(a, th, src, ans.Username, now, FailReplay, false)
	case replayUntracked:
		return s.stale()
	}
	if a.CheckFrom && !ownIdentity(req, ans.Username, a.Realm) {
		s.Counters.Forbidden.Add(1)
		return graph.AuthVerdict{Outcome: graph.AuthForbidden, User: ans.Username, Reason: "From is not the authenticated identity"}
	}
	s.Counters.Successes.Add(1)
	return graph.AuthVerdict{Outcome: graph.AuthOK, User: ans.Username}
}

// ownIdentity reports whether the request uses only user's identity: From,
// and for a REGISTER also To, the address-of-record being bound (as
// Kamailio's auth_check with its identity flag does), so that alice cannot
// register herself as bob.
func ownIdentity(req *graph.Request, user, realm string) bool {
	is := func(u graph.URI) bool { return u.User == user && strings.EqualFold(u.Host, realm) }
	return is(req.From) && (req.Method != "REGISTER" || is(req.To))
}

// offers reports whether stage a offers alg. It reads a.Algorithms in
// place rather than through offered, which builds a slice: this runs for
// every request with credentials.
func offers(a *graph.Auth, alg digest.Algorithm) bool {
	if len(a.Algorithms) == 0 {
		return slices.Contains(defaultAlgorithms, alg)
	}
	for _, s := range a.Algorithms {
		if o, ok := parseAlgorithm(s); ok && o == alg {
			return true
		}
	}
	return false
}

// lookup asks a's store; a stage without a store knows nobody.
func (s *Service) lookup(a *graph.Auth, user string) (Credential, bool, error) {
	if a.Credentials == nil {
		return Credential{}, false, nil
	}
	st := (*s.stores.Load())[a.Credentials.ID]
	if st == nil {
		return Credential{}, false, nil
	}
	return st.Lookup(context.Background(), user, a.Realm)
}

func (s *Service) challenge(reason string) graph.AuthVerdict {
	s.Counters.Challenges.Add(1)
	return graph.AuthVerdict{Outcome: graph.AuthChallenge, Reason: reason}
}

func (s *Service) stale() graph.AuthVerdict {
	s.Counters.Challenges.Add(1)
	s.Counters.Stale.Add(1)
	return graph.AuthVerdict{Outcome: graph.AuthStale, Reason: "nonce expired"}
}

// fail challenges a failed answer again and, when counts (its nonce
// verified: the sender is at src), counts it against its source and user;
// the reason stays in logs and metrics. A block that this failure starts
// is logged once.
func (s *Service) fail(a *graph.Auth, th *Throttle, src netip.Addr, user string, now time.Time, r FailReason, counts bool) graph.AuthVerdict {
	s.Counters.failures[r].Add(1)
	if th != nil && counts {
		srcBlocked, userBlocked := th.Fail(src, user, now)
		set := th.Settings()
		if srcBlocked {
			s.Counters.Blocks.Add(1)
			s.log.Warn("auth: source blocked after failed answers", "auth", a.ID, "source", src,
				"failures", set.MaxFailures, "window", set.Window, "block", set.Block)
		}
		if userBlocked {
			s.Counters.Blocks.Add(1)
			s.log.Warn("auth: user blocked after failed answers", "auth", a.ID, "user", user,
				"failures", set.MaxFailures, "window", set.Window, "block", set.Block)
		}
	}
	return s.challenge(publicReason(r))
}

// publicReason is the reason a verdict carries (explain, debug logs): the
// unknown user and the wrong password read the same.
func publicReason(r FailReason) string {
	switch r {
	case FailUnknownUser, FailWrongPassword:
		return "wrong credentials"
	}
	return r.String()
}
