package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sipfront/sipfront/compiler/graph"
)

// pgServer is a PostgreSQL server the test owns: its own data directory,
// port and unix socket in a temporary directory.
type pgServer struct {
	t       *testing.T
	bin     string
	dir     string
	port    int
	cred    *syscall.Credential
	cmd     *exec.Cmd
	done    chan error
	logFile *os.File
}

// startPostgres starts a PostgreSQL from Debian's package, or skips (fails
// on CI, which installs it).
func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres); CI must install the postgresql package")
		}
		t.Skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres): apt-get install postgresql to run this test")
	}
	s := &pgServer{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "sipfront-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		// The server refuses to run as root: run it as the postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root and no postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	s.port = freePort(t)
	initdb := s.command("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *pgServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// dsn reaches the server over its unix socket.
func (s *pgServer) dsn() string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", s.dir, s.port)
}

func (s *pgServer) start() {
	s.t.Helper()
	s.cmd = s.command("postgres", "-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "shared_preload_libraries=pg_stat_statements")
	log, err := os.OpenFile(filepath.Join(os.TempDir(), fmt.Sprintf("sipfront-pg-%d.log", s.port)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	s.logFile = log
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("postgres: %v", err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := pgx.Connect(context.Background(), s.dsn())
		if err == nil {
			conn.Close(context.Background())
			return
		}
		select {
		case werr := <-s.done:
			s.t.Fatalf("postgres exited: %v (log %s)", werr, log.Name())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("postgres not ready after 60s: %v (log %s)", err, log.Name())
		}
	}
}

// stop shuts the server down (fast mode) and waits for it.
func (s *pgServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
	s.logFile.Close()
}

func (s *pgServer) exec(sql string, args ...any) {
	s.t.Helper()
	conn, err := pgx.Connect(context.Background(), s.dsn())
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

// queries returns how many times PostgreSQL ran the credentials query
// since the last reset, from pg_stat_statements: the server's count, not
// the store's.
func (s *pgServer) queries() int64 {
	s.t.Helper()
	conn, err := pgx.Connect(context.Background(), s.dsn())
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	err = conn.QueryRow(context.Background(),
		`SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query LIKE '%FROM subscriber WHERE%'`).Scan(&n)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

const credentialsQuery = "SELECT ha1, ha1_sha256 FROM subscriber WHERE username = $1 AND domain = $2"

func seedSubscribers(s *pgServer, n int) {
	s.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
	s.exec("CREATE TABLE subscriber (username text, domain text, ha1 text NOT NULL, ha1_sha256 text, PRIMARY KEY (username, domain))")
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("user%03d", i)
		s.exec("INSERT INTO subscriber VALUES ($1, $2, $3, $4)", u, realm, HA1(MD5, u, realm, "pw-"+u), HA1(SHA256, u, realm, "pw-"+u))
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
	srv := startPostgres(t)
	seedSubscribers(srv, 100)
	c := &clock{t: time.Now()}
	store, err := OpenPostgres(pgCredentials(srv.dsn()))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.now = c.now
	ctx := context.Background()
	if err := store.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	srv.exec("SELECT pg_stat_statements_reset()")

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
				if err != nil || !found || cred.MD5 != HA1(MD5, u, realm, "pw-"+u) || cred.SHA256 != HA1(SHA256, u, realm, "pw-"+u) {
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
	if q := srv.queries(); q > 100 || q < 1 {
		t.Fatalf("1,000 lookups of 100 users ran %d queries, want at most 100", q)
	}
	t.Logf("1,000 concurrent lookups of 100 users: %d queries (pg_stat_statements), %d cache hits", srv.queries(), store.Stats.Hits.Load())
	// 1,000 more: all from the cache.
	before, hits := srv.queries(), store.Stats.Hits.Load()
	for i := 0; i < 1000; i++ {
		if _, found, err := store.Lookup(ctx, fmt.Sprintf("user%03d", i%100), realm); err != nil || !found {
			t.Fatalf("cached lookup: %v %v", found, err)
		}
	}
	if q := srv.queries(); q != before || store.Stats.Hits.Load()-hits != 1000 {
		t.Fatalf("1,000 cached lookups: %d more queries, %d hits", q-before, store.Stats.Hits.Load()-hits)
	}

	// A thousand concurrent lookups of one uncached user: one query.
	srv.exec("INSERT INTO subscriber VALUES ('hot', $1, $2, NULL)", realm, HA1(MD5, "hot", realm, "pw"))
	srv.exec("SELECT pg_stat_statements_reset()")
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
	if q := srv.queries(); q != 1 {
		t.Fatalf("1,000 concurrent lookups of one user ran %d queries, want 1", q)
	}

	// Unknown users are remembered for the negative TTL.
	for i := 0; i < 3; i++ {
		if _, found, err := store.Lookup(ctx, "nobody", realm); err != nil || found {
			t.Fatalf("nobody: %v %v", found, err)
		}
	}
	if q := srv.queries(); q != 2 {
		t.Fatalf("after 3 lookups of an unknown user: %d queries, want 2 (one for hot, one for nobody)", q)
	}

	// The database stops: cached users keep working, even past their TTL;
	// the others are unavailable, never unknown.
	srv.stop()
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
	srv.start()
	srv.exec("INSERT INTO subscriber VALUES ('uncached', $1, $2, NULL)", realm, HA1(MD5, "uncached", realm, "pw"))
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
	srv := startPostgres(t)
	seedSubscribers(srv, 3)
	s, _, _ := newTestService(t)
	g := testGraph()
	creds := pgCredentials(srv.dsn())
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
		cl := client{user: u, password: "pw-" + u, alg: SHA256}
		nonce := nonceOf(t, s, a, phone)
		return s.Authenticate(a, request("REGISTER", "", u, cl.answer(nonce, "REGISTER", "sip:example.com"), phone))
	}
	if v := login("user001"); v.Outcome != graph.AuthOK || v.User != "user001" {
		t.Fatalf("database user: %+v", v)
	}
	srv.stop()
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
