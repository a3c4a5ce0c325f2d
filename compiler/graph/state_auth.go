package graph

// Authenticator verifies digest credentials for an auth stage.
type Authenticator interface {
	// Authenticate checks the request's credentials against a's store and
	// returns the proven user. ok is false when the request must be
	// challenged.
	Authenticate(a *Auth, req *Request) (user string, ok bool)
}
