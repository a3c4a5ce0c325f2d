package runtime

import (
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/auth"
	"github.com/sipfront/sipfront/runtime/intake"
)

// AuthService is the digest-auth part of the state that also builds the
// challenges and follows reloads: runtime/auth.Service. A Config.Auth that
// implements it makes the proxy serve auth and credentials blocks.
type AuthService interface {
	graph.Authenticator
	// Challenge returns the challenge header values for a request from src.
	Challenge(a *graph.Auth, src netip.Addr, stale bool) []string
	// Reload moves the service to a new graph (stores, throttle limits).
	Reload(g *graph.Graph) error
}

// authService returns Config.Auth as an AuthService, nil when it is not one.
func (s *Server) authService() AuthService {
	a, _ := s.cfg.Auth.(AuthService)
	return a
}

// WithAuth returns sv with the kinds an AuthService serves (auth and
// credentials blocks); New adds them when Config.Auth is one.
func (sv Served) WithAuth() Served {
	sv.Kinds[graph.KindAuth] = true
	sv.Kinds[graph.KindCredentials] = true
	return sv
}

// authReply answers a request that an auth stage stopped with a challenge
// (407 Proxy-Authenticate, 401 WWW-Authenticate for REGISTER, one header
// per offered algorithm) or with 503 and Retry-After when the credential
// store cannot answer. It reports whether it answered.
func (s *Server) authReply(req *sip.Request, tx sip.ServerTransaction, v *intake.View, d *graph.Decision) bool {
	svc := s.authService()
	if d.Auth == nil || svc == nil {
		return false
	}
	var res *sip.Response
	switch {
	case d.Action == graph.ActionChallenge:
		code, reason, name := auth.ChallengeStatus(string(req.Method))
		res = intake.NewResponse(req, code, reason)
		for _, val := range svc.Challenge(d.Auth, v.R.Source.IP, d.AuthVerdict.Outcome == graph.AuthStale) {
			res.AppendHeader(sip.NewHeader(name, val))
		}
	case d.AuthVerdict.Outcome == graph.AuthUnavailable && d.Action == graph.ActionReply:
		res = intake.NewResponse(req, d.Status, d.Reason)
		res.AppendHeader(sip.NewHeader("Retry-After", auth.RetryAfter(d.AuthVerdict.RetryAfter)))
	default:
		return false
	}
	s.relay.Respond(tx, req, res)
	return true
}

// outbound returns what every copy of an initial request needs after its
// decision, or nil: the digest credentials consumed when an auth stage
// applied, and the R-URI user a DID alias mapped (routes decided on the
// mapped user; the box must receive it too, as alias_db_lookup does).
func outbound(v *intake.View, d *graph.Decision) func(fwd *sip.Request) {
	consume := d.Auth != nil
	alias := d.Alias != nil
	if !consume && !alias {
		return nil
	}
	user := v.R.RURI.User
	return func(fwd *sip.Request) {
		if consume {
			consumeCredentials(fwd)
		}
		if alias {
			fwd.Recipient.User = user
		}
	}
}

// consumeCredentials removes the digest credentials from a request about to
// be relayed after an auth stage applied: credentials never reach a PBX or
// a carrier (Kamailio's consume_credentials). Header names compare
// case-insensitively; sipgo's RemoveHeader does not (P8), so each header is
// removed by the exact name it was parsed with.
func consumeCredentials(fwd *sip.Request) {
	for {
		name := ""
		for _, h := range fwd.Headers() {
			if n := h.Name(); strings.EqualFold(n, "Proxy-Authorization") || strings.EqualFold(n, "Authorization") {
				name = n
				break
			}
		}
		if name == "" || !fwd.RemoveHeader(name) {
			return
		}
	}
}
