package compiler

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

func TestAuthDefaults(t *testing.T) {
	t.Setenv("SIPFRONT_TEST_DSN", "postgres://sipfront:pw@127.0.0.1:5432/users")
	dir := t.TempDir()
	csv := "user,domain,ha1,ha1_sha256\n" +
		"alice,example.com,B1726872C344B6DC8365B774F8FD6412\n" +
		"bob,example.com,0cc175b9c0f1b6a831c399e269772661,ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\n"
	if err := os.WriteFile(filepath.Join(dir, "subs.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `
credentials "file" { file = "subs.csv" }
credentials "db" {
  postgres {
    dsn   = env("SIPFRONT_TEST_DSN")
    query = "SELECT ha1 FROM subscriber WHERE username = $1 AND domain = $2"
  }
}
auth "a" {
  credentials = credentials.file
  realm       = "example.com"
}
auth "b" {
  credentials    = credentials.db
  realm          = "example.com"
  check_from     = false
  nonce_ttl      = "30s"
  max_failures   = 3
  failure_window = "10s"
  block          = "2m"
  block_drop     = true
  algorithms     = ["md5"]
}
pool "p" {
  member "m" { uri = "sip:10.0.0.1" }
}
route "r" { to = pool.p }
`
	if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(render(p.Files, diags))
	}
	g := p.Graph
	file, db := g.Credentials[0], g.Credentials[1]
	if file.Entries["alice@example.com"] != "b1726872c344b6dc8365b774f8fd6412" || file.EntriesSHA256["alice@example.com"] != "" ||
		file.EntriesSHA256["bob@example.com"] != "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb" {
		t.Errorf("file entries: %v %v", file.Entries, file.EntriesSHA256)
	}
	if file.Postgres != nil || db.Postgres == nil || db.Postgres.DSN != "postgres://sipfront:pw@127.0.0.1:5432/users" ||
		db.Postgres.PoolSize != 4 || db.CacheTTL != time.Hour || db.NegativeTTL != time.Minute || db.Entries != nil {
		t.Errorf("postgres store: %+v %+v", db, db.Postgres)
	}
	a, b := g.Auth[0], g.Auth[1]
	want := graph.Auth{CheckFrom: true, NonceTTL: 5 * time.Minute, MaxFailures: 5, FailureWindow: time.Minute, Block: 15 * time.Minute}
	if a.CheckFrom != want.CheckFrom || a.NonceTTL != want.NonceTTL || a.MaxFailures != want.MaxFailures ||
		a.FailureWindow != want.FailureWindow || a.Block != want.Block || a.BlockDrop || a.Algorithms != nil {
		t.Errorf("auth defaults: %+v", a)
	}
	if b.CheckFrom || b.NonceTTL != 30*time.Second || b.MaxFailures != 3 || b.FailureWindow != 10*time.Second ||
		b.Block != 2*time.Minute || !b.BlockDrop || len(b.Algorithms) != 1 || b.Algorithms[0] != "MD5" {
		t.Errorf("auth b: %+v", b)
	}
}

func TestCheckDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn string
		ok  bool
	}{
		{"postgres://u:p@db:5432/users?sslmode=disable", true},
		{"postgresql:///users?host=/tmp", true},
		{"host=/tmp/pg port=5433 dbname=users user=postgres", true},
		{"host=db password='a b\\'c'", true},
		{"", false},
		{"mysql://db/users", false},
		{"postgres:users", false},
		{"host=db password='open", false},
		{"just-a-word", false},
		{"postgres://u:p@db:port/users", false},
	} {
		if err := checkDSN(tc.dsn); (err == nil) != tc.ok {
			t.Errorf("checkDSN(%q) = %v, want ok %v", tc.dsn, err, tc.ok)
		}
	}
}
