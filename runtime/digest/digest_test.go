package digest

import (
	"strings"
	"testing"
)

// The examples of RFC 2617 §3.5 and RFC 7616 §3.9.1 (note the RFCs'
// passwords differ: "Circle Of Life", "Circle of Life"; RFC 7616 erratum
// 4495). The -sess and RFC 2069 (no qop) responses were computed apart
// from this package (Python's hashlib) over the same inputs; the -sess ones
// agree with other implementations' published vectors.
const (
	rfc2617Challenge = `Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"`
	rfc7616Challenge = `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=%s, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`
	rfc7616CNonce    = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	noQOPChallenge   = `Digest realm="sip.carrier.example", nonce="abc123", algorithm=%s`
)

var vectors = []struct {
	name, challenge, password, method, uri, cnonce string
	// response is the RFC's (or the independently computed) response;
	// header, when set, is the whole Authorization value expected.
	response, header string
}{
	{name: "RFC 2617 3.5 MD5", challenge: rfc2617Challenge, password: "Circle Of Life", method: "GET", uri: "/dir/index.html", cnonce: "0a4f113b",
		response: "6629fae49393a05397450978507c4ef1",
		header:   `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41"`},
	{name: "RFC 7616 3.9.1 MD5", challenge: strings.Replace(rfc7616Challenge, "%s", "MD5", 1), password: "Circle of Life", method: "GET", uri: "/dir/index.html", cnonce: rfc7616CNonce,
		response: "8ca523f5e9506fed4657c9700eebdbec",
		header:   `Digest username="Mufasa", realm="http-auth@example.org", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", response="8ca523f5e9506fed4657c9700eebdbec", algorithm=MD5, qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`},
	{name: "RFC 7616 3.9.1 SHA-256", challenge: strings.Replace(rfc7616Challenge, "%s", "SHA-256", 1), password: "Circle of Life", method: "GET", uri: "/dir/index.html", cnonce: rfc7616CNonce,
		response: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		header:   `Digest username="Mufasa", realm="http-auth@example.org", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`},
	{name: "RFC 7616 inputs MD5-sess", challenge: strings.Replace(rfc7616Challenge, "%s", "MD5-sess", 1), password: "Circle of Life", method: "GET", uri: "/dir/index.html", cnonce: rfc7616CNonce,
		response: "e783283f46242139c486a698fec7211d"},
	{name: "RFC 7616 inputs SHA-256-sess", challenge: strings.Replace(rfc7616Challenge, "%s", "sha-256-SESS", 1), password: "Circle of Life", method: "GET", uri: "/dir/index.html", cnonce: rfc7616CNonce,
		response: "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7"},
	{name: "RFC 2069 no qop", challenge: strings.Replace(noQOPChallenge, "%s", "MD5", 1), password: "pw", method: "INVITE", uri: "sip:+12125550100@gw.carrier.example", cnonce: "0a4f113b",
		response: "aa26bba37e88593ad3c0d4641acc8769",
		header:   `Digest username="Mufasa", realm="sip.carrier.example", nonce="abc123", uri="sip:+12125550100@gw.carrier.example", response="aa26bba37e88593ad3c0d4641acc8769", algorithm=MD5`},
	{name: "RFC 2069 no qop MD5-sess", challenge: strings.Replace(noQOPChallenge, "%s", "MD5-sess", 1), password: "pw", method: "INVITE", uri: "sip:+12125550100@gw.carrier.example", cnonce: "0a4f113b",
		response: "405782b77cc7146fd94052fa677bf5fc"},
}

// TestVectors answers each challenge as a client (Authorization), then
// reads the answer back as a server (ParseCredentials) and verifies it
// (Verify) against the stored HA1.
func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			user := "Mufasa"
			if strings.Contains(v.challenge, "carrier") {
				user = "trunk01"
			}
			ch, err := ParseChallenge(v.challenge)
			if err != nil {
				t.Fatal(err)
			}
			h, err := Authorization(ch, Answer{Username: user, Password: v.password, Method: v.method, URI: v.uri, CNonce: v.cnonce, NC: 1})
			if err != nil {
				t.Fatal(err)
			}
			if v.header != "" && h != strings.Replace(v.header, "Mufasa", user, 1) {
				t.Errorf("Authorization:\n got  %s\n want %s", h, v.header)
			}
			if strings.Contains(h, v.password) {
				t.Error("the header holds the password")
			}
			c, ok := ParseCredentials(h)
			if !ok || c.Response != v.response {
				t.Fatalf("response = %q (parsed %v), want %s\n%s", c.Response, ok, v.response, h)
			}
			alg, _ := ParseAlgorithm(c.Algorithm)
			if alg.Sess() && c.QOP == "" {
				return // no cnonce is sent without qop: no server can verify it
			}
			ha1 := HA1(alg, user, ch.Realm, v.password)
			if !Verify(alg, ha1, v.method, &c) {
				t.Error("the answer does not verify")
			}
			c.Response = strings.ToUpper(v.response) // hex compares case-insensitively
			if !Verify(alg, ha1, v.method, &c) {
				t.Error("the upper-case answer does not verify")
			}
			for name, bad := range map[string]func(*Credentials) (string, string){
				"wrong response": func(c *Credentials) (string, string) {
					c.Response = v.response[:len(v.response)-1] + "x"
					return ha1, v.method
				},
				"absent HA1":   func(*Credentials) (string, string) { return "", v.method },
				"other method": func(*Credentials) (string, string) { return ha1, "POST" },
				"other uri":    func(c *Credentials) (string, string) { c.URI += "x"; return ha1, v.method },
				"long uri":     func(c *Credentials) (string, string) { c.URI = strings.Repeat("a", 1024); return ha1, v.method },
			} {
				c, _ := ParseCredentials(h)
				if ha1, method := bad(&c); Verify(alg, ha1, method, &c) {
					t.Errorf("%s verifies", name)
				}
			}
		})
	}
}

// TestRFC2617Header verifies the Authorization header RFC 2617 §3.5
// prints, as a server receives it.
func TestRFC2617Header(t *testing.T) {
	c, ok := ParseCredentials(`Digest username="Mufasa",
		realm="testrealm@host.com",
		nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
		uri="/dir/index.html",
		qop=auth,
		nc=00000001,
		cnonce="0a4f113b",
		response="6629fae49393a05397450978507c4ef1",
		opaque="5ccc069c403ebaf9f0171e9517f40e41"`)
	if !ok {
		t.Fatal("not parsed")
	}
	if !Verify(MD5, HA1(MD5, "Mufasa", "testrealm@host.com", "Circle Of Life"), "GET", &c) {
		t.Errorf("RFC 2617's answer does not verify: %+v", c)
	}
}

func TestParseCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Credentials
		ok       bool
	}{
		{"full", `Digest username="alice", realm="example.com", nonce="abc", uri="sip:100@example.com", response="0123", algorithm=SHA-256, cnonce="xyz", qop=auth, nc=00000001, opaque=""`,
			Credentials{Username: "alice", Realm: "example.com", Nonce: "abc", URI: "sip:100@example.com", Response: "0123", Algorithm: "SHA-256", CNonce: "xyz", QOP: "auth", NC: "00000001"}, true},
		{"case and spacing", `digest  USERNAME = "bob" ,response="ff",qop="auth"`,
			Credentials{Username: "bob", Response: "ff", QOP: "auth"}, true},
		{"tab after scheme", "Digest\tusername=bob, response=ff", Credentials{Username: "bob", Response: "ff"}, true},
		{"escaped quote", `Digest username="a\"b", response="ff"`, Credentials{Username: `a"b`, Response: "ff"}, true},
		{"basic scheme", `Basic YWxpY2U6c2VjcmV0`, Credentials{}, false},
		{"scheme prefix", `Digestive username="a", response="ff"`, Credentials{}, false},
		{"scheme alone", `Digest`, Credentials{}, false},
		{"unterminated", `Digest username="alice, response="ff`, Credentials{}, false},
		{"no response", `Digest username="alice"`, Credentials{Username: "alice"}, false},
		{"no equals", `Digest username`, Credentials{}, false},
		{"empty name", `Digest username="a", response="ff", =x`, Credentials{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseCredentials(tc.in)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Errorf("ParseCredentials = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseChallenge(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Challenge
		err      string
	}{
		{"RFC 2617", rfc2617Challenge, Challenge{Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
			Opaque: "5ccc069c403ebaf9f0171e9517f40e41", Algorithm: "MD5", QOP: []string{"auth", "auth-int"}}, ""},
		{"stale, unquoted qop", `digest REALM="x", nonce=y, qop=auth, stale=TRUE, algorithm=SHA-256, domain="sip:x"`,
			Challenge{Realm: "x", Nonce: "y", Algorithm: "SHA-256", QOP: []string{"auth"}, Stale: true}, ""},
		{"basic", `Basic realm="x"`, Challenge{}, `challenge scheme "Basic": only Digest is supported`},
		{"no nonce", `Digest realm="x"`, Challenge{}, "digest challenge without nonce"},
		{"unterminated", `Digest nonce="y`, Challenge{}, "digest challenge: parameter nonce: unterminated quoted string"},
		{"no value", `Digest nonce="y", realm`, Challenge{}, `digest challenge: parameter "realm" without value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseChallenge(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got.String() != tc.want.String() || got.Algorithm != tc.want.Algorithm {
				t.Errorf("ParseChallenge = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestChallengeString(t *testing.T) {
	for _, tc := range []struct {
		ch   Challenge
		want string
	}{
		{Challenge{Realm: "example.com", Nonce: "n1", Algorithm: "SHA-256", QOP: []string{"auth"}},
			`Digest realm="example.com", nonce="n1", algorithm=SHA-256, qop="auth"`},
		{Challenge{Realm: "example.com", Nonce: "n1", Algorithm: "MD5", QOP: []string{"auth"}, Stale: true},
			`Digest realm="example.com", nonce="n1", algorithm=MD5, qop="auth", stale=true`},
		{Challenge{Realm: `a"b\c`, Nonce: "n1", Opaque: "o", QOP: []string{"auth", "auth-int"}},
			`Digest realm="a\"b\\c", nonce="n1", opaque="o", qop="auth,auth-int"`},
	} {
		if got := tc.ch.String(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
		if back, err := ParseChallenge(tc.want); err != nil || back.Realm != tc.ch.Realm || len(back.QOP) != len(tc.ch.QOP) || back.Stale != tc.ch.Stale {
			t.Errorf("%s does not parse back: %+v, %v", tc.want, back, err)
		}
	}
}

func TestAuthorizationErrors(t *testing.T) {
	for _, tc := range []struct{ challenge, want string }{
		{`Digest realm="x", nonce="y", algorithm=SHA-512-256`, `digest algorithm "SHA-512-256": only MD5 and SHA-256 are supported`},
		{`Digest realm="x", nonce="y", qop="auth-int"`, `digest qop "auth-int": only auth is supported`},
	} {
		ch, err := ParseChallenge(tc.challenge)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Authorization(ch, Answer{}); err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", tc.challenge, err, tc.want)
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Algorithm
		ok   bool
	}{
		{"", MD5, true}, {"md5", MD5, true}, {"SHA-256", SHA256, true}, {"MD5-sess", MD5Sess, true},
		{"sha-256-SESS", SHA256Sess, true}, {"-sess", MD5Sess, true}, {"SHA-512-256", 0, false}, {"sess", 0, false},
	} {
		if got, ok := ParseAlgorithm(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("ParseAlgorithm(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHA1(t *testing.T) {
	// printf 'alice:example.com:secret' | md5sum, as the example's CSV says.
	if got := HA1(MD5, "alice", "example.com", "secret"); got != "b1726872c344b6dc8365b774f8fd6412" {
		t.Errorf("HA1 = %s", got)
	}
}

// TestNoAllocations keeps the server's side free of allocations: parsing
// an answer and verifying it run on every authenticated request.
func TestNoAllocations(t *testing.T) {
	h := vectors[2].header
	ha1 := HA1(SHA256, "Mufasa", "http-auth@example.org", "Circle of Life")
	if n := testing.AllocsPerRun(100, func() {
		c, ok := ParseCredentials(h)
		if !ok || !Verify(SHA256, ha1, "GET", &c) {
			t.Fatal("does not verify")
		}
	}); n != 0 {
		t.Errorf("%v allocations a verification, want 0", n)
	}
	ch := Challenge{Realm: "example.com", Nonce: "n1", Algorithm: "SHA-256", QOP: []string{"auth"}}
	if n := testing.AllocsPerRun(100, func() { _ = ch.String() }); n != 1 {
		t.Errorf("%v allocations a challenge, want 1", n)
	}
}
