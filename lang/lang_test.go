package lang

import (
	"os"
	"path/filepath"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDirectory(t *testing.T) {
	t.Setenv("LANG_TEST_USER", "trunk07")
	dir := writeFiles(t, map[string]string{
		"b.hcl": `prefixes "owners" { file = "owners.csv" }
carrier "acme" {
  uri = "sip:gw.example"
  auth {
    username = env("LANG_TEST_USER")
    password = env("LANG_TEST_SURELY_UNSET", "dflt")
  }
}`,
		"a.hcl":      `route "r1" { to = pool.asterisk.member.ast1 }`,
		"notes.txt":  `route "ignored" {}`,
		"owners.csv": "# comment\n\nprefix,member\n+1555, ast1 \n+1556,ast2\n",
	})
	cfg, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(cfg.Routes) != 1 || cfg.Routes[0].To.Path != "pool.asterisk.member.ast1" {
		t.Fatalf("routes: %+v", cfg.Routes)
	}
	rows := cfg.Prefixes[0].Rows
	if len(rows) != 2 || rows[0].Prefix.Value != "+1555" || rows[0].Member.Value != "ast1" {
		t.Fatalf("rows: %+v", rows)
	}
	if r := rows[0].Member.Range; r.Start.Line != 4 || r.Start.Column != 8 {
		t.Errorf("member range %s, want line 4 column 8", r)
	}
	a := cfg.Carriers[0].Auth
	if a.Username.Value != "trunk07" || a.Password.Value != "dflt" {
		t.Errorf("env: %q %q", a.Username.Value, a.Password.Value)
	}
	var names []string
	for _, s := range cfg.Sources {
		names = append(names, s.Name)
	}
	if want := []string{"a.hcl", "b.hcl", "owners.csv"}; !equal(names, want) {
		t.Errorf("sources %v, want %v", names, want)
	}
	if _, ok := cfg.Files[filepath.Join(dir, "owners.csv")]; !ok {
		t.Error("the CSV file is not registered for rendering diagnostics")
	}
}

func TestCondExact(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.hcl": `route "a" {
  when = "method == 'INVITE'"
  to   = registrar
}
route "b" {
  when = "method == \"INVITE\""
  to   = registrar
}`})
	cfg, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	a, b := cfg.Routes[0].When, cfg.Routes[1].When
	if !a.Exact || a.Start.Line != 2 || a.Start.Column != 11 {
		t.Errorf("plain string: exact=%v start=%+v, want exact at 2:11", a.Exact, a.Start)
	}
	if b.Exact || b.Source != `method == "INVITE"` {
		t.Errorf("escaped string: exact=%v source=%q, want not exact", b.Exact, b.Source)
	}
}

func TestLoadMissing(t *testing.T) {
	cfg, diags := Load(filepath.Join(t.TempDir(), "nope"))
	if !diags.HasErrors() || cfg == nil || cfg.Files == nil {
		t.Fatalf("want an error and a config with files, got %v", diags)
	}
}

func TestIsNumberPrefix(t *testing.T) {
	for s, want := range map[string]bool{"+1": true, "1555": true, "+": true, "": false, "+1-800": false, "1a": false} {
		if IsNumberPrefix(s) != want {
			t.Errorf("IsNumberPrefix(%q) = %v", s, !want)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
