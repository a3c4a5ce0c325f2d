package registrar

import (
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func parseRegister(t *testing.T, headers ...string) *sip.Request {
	t.Helper()
	raw := "REGISTER sip:sipfront.test SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:40000;branch=z9hG4bK-1\r\n" +
		"From: <sip:alice@sipfront.test>;tag=f1\r\n" +
		"To: <sip:alice@SIPFRONT.test>\r\n" +
		"Call-ID: reg-1\r\n" +
		"CSeq: 7 REGISTER\r\n" +
		"Max-Forwards: 70\r\n" +
		"User-Agent: baresip\r\n" +
		strings.Join(headers, "") + "Content-Length: 0\r\n\r\n"
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	req.SetSource("192.0.2.1:40000")
	req.SetTransport("UDP")
	return req
}

func TestFromSIP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers []string
		want    string
		err     string
	}{
		{"two contacts one line", []string{"Contact: <sip:alice@10.0.0.1:5062;transport=udp>;expires=300;q=0.7, <sip:alice@10.0.0.2>\r\n", "Expires: 120\r\n"},
			"star=false exp=120 [sip:alice@10.0.0.1:5062;transport=udp|sip:alice@10.0.0.1:5062;udp|300|700 sip:alice@10.0.0.2|sip:alice@10.0.0.2:5060;|-1|-1]", ""},
		{"star", []string{"Contact: *\r\n", "Expires: 0\r\n"}, "star=true exp=0 []", ""},
		{"no contact", nil, "star=false exp=-1 []", ""},
		{"bad Expires", []string{"Expires: soon\r\n"}, "", "Invalid Expires"},
		{"bad q", []string{"Contact: <sip:a@b>;q=2\r\n"}, "", "Invalid Contact q"},
		{"bad expires param", []string{"Contact: <sip:a@b>;expires=-1\r\n"}, "", "Invalid Contact Expires"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := FromSIP(parseRegister(t, tc.headers...))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.User != "alice" || r.Domain != "sipfront.test" || r.CallID != "reg-1" || r.CSeq != 7 || r.UserAgent != "baresip" || r.Source != "192.0.2.1:40000" || r.Transport != "UDP" {
				t.Fatalf("request fields: %+v", r)
			}
			got := "star=" + fmtBool(r.Star) + " exp=" + itoa(r.Expires) + " ["
			for i, c := range r.Contacts {
				if i > 0 {
					got += " "
				}
				got += c.URI + "|" + c.Key + "|" + itoa(c.Expires) + "|" + itoa(c.Q)
			}
			if got += "]"; got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestResponse(t *testing.T) {
	req := parseRegister(t, "Contact: <sip:alice@10.0.0.1>;q=0.5\r\n", "Expires: 30\r\n")
	r, clk := newTestRegistrar(t, MemStore{}, lim)
	in, err := FromSIP(req)
	if err != nil {
		t.Fatal(err)
	}
	res := r.Register(&in)
	resp := Response(req, res, clk.t)
	if resp.StatusCode != 423 || resp.GetHeader("Min-Expires").Value() != "60" {
		t.Fatalf("short expiry: %s", resp.StartLine())
	}
	req = parseRegister(t, "Contact: <sip:alice@10.0.0.1>;q=0.5\r\n", "Expires: 300\r\n")
	in, _ = FromSIP(req)
	resp = Response(req, r.Register(&in), clk.t)
	if resp.StatusCode != 200 {
		t.Fatalf("REGISTER: %s", resp.StartLine())
	}
	if c := resp.GetHeader("Contact").Value(); c != "<sip:alice@10.0.0.1>;expires=300;q=0.5" {
		t.Fatalf("Contact in the 200: %s", c)
	}
	if resp.GetHeader("Date") == nil {
		t.Fatal("the 200 has no Date")
	}
}

func fmtBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func itoa(n int) string { return strconv.Itoa(n) }
