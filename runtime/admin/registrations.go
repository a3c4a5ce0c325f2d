package admin

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/sipfront/sipfront/runtime/registrar"
)

// Registrations lists live bindings; *registrar.Registrar satisfies it.
type Registrations interface {
	All() []registrar.Binding
}

// Registration is one binding as GET /v1/registrations shows it.
type Registration struct {
	User    string `json:"user"`
	Domain  string `json:"domain"`
	Contact string `json:"contact"`
	// Q is the q value as SIP writes it, "" when the phone gave none.
	Q string `json:"q,omitempty"`
	// Source and Transport are where the REGISTER came from: requests for
	// the binding go there (NAT).
	Source    string    `json:"source"`
	Transport string    `json:"transport"`
	Expires   time.Time `json:"expires"`
	ExpiresIn int       `json:"expires_in"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// RegistrationList is the answer of GET /v1/registrations.
type RegistrationList struct {
	Registrations []Registration `json:"registrations"`
}

func (a *API) registrations(w http.ResponseWriter, r *http.Request) {
	if a.opts.Registrations == nil {
		writeError(w, http.StatusNotFound, "the policy has no registrar")
		return
	}
	user := r.URL.Query().Get("user")
	now := time.Now()
	out := RegistrationList{Registrations: []Registration{}}
	for _, b := range a.opts.Registrations.All() {
		if user != "" && b.User != user {
			continue
		}
		v := Registration{User: b.User, Domain: b.Domain, Contact: b.URI, Source: b.Source, Transport: b.Transport,
			Expires: time.Unix(0, b.Expires).UTC(), ExpiresIn: b.Remaining(now), UserAgent: b.UserAgent}
		if b.Q != registrar.QUnset {
			v.Q = registrar.FormatQ(b.Q)
		}
		out.Registrations = append(out.Registrations, v)
	}
	writeJSON(w, http.StatusOK, out)
}

// Registrations fetches GET /v1/registrations, of one user when user is
// not "".
func (c *Client) Registrations(ctx context.Context, user string) (*RegistrationList, error) {
	var l RegistrationList
	return &l, c.get(ctx, RegistrationsPath(user), &l)
}

// RegistrationsPath is the path of the bindings of user ("" for all).
func RegistrationsPath(user string) string {
	if user == "" {
		return "/v1/registrations"
	}
	return "/v1/registrations?user=" + url.QueryEscape(user)
}
