package auth

import (
	"strings"
	"testing"
)

// The example of RFC 7616 §3.9.1, whose responses are given for MD5 and
// SHA-256.
var rfc7616 = Answer{
	Username: "Mufasa",
	Realm:    "http-auth@example.org",
	URI:      "/dir/index.html",
	Nonce:    "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
	CNonce:   "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
	NC:       "00000001",
	QOP:      "auth",
}

func TestRFC7616Vectors(t *testing.T) {
	for _, tc := range []struct {
		alg  Algorithm
		want string
	}{
		{MD5, "8ca523f5e9506fed4657c9700eebdbec"},
		{SHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		t.Run(tc.alg.String(), func(t *testing.T) {
			ha1 := HA1(tc.alg, rfc7616.Username, rfc7616.Realm, "Circle of Life")
			var dst [64]byte
			got, ok := expectedResponse(tc.alg, &dst, ha1, "GET", &rfc7616)
			if !ok || string(got) != tc.want {
				t.Fatalf("response = %s, want %s", got, tc.want)
			}
			a := rfc7616
			a.Response = strings.ToUpper(tc.want) // hex compares case-insensitively
			if !responseMatches(tc.alg, ha1, "GET", &a) {
				t.Error("the RFC's response does not verify")
			}
			a.Response = tc.want[:len(tc.want)-1] + "0"
			if responseMatches(tc.alg, ha1, "GET", &a) {
				t.Error("a wrong response verifies")
			}
			if responseMatches(tc.alg, "", "GET", &a) {
				t.Error("an absent HA1 verifies")
			}
		})
	}
}

func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Answer
		ok       bool
	}{
		{"full", `Digest username="alice", realm="example.com", nonce="abc", uri="sip:100@example.com", response="0123", algorithm=SHA-256, cnonce="xyz", qop=auth, nc=00000001, opaque=""`,
			Answer{Username: "alice", Realm: "example.com", Nonce: "abc", URI: "sip:100@example.com", Response: "0123", Algorithm: "SHA-256", CNonce: "xyz", QOP: "auth", NC: "00000001"}, true},
		{"case and spacing", `digest  USERNAME = "bob" ,response="ff",qop="auth"`,
			Answer{Username: "bob", Response: "ff", QOP: "auth"}, true},
		{"escaped quote", `Digest username="a\"b", response="ff"`, Answer{Username: `a"b`, Response: "ff"}, true},
		{"basic scheme", `Basic YWxpY2U6c2VjcmV0`, Answer{}, false},
		{"unterminated", `Digest username="alice, response="ff`, Answer{}, false},
		{"no response", `Digest username="alice"`, Answer{Username: "alice"}, false},
		{"no equals", `Digest username`, Answer{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseAnswer(tc.in)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Errorf("ParseAnswer = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestHA1(t *testing.T) {
	// printf 'alice:example.com:secret' | md5sum, as the example's CSV says.
	if got := HA1(MD5, "alice", "example.com", "secret"); got != "b1726872c344b6dc8365b774f8fd6412" {
		t.Errorf("HA1 = %s", got)
	}
}
