package graph

import (
	"net/netip"
	"testing"
	"time"
)

// fixedVerdict is an Authenticator that answers one verdict: the mapping
// from verdict to decision is under test here; runtime/auth tests the
// verdicts themselves.
type fixedVerdict AuthVerdict

func (f fixedVerdict) Authenticate(*Auth, *Request) AuthVerdict { return AuthVerdict(f) }

func TestDecideAuthVerdicts(t *testing.T) {
	pool := &Pool{ID: "pool.p", Name: "p", Balance: BalanceRoundRobin, Members: []*Member{{ID: "pool.p.member.m", Name: "m", Host: "10.0.0.1", Port: 5060}}}
	trusted := &Trusted{ID: "trusted.pbx", Name: "pbx", Sources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}
	a := &Auth{ID: "auth.endpoints", Name: "endpoints", Realm: "example.com", Trust: []*Trusted{trusted}}
	g := &Graph{Trusted: []*Trusted{trusted}, Auth: []*Auth{a}, Pools: []*Pool{pool},
		Routes: []*Route{{ID: "route.default", Target: TargetPool, Pool: pool}}}
	if err := g.Seal(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		v      AuthVerdict
		source string
		action Action
		status int
		user   string
	}{
		{"ok", AuthVerdict{Outcome: AuthOK, User: "alice"}, "203.0.113.5", ActionRelay, 0, "alice"},
		{"challenge", AuthVerdict{Outcome: AuthChallenge, Reason: "no credentials"}, "203.0.113.5", ActionChallenge, 0, ""},
		{"stale", AuthVerdict{Outcome: AuthStale}, "203.0.113.5", ActionChallenge, 0, ""},
		{"forbidden", AuthVerdict{Outcome: AuthForbidden, User: "alice", Reason: "From is not the authenticated identity"}, "203.0.113.5", ActionReply, 403, ""},
		{"throttled", AuthVerdict{Outcome: AuthThrottled, Reason: "source blocked"}, "203.0.113.5", ActionReply, 403, ""},
		{"throttled silently", AuthVerdict{Outcome: AuthThrottled, Silent: true}, "203.0.113.5", ActionDrop, 0, ""},
		{"unavailable", AuthVerdict{Outcome: AuthUnavailable, RetryAfter: 5 * time.Second}, "203.0.113.5", ActionReply, 503, ""},
		{"trusted source is never asked", AuthVerdict{Outcome: AuthChallenge}, "10.0.0.7", ActionRelay, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, _ := ParseSource(tc.source)
			req := Request{Method: "INVITE", RURI: URI{Scheme: "sip", User: "100", Host: "example.com"}, Source: src}
			st := StateOf(StaticState{}, fixedVerdict(tc.v), StaticState{}, StaticState{})
			var tr Trace
			d := g.Decide(&req, st, &tr)
			if d.Action != tc.action || d.Status != tc.status || d.AuthUser != tc.user || d.Auth != a {
				t.Fatalf("decision %v %d user %q auth %v, want %v %d user %q", d.Action, d.Status, d.AuthUser, d.Auth, tc.action, tc.status, tc.user)
			}
			if req.AuthUser != tc.user {
				t.Errorf("auth_user for the routes = %q, want %q", req.AuthUser, tc.user)
			}
			trustedSrc := tc.source == "10.0.0.7"
			if (d.AuthTrusted != nil) != trustedSrc || (!trustedSrc && d.AuthVerdict != tc.v) {
				t.Errorf("trusted %v, verdict %+v", d.AuthTrusted, d.AuthVerdict)
			}
			if len(tr.Steps) < 2 || tr.Steps[1].Note == "" {
				t.Errorf("the trace explains nothing: %+v", tr.Steps)
			}
		})
	}
}
