// Package pgtest runs a real PostgreSQL for tests: the credential store
// of runtime/auth and the end-to-end tests use it. It is never mocked.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a PostgreSQL server the test owns: its own data directory,
// port and unix socket in a temporary directory.
type Server struct {
	t       *testing.T
	bin     string
	dir     string
	port    int
	cred    *syscall.Credential
	cmd     *exec.Cmd
	done    chan error
	logFile *os.File
}

// Start starts a PostgreSQL from Debian's package (initdb and postgres of
// /usr/lib/postgresql/*/bin, as the postgres user when run as root: the
// server refuses root) in a temporary directory, on its own port, with
// its unix socket in that directory and pg_stat_statements loaded. It
// skips the test when PostgreSQL is not installed, except on CI (CI=true),
// where it fails. The server stops at the test's end.
func Start(t *testing.T) *Server {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres); CI must install the postgresql package")
		}
		t.Skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres): apt-get install postgresql to run this test")
	}
	s := &Server{t: t, bin: filepath.Dir(bins[len(bins)-1])}
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
	s.Start()
	t.Cleanup(s.Stop)
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

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// DSN reaches the server over its unix socket.
func (s *Server) DSN() string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", s.dir, s.port)
}

func (s *Server) Start() {
	s.t.Helper()
	s.cmd = s.command("postgres", "-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "shared_preload_libraries=pg_stat_statements")
	log, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
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
		conn, err := pgx.Connect(context.Background(), s.DSN())
		if err == nil {
			conn.Close(context.Background())
			return
		}
		select {
		case werr := <-s.done:
			s.t.Fatalf("postgres exited: %v\n%s", werr, s.logTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("postgres not ready after 60s: %v\n%s", err, s.logTail())
		}
	}
}

// Stop shuts the server down (fast mode) and waits for it; Start starts
// it again on the same data, port and socket.
func (s *Server) Stop() {
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

// Exec runs one statement on a fresh connection.
func (s *Server) Exec(sql string, args ...any) {
	s.t.Helper()
	conn, err := pgx.Connect(context.Background(), s.DSN())
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

// Calls returns how many times PostgreSQL ran the statements whose text
// contains pattern since the last pg_stat_statements_reset(): the server's
// own count, not the client's.
func (s *Server) Calls(pattern string) int64 {
	s.t.Helper()
	conn, err := pgx.Connect(context.Background(), s.DSN())
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	err = conn.QueryRow(context.Background(),
		`SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query LIKE $1`, "%"+pattern+"%").Scan(&n)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// logTail returns the end of the server's log, for a failure message.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
