package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/sipfront/sipfront/runtime/auth"
)

// newAuthService builds the digest-auth service with the nonce secret of
// auth.SecretEnv (or a random one), and says which in the log: proxies that
// share an address must share the secret to accept each other's nonces.
func newAuthService(log *slog.Logger) (*auth.Service, error) {
	secret, fromEnv, err := auth.SecretFromEnv()
	if err != nil {
		return nil, err
	}
	if !fromEnv {
		log.Debug("auth: nonce secret generated at start; set " + auth.SecretEnv + " to share it between proxies")
	}
	return auth.NewService(auth.Options{Secret: secret, Logger: log})
}

// checkCredentialStores pings every database store once at start and logs
// the result plainly: a database that does not answer is not fatal (cached
// users keep working, the others get 503 until it answers), but the
// operator must know at once.
func checkCredentialStores(svc *auth.Service, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	failed := svc.Ping(ctx)
	for id := range svc.PostgresStores() {
		if err, bad := failed[id]; bad {
			log.Error("credentials database unreachable: its users get 503 with Retry-After until it answers",
				"credentials", id, "error", err)
			continue
		}
		log.Info("credentials database reachable", "credentials", id)
	}
}
