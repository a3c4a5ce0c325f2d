package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/internal/pgtest"
	"github.com/sipfront/sipfront/runtime/digest"
)

const credentialsQuery = "SELECT ha1, ha1_sha256 FROM subscriber WHERE username = $1 AND domain = $2"

func seedSubscribers(s *pgtest.Server, n int) {
	s.Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
	s.Exec("CREATE TABLE subscriber (username text, domain text, ha1 text NOT NULL, ha1_sha256 text, PRIMARY KEY (username, domain))")
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("user%03d", i)
		s.Exec("INSERT INTO subscriber VALUES ($1, $2, $3, $4)", u, realm, digest.HA1(digest.MD5, u, realm, "pw-"+u), digest.HA1(digest.SHA256, u, realm, "pw-"+u))
	}
}

func pgCredentials(dsn string) *graph.Credentials {
	return &graph.Credentials{ID: "credentials.db", Name: "db", CacheTTL: time.Hour, NegativeTTL: time.Minute,
		Postgres: &graph.Postgres{DSN: dsn, Query: credentialsQuery, PoolSize: 4}}
}

// TestPostgresStore runs the database store against a real PostgreSQL:
// 1,000 lookups of 100 users cost at most 100 queries, a thousand
// concurrent lookups of one user cost one, and when the database stops
// cached users keep working while the others are unavailable, until it
// starts again.
func TestPostgresStore(t *testing.T) {
	srv := pgtest.Start(t)
	seedSubscribers(srv, 100)
	c := &clock{t: time.Now()}
	store, err := OpenPostgres(pgCredentials(srv.DSN()))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.now = c.now
	ctx := context.Background()
	if err := store.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	srv.Exec("SELECT pg_stat_statements_reset()")

	// 1,000 lookups of 100 users from 20 goroutines.
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				u := fmt.Sprintf("user%03d", (g*50+i)%100)
				cred, found, err := store.Lookup(ctx, u, realm)
				if err != nil || !found || cred.MD5 != digest.HA1(digest.MD5, u, realm, "pw-"+u) || cred.SHA256 != digest.HA1(digest.SHA256, u, realm, "pw-"+u) {
					errs <- fmt.Errorf("%s: found %v, %+v, %v", u, found, cred, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if q := srv.Calls("FROM subscriber WHERE"); q > 100 || q < 1 {
		t.Fatalf("1,000 lookups of 100 users ran %d queries, want at most 100", q)
	}
	t.Logf("1,000 concurrent lookups of 100 users: %d queries (pg_stat_statements), %d cache hits", srv.Calls("FROM subscriber WHERE"), store.Stats.Hits.Load())
	// 1,000 more: all from the cache.
	before, hits := srv.Calls("FROM subscriber WHERE"), store.Stats.Hits.Load()
	for i := 0; i < 1000; i++ {
		if _, found, err := store.Lookup(ctx, fmt.Sprintf("user%03d", i%100), realm); err != nil || !found {
			t.Fatalf("cached lookup: %v %v", found, err)
		}
	}
	if q := srv.Calls("FROM subscriber WHERE"); q != before || store.Stats.Hits.Load()-hits != 1000 {
		t.Fatalf("1,000 cached lookups: %d more queries, %d hits", q-before, store.Stats.Hits.Load()-hits)
	}

	// A thousand concurrent lookups of one uncached user: one query.
	srv.Exec("INSERT INTO subscriber VALUES ('hot', $1, $2, NULL)", realm, digest.HA1(digest.MD5, "hot", realm, "pw"))
	srv.Exec("SELECT pg_stat_statements_reset()")
	start := make(chan struct{})
	var hot sync.WaitGroup
	for i := 0; i < 1000; i++ {
		hot.Add(1)
		go func() {
			defer hot.Done()
			<-start
			if _, found, err := store.Lookup(ctx, "hot", realm); err != nil || !found {
				t.Errorf("hot: %v %v", found, err)
			}
		}()
	}
	close(start)
	hot.Wait()
	if q := srv.Calls("FROM subscriber WHERE"); q != 1 {
		t.Fatalf("1,000 concurrent lookups of one user ran %d queries, want 1", q)
	}

	// Unknown users are remembered for the negative TTL.
	for i := 0; i < 3; i++ {
		if _, found, err := store.Lookup(ctx, "nobody", realm); err != nil || found {
			t.Fatalf("nobody: %v %v", found, err)
		}
	}
	if q := srv.Calls("FROM subscriber WHERE"); q != 2 {
		t.Fatalf("after 3 lookups of an unknown user: %d queries, want 2 (one for hot, one for nobody)", q)
	}

	// The database stops: cached users keep working, even past their TTL;
	// the others are unavailable, never unknown.
	srv.Stop()
	c.add(2 * time.Hour)
	if _, found, err := store.Lookup(ctx, "user042", realm); err != nil || !found {
		t.Fatalf("cached user while the database is down: %v %v", found, err)
	}
	if _, _, err := store.Lookup(ctx, "uncached", realm); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("uncached user while the database is down: %v, want ErrUnavailable", err)
	}
	if store.Stats.DBErrors.Load() == 0 {
		t.Error("no database error counted")
	}

	// It starts again: the store recovers without a restart.
	srv.Start()
	srv.Exec("INSERT INTO subscriber VALUES ('uncached', $1, $2, NULL)", realm, digest.HA1(digest.MD5, "uncached", realm, "pw"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.add(downBackoff) // the backoff after the failure runs on the store's clock
		_, found, err := store.Lookup(ctx, "uncached", realm)
		if err == nil && found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery 30s after the database came back: %v %v", found, err)
		}
		time.Sleep(50 * time.Millisecond) // poll: pgxpool reconnects on its own schedule
	}
}

// TestPostgresService authenticates through the service against the real
// database, and answers 503 with Retry-After for an uncached user while
// the database is down.
func TestPostgresService(t *testing.T) {
	srv := pgtest.Start(t)
	seedSubscribers(srv, 3)
	s, _, _ := newTestService(t)
	g := testGraph()
	creds := pgCredentials(srv.DSN())
	g.Credentials = []*graph.Credentials{creds}
	a := g.Auth[0]
	a.Credentials = creds
	if err := s.Reload(g); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if errs := s.Ping(context.Background()); len(errs) != 0 {
		t.Fatalf("ping: %v", errs)
	}
	login := func(u string) graph.AuthVerdict {
		cl := client{user: u, password: "pw-" + u, alg: digest.SHA256}
		nonce := nonceOf(t, s, a, phone)
		return s.Authenticate(a, request("REGISTER", "", u, cl.answer(nonce, "REGISTER", "sip:example.com"), phone))
	}
	if v := login("user001"); v.Outcome != graph.AuthOK || v.User != "user001" {
		t.Fatalf("database user: %+v", v)
	}
	srv.Stop()
	if v := login("user001"); v.Outcome != graph.AuthOK {
		t.Fatalf("cached user, database down: %+v", v)
	}
	v := login("user002")
	if v.Outcome != graph.AuthUnavailable || v.RetryAfter <= 0 {
		t.Fatalf("uncached user, database down: %+v", v)
	}
	if s.Counters.Unavailable.Load() != 1 {
		t.Errorf("unavailable = %d", s.Counters.Unavailable.Load())
	}
}
