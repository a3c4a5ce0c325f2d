package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
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

func TestUnsetEnv(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.hcl": `carrier "acme" {
  uri = "sip:gw.example"
  auth {
    username = env("LANG_TEST_UNSET_B")
    password = env("LANG_TEST_UNSET_A")
  }
}
carrier "beta" {
  uri = env("LANG_TEST_UNSET_B")
}`})
	_, diags := Load(dir)
	if !diags.HasErrors() {
		t.Fatal("env() of an unset variable without a default must be an error")
	}
	if got := UnsetEnv(diags); !equal(got, []string{"LANG_TEST_UNSET_A", "LANG_TEST_UNSET_B"}) {
		t.Errorf("UnsetEnv = %q, want both names once, sorted", got)
	}
	if !strings.Contains(diags.Error(), "the environment variable LANG_TEST_UNSET_B is not set") {
		t.Errorf("diagnostics %q do not name the variable", diags.Error())
	}
	if got := UnsetEnv(nil); len(got) != 0 {
		t.Errorf("UnsetEnv(nil) = %q", got)
	}
}

// parseAttr parses `a = EXPR` and returns its attribute.
func parseAttr(t *testing.T, expr string) *hcl.Attribute {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte("a = "+expr+"\n"), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return attrs["a"]
}

func TestDecodeIntRange(t *testing.T) {
	good := map[string]int{"0": 0, "2147483647": 2147483647, "-2147483648": -2147483648, "30": 30}
	for expr, want := range good {
		v, diags := decodeInt(parseAttr(t, expr))
		if diags.HasErrors() || !v.Set || v.Value != want {
			t.Errorf("%s: %+v %v, want %d", expr, v, diags, want)
		}
	}
	bad := map[string]string{
		"2147483648":  "must be a whole number from -2147483648 to 2147483647, but it is 2147483648",
		"-2147483649": "but it is -2147483649",
		"1e12":        "but it is 1000000000000",
		"1.5":         "must be a whole number, but it is 1.5",
	}
	for expr, want := range bad {
		v, diags := decodeInt(parseAttr(t, expr))
		if !diags.HasErrors() || v.Set || !strings.Contains(diags.Error(), want) {
			t.Errorf("%s: %+v %v, want an error containing %q", expr, v, diags, want)
		}
	}
}

func TestDecodeIntMap(t *testing.T) {
	v, diags := decodeIntMap(parseAttr(t, `{ pstn = 30, internal = 2147483647 }`))
	if diags.HasErrors() || !v.Set || v.Value["pstn"] != 30 || v.Value["internal"] != 2147483647 {
		t.Errorf("good map: %+v %v", v, diags)
	}
	// Two bad values: the one whose key sorts first is reported, every
	// time, and the diagnostic points at its value.
	for range 20 {
		v, diags := decodeIntMap(parseAttr(t, `{ zz = 1.5, pstn = 4294967296, aa = 2147483648, mm = 7 }`))
		if !diags.HasErrors() || v.Set || len(diags) != 1 {
			t.Fatalf("bad map: %+v %v", v, diags)
		}
		d := diags[0]
		if want := `The value of "aa" must be a whole number from -2147483648 to 2147483647, but it is 2147483648.`; d.Detail != want {
			t.Fatalf("detail %q, want %q", d.Detail, want)
		}
		if d.Subject == nil || d.Subject.Start.Column != 41 {
			t.Fatalf("subject %v, want the value of aa (column 41)", d.Subject)
		}
	}
	if _, diags := decodeIntMap(parseAttr(t, `{ pstn = -2147483649 }`)); !diags.HasErrors() {
		t.Error("a value below -2^31 must be an error")
	}
}
