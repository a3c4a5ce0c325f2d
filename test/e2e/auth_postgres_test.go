package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipfront/sipfront/internal/pgtest"
)

// pgCredentials is the credentials block of the PostgreSQL tests; the DSN
// comes from the environment the proxy is started with.
const pgCredentials = `credentials "subscribers" {
  cache_ttl    = "1h"
  negative_ttl = "1m"
  postgres {
    dsn       = env("SIPFRONT_E2E_DSN")
    query     = "SELECT ha1, ha1_sha256 FROM subscriber WHERE username = $1 AND domain = $2"
    pool_size = 4
  }
}`

// TestAuthPostgresRegisters: a real PostgreSQL serves the credentials of
// 100 users; 1,000 REGISTERs through a 401 challenge cause at most 100
// queries (pg_stat_statements); with the database stopped, cached users
// keep registering and an uncached one gets 503 with Retry-After; started
// again, it serves that user without a restart of sipfront.
func TestAuthPostgresRegisters(t *testing.T) {
	srv := pgtest.Start(t)
	srv.Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
	srv.Exec("CREATE TABLE subscriber (username text, domain text, ha1 text NOT NULL, ha1_sha256 text, PRIMARY KEY (username, domain))")
	for i := 0; i <= 100; i++ { // u100 is never registered before the database stops
		u := fmt.Sprintf("u%03d", i)
		srv.Exec("INSERT INTO subscriber VALUES ($1, $2, $3, NULL)", u, authRealm, hexHash("MD5", u+":"+authRealm+":pw-"+u))
	}
	t.Setenv("SIPFRONT_E2E_DSN", srv.DSN())
	proxyPort, adminPort := freePort(t), freePort(t)
	box := startResponder(t)
	// REGISTERs go to the registrar, which binds them.
	registrar := pgCredentials + "\n\nregistrar {}\n\nroute \"register\" {\n  when = \"method == 'REGISTER'\"\n  to   = registrar\n}"
	p := startProxy(t, authPolicyWith(t, proxyPort, adminPort, box.port, "", "", registrar), addr(proxyPort))
	srv.Exec("SELECT pg_stat_statements_reset()")

	const workers, perWorker = 10, 100
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan string, workers*perWorker)
	for w := 0; w < workers; w++ {
		c := newSIPClient(t, fmt.Sprintf("127.0.1.%d", w+1), p.addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				u := fmt.Sprintf("u%03d", (w*perWorker+i)%100)
				if code, res := c.register(u, "pw-"+u); code != 200 {
					errs <- fmt.Sprintf("%s: %d\n%s", u, code, res)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for e := range errs {
		t.Fatalf("REGISTER: %s", e)
	}
	q := srv.Calls("FROM subscriber WHERE")
	t.Logf("1,000 REGISTERs of 100 users through a 401 challenge: %d queries, %.0f REGISTERs/s (%d concurrent clients)",
		q, float64(workers*perWorker)/elapsed.Seconds(), workers)
	if q > 100 || q < 1 {
		t.Fatalf("1,000 REGISTERs of 100 users ran %d queries, want 1 to 100", q)
	}
	if out, _, _ := runSipfront(t, nil, "ctl", "--admin", "http://"+addr(adminPort), "registrations", "u042"); !strings.Contains(out, "u042") {
		t.Errorf("u042 is not registered after its REGISTERs:\n%s", out)
	}

	// The database stops: cached users keep working, others get 503.
	srv.Stop()
	c := newSIPClient(t, "127.0.1.200", p.addr)
	if code, res := c.register("u042", "pw-u042"); code != 200 {
		t.Fatalf("cached user with the database down: %d\n%s", code, res)
	}
	code, res := c.register("u100", "pw-u100")
	if code != 503 || len(headerValues(res, "Retry-After")) != 1 {
		t.Fatalf("uncached user with the database down: %d, want 503 with Retry-After\n%s", code, res)
	}

	// It starts again: sipfront recovers by itself.
	srv.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, res := c.register("u100", "pw-u100")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d 30s after the database came back\n%s", code, res)
		}
		time.Sleep(200 * time.Millisecond) // poll: the pool reconnects on its own
	}
	if n := box.leaked.Load(); n != 0 {
		t.Errorf("the box saw credentials in %d requests", n)
	}
}

// BenchmarkAuthRegister measures REGISTER throughput through the real
// binary: one op is a REGISTER answered 200. The baseline comes from a
// trusted source (no challenge); digest is a REGISTER challenged 401 and
// answered (two round trips, a verification and a nonce), from 8 clients
// in parallel, in the same run.
func BenchmarkAuthRegister(b *testing.B) {
	proxyPort, adminPort := freePort(b), freePort(b)
	box := startResponder(b)
	p := startProxy(b, authPolicy(b, proxyPort, adminPort, box.port, "127.0.2.0/24", "  max_failures = 0\n"), addr(proxyPort))
	for _, tc := range []struct {
		name, net string
	}{{"baseline-trusted", "127.0.2."}, {"digest", "127.0.3."}} {
		b.Run(tc.name, func(b *testing.B) {
			var next sync.Mutex
			ip := 0
			b.SetParallelism(4) // 4 × GOMAXPROCS clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				next.Lock()
				ip++
				c := newSIPClient(b, fmt.Sprintf("%s%d", tc.net, ip), p.addr)
				next.Unlock()
				for pb.Next() {
					if code, res := c.register("alice", subscribers["alice"]); code != 200 {
						b.Fatalf("REGISTER: %d\n%s", code, res)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "registers/s")
		})
	}
}

// TestAuthPostgresUnreachableAtStart: serve starts with a credentials
// database that does not answer, says so in its log, serves SIP, and
// answers 503 with Retry-After to users it cannot look up.
func TestAuthPostgresUnreachableAtStart(t *testing.T) {
	t.Setenv("SIPFRONT_E2E_DSN", "host="+t.TempDir()+" port=1 user=nobody dbname=nothing sslmode=disable connect_timeout=1")
	proxyPort, adminPort := freePort(t), freePort(t)
	box := startResponder(t)
	p := startProxy(t, authPolicyWith(t, proxyPort, adminPort, box.port, "", "", pgCredentials), addr(proxyPort))
	if !strings.Contains(p.log.String(), "credentials database unreachable") {
		t.Errorf("serve did not log the unreachable database:\n%s", p.log.String())
	}
	c := newSIPClient(t, "127.0.1.201", p.addr)
	code, res := c.register("u001", "pw-u001")
	if code != 503 || len(headerValues(res, "Retry-After")) != 1 {
		t.Fatalf("REGISTER with the database unreachable: %d, want 503 with Retry-After\n%s", code, res)
	}
}
