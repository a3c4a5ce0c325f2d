package carrier

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
)

// The example of RFC 7616 §3.9.1, with both algorithms.
const rfc7616Challenge = `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=%s, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`

func TestAuthorizationRFC7616(t *testing.T) {
	for _, tt := range []struct {
		algorithm, response string
	}{
		{"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		t.Run(tt.algorithm, func(t *testing.T) {
			ch, err := ParseChallenge(strings.Replace(rfc7616Challenge, "%s", tt.algorithm, 1))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Authorization(ch, Answer{Username: "Mufasa", Password: "Circle of Life", Method: "GET",
				URI: "/dir/index.html", CNonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", NC: 1})
			if err != nil {
				t.Fatal(err)
			}
			want := `Digest username="Mufasa", realm="http-auth@example.org", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", response="` +
				tt.response + `", algorithm=` + tt.algorithm + `, qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if strings.Contains(got, "Circle of Life") {
				t.Error("the header holds the password")
			}
		})
	}
}

// TestAuthorizationNoQOP answers an RFC 2069 challenge (no qop), as older
// SIP carriers send: response = H(HA1:nonce:HA2).
func TestAuthorizationNoQOP(t *testing.T) {
	ch, err := ParseChallenge(`Digest realm="sip.carrier.example", nonce="abc123"`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Authorization(ch, Answer{Username: "trunk01", Password: "pw", Method: "INVITE", URI: "sip:+12125550100@gw.carrier.example"})
	if err != nil {
		t.Fatal(err)
	}
	h := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	want := h(h("trunk01:sip.carrier.example:pw") + ":abc123:" + h("INVITE:sip:+12125550100@gw.carrier.example"))
	if !strings.Contains(got, `response="`+want+`"`) || strings.Contains(got, "qop=") {
		t.Errorf("got %s, want response %s and no qop", got, want)
	}
}

func TestChallengeErrors(t *testing.T) {
	for _, tt := range []struct{ header, want string }{
		{`Basic realm="x"`, "only Digest"},
		{`Digest realm="x"`, "without nonce"},
		{`Digest nonce="y`, "unterminated"},
	} {
		if _, err := ParseChallenge(tt.header); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.header, err, tt.want)
		}
	}
	ch, _ := ParseChallenge(`Digest realm="x", nonce="y", algorithm=SHA-512-256`)
	if _, err := Authorization(ch, Answer{}); err == nil {
		t.Error("SHA-512-256 answered, want an error")
	}
	ch, _ = ParseChallenge(`Digest realm="x", nonce="y", qop="auth-int"`)
	if _, err := Authorization(ch, Answer{}); err == nil {
		t.Error("auth-int answered, want an error")
	}
}
