package main

import (
	"context"
	"errors"
	"net/http"
	"os"

	"github.com/sipfront/sipfront/runtime/admin"
)

// liveRegistered fetches the running proxy's bindings and returns them as
// registered entries ("alice=sip:alice@10.0.0.5:5062;q=0.5"), so that
// explain --against and plan --against decide with the registrations the
// proxy has now. A proxy without a registrar has none.
func liveRegistered(ctx context.Context, url string) ([]string, error) {
	l, err := admin.NewClient(url, os.Getenv(admin.TokenEnv)).Registrations(ctx, "")
	var apiErr *admin.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(l.Registrations))
	for _, r := range l.Registrations {
		e := r.User + "=" + r.Contact
		if r.Q != "" {
			e += ";q=" + r.Q
		}
		out = append(out, e)
	}
	return out, nil
}
