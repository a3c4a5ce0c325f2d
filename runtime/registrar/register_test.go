package registrar

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time source for the tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestRegistrar(t *testing.T, st Store, lim Limits) (*Registrar, *clock) {
	t.Helper()
	c := &clock{t: t0}
	r, err := New(st, Policy{Limits: lim, IsLocal: func(h string) bool { return h == "sipfront.test" }})
	if err != nil {
		t.Fatal(err)
	}
	r.now = c.now
	return r, c
}

var lim = Limits{MinExpires: 60 * time.Second, MaxExpires: time.Hour, MaxContacts: 3}

// reg builds a REGISTER for alice with the given contacts ("uri" or
// "uri;expires" pairs through ct).
func reg(callID string, cseq uint32, expires int, cs ...Contact) *Request {
	return &Request{User: "alice", Domain: "sipfront.test", Contacts: cs, Expires: expires,
		CallID: callID, CSeq: cseq, Source: "192.0.2.1:40000", Transport: "UDP", UserAgent: "test"}
}

func ct(uri string, expires, q int) Contact { return Contact{URI: uri, Expires: expires, Q: q} }

func TestRegisterRules(t *testing.T) {
	a := "sip:alice@10.0.0.1:5060"
	b := "sip:alice@10.0.0.2:5060"
	c := "sip:alice@10.0.0.3:5060"
	d := "sip:alice@10.0.0.4:5060"
	type step struct {
		req     *Request
		advance time.Duration
		status  int
		// want lists the contacts after the step with remaining seconds.
		want string
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"expires param", []step{{req: reg("c1", 1, NoExpires, ct(a, 120, QUnset)), status: 200, want: a + "=120"}}},
		{"Expires header", []step{{req: reg("c1", 1, 300, ct(a, NoExpires, QUnset)), status: 200, want: a + "=300"}}},
		{"param wins over header", []step{{req: reg("c1", 1, 300, ct(a, 90, QUnset)), status: 200, want: a + "=90"}}},
		{"default expiry clamped to max", []step{{req: reg("c1", 1, NoExpires, ct(a, NoExpires, QUnset)), status: 200, want: a + "=3600"}}},
		{"max_expires clamps", []step{{req: reg("c1", 1, 86400, ct(a, NoExpires, QUnset)), status: 200, want: a + "=3600"}}},
		{"under min_expires is 423", []step{{req: reg("c1", 1, 30, ct(a, NoExpires, QUnset)), status: 423, want: ""}}},
		{"423 leaves bindings", []step{
			{req: reg("c1", 1, 120, ct(a, NoExpires, QUnset)), status: 200, want: a + "=120"},
			{req: reg("c1", 2, 120, ct(b, 10, QUnset)), status: 423, want: a + "=120"},
		}},
		{"refresh", []step{
			{req: reg("c1", 1, 120, ct(a, NoExpires, QUnset)), status: 200, want: a + "=120"},
			{req: reg("c1", 2, 300, ct(a, NoExpires, QUnset)), advance: 100 * time.Second, status: 200, want: a + "=300"},
		}},
		{"expires 0 removes one", []step{
			{req: reg("c1", 1, 120, ct(a, NoExpires, QUnset), ct(b, NoExpires, QUnset)), status: 200, want: a + "=120 " + b + "=120"},
			{req: reg("c1", 2, 0, ct(a, NoExpires, QUnset)), status: 200, want: b + "=120"},
		}},
		{"q kept", []step{{req: reg("c1", 1, 120, ct(a, NoExpires, 500), ct(b, NoExpires, 1000)), status: 200, want: a + "=120;q=0.5 " + b + "=120;q=1.0"}}},
		{"query lists bindings", []step{
			{req: reg("c1", 1, 120, ct(a, NoExpires, QUnset)), status: 200, want: a + "=120"},
			{req: reg("c9", 1, NoExpires), advance: 20 * time.Second, status: 200, want: a + "=100"},
		}},
		{"star with Expires 0 removes all", []step{
			{req: reg("c1", 1, 120, ct(a, NoExpires, QUnset), ct(b, NoExpires, QUnset)), status: 200, want: a + "=120 " + b + "=120"},
			{req: star("c1", 2, 0), status: 200, want: ""},
		}},
		{"star without Expires is 400", []step{
			{req: reg("c1", 1, 120, ct(a, NoExpires, QUnset)), status: 200, want: a + "=120"},
			{req: star("c1", 2, NoExpires), status: 400, want: a + "=120"},
		}},
		{"star with Expires 60 is 400", []step{{req: star("c1", 2, 60), status: 400, want: ""}}},
		{"star with another contact is 400", []step{{req: func() *Request { r := star("c1", 2, 0); r.Contacts = []Contact{ct(a, 0, QUnset)}; return r }(), status: 400}}},
		{"star with stale CSeq is refused", []step{
			{req: reg("c1", 5, 120, ct(a, NoExpires, QUnset)), status: 200, want: a + "=120"},
			{req: star("c1", 4, 0), status: 400, want: a + "=120"},
		}},
		{"same Call-ID lower CSeq refused", []step{
			{req: reg("c1", 5, 120, ct(a, NoExpires, QUnset)), status: 200, want: a + "=120"},
			{req: reg("c1", 4, 300, ct(a, NoExpires, QUnset)), status: 400, want: a + "=120"},
		}},
		{"same Call-ID same CSeq refused", []step{
			{req: reg("c1", 5, 120, ct(a, NoExpires, QUnset)), status: 200, want: a + "=120"},
			{req: reg("c1", 5, 0, ct(a, NoExpires, QUnset)), status: 400, want: a + "=120"},
		}},
		{"other Call-ID may update with any CSeq", []step{
			{req: reg("c1", 5, 120, ct(a, NoExpires, QUnset)), status: 200, want: a + "=120"},
			{req: reg("c2", 1, 300, ct(a, NoExpires, QUnset)), status: 200, want: a + "=300"},
		}},
		{"refused CSeq aborts the whole request", []step{
			{req: reg("c1", 5, 120, ct(a, NoExpires, QUnset)), status: 200, want: a + "=120"},
			{req: reg("c1", 3, 120, ct(b, NoExpires, QUnset), ct(a, NoExpires, QUnset)), status: 400, want: a + "=120"},
		}},
		{"max_contacts replaces the oldest", []step{
			{req: reg("c1", 1, 120, ct(a, NoExpires, QUnset)), status: 200, want: a + "=120"},
			{req: reg("c2", 1, 120, ct(b, NoExpires, QUnset)), advance: time.Second, status: 200, want: a + "=119 " + b + "=120"},
			{req: reg("c3", 1, 120, ct(c, NoExpires, QUnset)), advance: time.Second, status: 200, want: a + "=118 " + b + "=119 " + c + "=120"},
			{req: reg("c4", 1, 120, ct(d, NoExpires, QUnset)), advance: time.Second, status: 200, want: b + "=118 " + c + "=119 " + d + "=120"},
		}},
		{"more contacts than max_contacts in one request is 403", []step{
			{req: reg("c1", 1, 120, ct(a, NoExpires, QUnset), ct(b, NoExpires, QUnset), ct(c, NoExpires, QUnset), ct(d, NoExpires, QUnset)), status: 403, want: ""},
		}},
		{"expired bindings vanish", []step{
			{req: reg("c1", 1, 60, ct(a, NoExpires, QUnset)), status: 200, want: a + "=60"},
			{req: reg("c2", 1, 120, ct(b, NoExpires, QUnset)), advance: 61 * time.Second, status: 200, want: b + "=120"},
		}},
		{"foreign domain is 404", []step{{req: func() *Request { r := reg("c1", 1, 120, ct(a, NoExpires, QUnset)); r.Domain = "evil.test"; return r }(), status: 404}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, clk := newTestRegistrar(t, MemStore{}, lim)
			for i, s := range tc.steps {
				clk.t = clk.t.Add(s.advance)
				res := r.Register(s.req)
				if res.Status != s.status {
					t.Fatalf("step %d: status %d %q, want %d", i, res.Status, res.Reason, s.status)
				}
				if got := render(r.Contacts("alice", nil), clk.t); got != s.want {
					t.Fatalf("step %d: bindings %q, want %q", i, got, s.want)
				}
				if res.Status == 200 && render(sortedCopy(res.Bindings), clk.t) != s.want {
					t.Fatalf("step %d: the 200 lists %q, want %q", i, render(res.Bindings, clk.t), s.want)
				}
				if res.Status == 423 && res.MinExpires != 60 {
					t.Fatalf("step %d: Min-Expires %d, want 60", i, res.MinExpires)
				}
			}
		})
	}
}

func star(callID string, cseq uint32, expires int) *Request {
	r := reg(callID, cseq, expires)
	r.Star = true
	return r
}

func sortedCopy(bs []Binding) []Binding {
	out := append([]Binding(nil), bs...)
	SortByQ(out)
	return out
}

// render lists bindings as "uri=remaining[;q=]" ordered by URI.
func render(bs []Binding, now time.Time) string {
	out := append([]Binding(nil), bs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].URI < out[j-1].URI; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	s := ""
	for i, b := range out {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s=%d", b.URI, b.Remaining(now))
		if b.Q != QUnset {
			s += ";q=" + FormatQ(b.Q)
		}
	}
	return s
}

func TestContactsOrder(t *testing.T) {
	r, clk := newTestRegistrar(t, MemStore{}, Limits{MinExpires: time.Second, MaxExpires: time.Hour, MaxContacts: 10})
	r.Register(reg("c1", 1, 120, ct("sip:low@h", NoExpires, 100)))
	clk.t = clk.t.Add(time.Second)
	r.Register(reg("c2", 1, 120, ct("sip:none@h", NoExpires, QUnset)))
	clk.t = clk.t.Add(time.Second)
	r.Register(reg("c3", 1, 120, ct("sip:mid@h", NoExpires, 500)))
	clk.t = clk.t.Add(time.Second)
	r.Register(reg("c4", 1, 120, ct("sip:top@h", NoExpires, 1000)))
	var got []string
	for _, b := range r.Contacts("alice", nil) {
		got = append(got, b.URI)
	}
	want := "[sip:top@h sip:none@h sip:mid@h sip:low@h]"
	if fmt.Sprint(got) != want {
		t.Fatalf("order %v, want %s (q high first, the newest first among equal q)", got, want)
	}
	if !r.Registered("alice") || r.Registered("bob") {
		t.Fatal("Registered disagrees with the bindings")
	}
}

func TestQ(t *testing.T) {
	for _, tc := range []struct {
		in   string
		q    int
		ok   bool
		back string
	}{
		{"1", 1000, true, "1.0"}, {"1.0", 1000, true, "1.0"}, {"0.5", 500, true, "0.5"}, {"0.25", 250, true, "0.25"},
		{"0.001", 1, true, "0.001"}, {"0", 0, true, "0.0"}, {"1.5", 0, false, ""}, {"2", 0, false, ""}, {"0.x", 0, false, ""}, {"", 0, false, ""},
	} {
		q, ok := ParseQ(tc.in)
		if ok != tc.ok || (ok && (q != tc.q || FormatQ(q) != tc.back)) {
			t.Errorf("ParseQ(%q) = %d %v (%s), want %d %v (%s)", tc.in, q, ok, FormatQ(q), tc.q, tc.ok, tc.back)
		}
	}
}

// TestOutcomes: every answer Register can give maps to a listed result, so
// the metrics have a series for it.
func TestOutcomes(t *testing.T) {
	listed := map[string]bool{}
	for _, r := range Results {
		listed[r] = true
	}
	for _, res := range []Result{{Status: 200}, {Status: 404}, {Status: 400}, {Status: 400, Reason: reasonCSeq},
		{Status: 423}, {Status: 403}, {Status: 500}} {
		if !listed[res.Outcome()] {
			t.Errorf("%d %q -> %q, not in Results", res.Status, res.Reason, res.Outcome())
		}
	}
}
