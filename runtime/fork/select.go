// Package fork is the response context of a forking proxy (RFC 3261
// §16.7): it sends one request on several branches, in parallel or group
// after group (serial forking by q), relays provisional and 2xx responses,
// cancels the branches that lost, and picks the best final response when no
// branch answered. It knows branches only through the small Branch
// interface, so the selection rules are tested without a network and the
// real client transactions of runtime/forward plug in unchanged.
package fork

// Final is the response a fork sends upstream when no branch answered 2xx.
type Final struct {
	// Code is the status to send. It differs from the chosen response's own
	// code when a 503 is sent up as 500 (§16.7 step 6).
	Code int
	// Msg is the chosen branch response, nil when the proxy must build the
	// response itself (no response at all, a branch that timed out, a 503
	// turned into 500).
	Msg any
	// Challenges are every 401 and 407 received, when the chosen response
	// is one of them: their WWW-Authenticate and Proxy-Authenticate headers
	// all go up in one response (§16.7 step 7).
	Challenges []any
}

// preferred4xx are the 4xx codes §16.7 step 6 asks to prefer: the caller
// can act on them (authenticate, change the body, the extension or the
// number).
func preferred4xx(code int) bool {
	switch code {
	case 401, 407, 415, 420, 484:
		return true
	}
	return false
}

// choose picks the best of the final (>= 300) responses of a fork that got
// no 2xx (§16.7 step 6): a 6xx if any; else the lowest class, preferring in
// 4xx the codes the caller can act on and a real response over one the
// proxy made up; a 503 goes up as 500; no response at all is 480.
func choose(finals []Event) Final {
	best := -1
	for i := range finals {
		if best < 0 || better(&finals[i], &finals[best]) {
			best = i
		}
	}
	if best < 0 {
		return Final{Code: 480}
	}
	f := Final{Code: finals[best].Code, Msg: finals[best].Msg}
	switch f.Code {
	case 503:
		f.Code, f.Msg = 500, nil
	case 401, 407:
		for i := range finals {
			if (finals[i].Code == 401 || finals[i].Code == 407) && finals[i].Msg != nil {
				f.Challenges = append(f.Challenges, finals[i].Msg)
			}
		}
	}
	return f
}

// better reports whether final a beats the current best b.
func better(a, b *Event) bool {
	ca, cb := a.Code/100, b.Code/100
	switch {
	case cb == 6:
		return false
	case ca == 6:
		return true
	case ca != cb:
		return ca < cb
	case ca == 4 && preferred4xx(a.Code) != preferred4xx(b.Code):
		return preferred4xx(a.Code)
	}
	return a.Msg != nil && b.Msg == nil
}
