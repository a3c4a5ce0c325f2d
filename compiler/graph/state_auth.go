package graph

import "time"

// Authenticator verifies digest credentials for an auth stage.
type Authenticator interface {
	// Authenticate checks the request's credentials against a's store and
	// says what becomes of the request: it continues as a proven user, it
	// is challenged (again, or because its nonce went stale), refused, or
	// answered 503 because the credential store cannot be reached.
	Authenticate(a *Auth, req *Request) AuthVerdict
}

// AuthOutcome is what an auth stage does with a request that it does not
// trust by source.
type AuthOutcome uint8

// Auth outcomes.
const (
	// AuthOK: the credentials are valid; AuthVerdict.User is proven.
	AuthOK AuthOutcome = iota + 1
	// AuthChallenge: no credentials, or credentials that do not verify;
	// the answer is a fresh challenge.
	AuthChallenge
	// AuthStale: the credentials are right but the nonce expired; the
	// answer is a challenge with stale=true, which clients answer without
	// asking the user again.
	AuthStale
	// AuthForbidden: the credentials are valid but the request may not use
	// them this way (From is another identity); the answer is 403.
	AuthForbidden
	// AuthThrottled: the source or the user failed too often; the answer
	// is 403, or nothing when the stage blocks silently.
	AuthThrottled
	// AuthUnavailable: the credential store cannot answer for this user;
	// the answer is 503 with Retry-After, never an open door.
	AuthUnavailable
)

var authOutcomeNames = [...]string{"", "ok", "challenge", "stale", "forbidden", "throttled", "unavailable"}

// String returns the outcome's name as logs and metrics show it.
func (o AuthOutcome) String() string {
	if int(o) < len(authOutcomeNames) {
		return authOutcomeNames[o]
	}
	return "unknown"
}

// AuthVerdict is an Authenticator's answer for one request.
type AuthVerdict struct {
	Outcome AuthOutcome
	// User is the proven digest user (AuthOK, and AuthForbidden for the
	// identity that was misused).
	User string
	// Reason says why a request failed, for logs, metrics and explain
	// ("no credentials", "wrong credentials", "replayed nc", ...). It never
	// reaches the wire: an unknown user and a wrong password must look the
	// same to the caller.
	Reason string
	// Silent drops a throttled request instead of answering 403.
	Silent bool
	// RetryAfter is the Retry-After of an AuthUnavailable answer.
	RetryAfter time.Duration
}
