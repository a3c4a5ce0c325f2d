package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// rawUA is a SIP user agent written by hand over one UDP socket, for tests
// that must control every header (forged route sets, unknown tags) or see
// every message the proxy sends (topology hiding). It keeps every datagram
// it receives.
type rawUA struct {
	name string
	conn *net.UDPConn
	addr string
	in   chan sip.Message
	mu   sync.Mutex
	seen [][]byte
}

// newRawUA listens on ip:0.
func newRawUA(t *testing.T, name, ip string) *rawUA {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatalf("%s: listen: %v", name, err)
	}
	u := &rawUA{name: name, conn: conn, addr: conn.LocalAddr().String(), in: make(chan sip.Message, 64)}
	go u.read()
	t.Cleanup(func() { conn.Close() })
	return u
}

func (u *rawUA) read() {
	buf := make([]byte, 65535)
	for {
		n, _, err := u.conn.ReadFrom(buf)
		if err != nil {
			close(u.in)
			return
		}
		data := bytes.Clone(buf[:n])
		u.mu.Lock()
		u.seen = append(u.seen, data)
		u.mu.Unlock()
		msg, err := sip.NewParser().ParseSIP(data)
		if err != nil {
			continue
		}
		u.in <- msg
	}
}

// received returns every datagram received so far.
func (u *rawUA) received() [][]byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slicesClone(u.seen)
}

func slicesClone(b [][]byte) [][]byte { return append([][]byte(nil), b...) }

func (u *rawUA) send(t *testing.T, to string, data []byte) {
	t.Helper()
	raddr, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.conn.WriteTo(data, raddr); err != nil {
		t.Fatalf("%s: send to %s: %v", u.name, to, err)
	}
}

// expect waits for the first message that ok accepts, skipping others.
func (u *rawUA) expect(t *testing.T, what string, wait time.Duration, ok func(sip.Message) bool) sip.Message {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case m, open := <-u.in:
			if !open {
				t.Fatalf("%s: socket closed while waiting for %s", u.name, what)
			}
			if ok(m) {
				return m
			}
		case <-deadline:
			t.Fatalf("%s: no %s within %v", u.name, what, wait)
			return nil
		}
	}
}

// request waits for a request of method.
func (u *rawUA) request(t *testing.T, method sip.RequestMethod, wait time.Duration) *sip.Request {
	t.Helper()
	return u.expect(t, string(method), wait, func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == method
	}).(*sip.Request)
}

// final waits for a final response to a request of method.
func (u *rawUA) final(t *testing.T, method sip.RequestMethod, wait time.Duration) *sip.Response {
	t.Helper()
	return u.expect(t, "final answer to "+string(method), wait, func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode >= 200 && r.CSeq() != nil && r.CSeq().MethodName == method
	}).(*sip.Response)
}

// respond answers req; toTag is added to To when it has none; contact,
// when set, becomes the Contact.
func (u *rawUA) respond(t *testing.T, req *sip.Request, code int, toTag, contact string, body []byte) {
	t.Helper()
	res := sip.NewResponseFromRequest(req, code, reasons[code], body)
	if to := res.To(); to != nil && toTag != "" && !req.To().Params.Has("tag") {
		// sipgo adds a random To tag of its own; the UA's is the one.
		to.Params.Remove("tag")
		to.Params.Add("tag", toTag)
	}
	if contact != "" {
		res.AppendHeader(sip.NewHeader("Contact", contact))
	}
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	u.send(t, responseDest(req), []byte(res.String()))
}

var reasons = map[int]string{180: "Ringing", 200: "OK", 486: "Busy Here"}

// responseDest is where the response to req goes: its top Via's received
// and rport, else its sent-by.
func responseDest(req *sip.Request) string {
	v := req.Via()
	host, port := v.Host, v.Port
	if r, ok := v.Params.Get("received"); ok && r != "" {
		host = r
	}
	if p, ok := v.Params.Get("rport"); ok && p != "" {
		fmt.Sscan(p, &port)
	}
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(host, fmt.Sprint(port))
}

// sdp is a session description naming ip.
func sdp(ip string) []byte {
	return []byte("v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n")
}

// rawDialog is one party's view of a dialog.
type rawDialog struct {
	ua                  *rawUA
	callID              string
	local, remote       string // name-addr without tag
	localTag, remoteTag string
	target              string   // remote Contact URI
	routes              []string // route set, in Route order
	cseq                int
	proxy               string // where requests are sent (the proxy)
	invite              []byte // the caller's initial INVITE, as sent
}

// request builds an in-dialog request; routes overrides the route set when
// not nil.
func (d *rawDialog) request(method string, routes []string, body []byte) []byte {
	if method != "ACK" {
		d.cseq++
	}
	if routes == nil {
		routes = d.routes
	}
	lines := []string{
		method + " " + d.target + " SIP/2.0",
		"Via: SIP/2.0/UDP " + d.ua.addr + ";branch=z9hG4bK-" + randTag() + ";rport",
	}
	for _, r := range routes {
		lines = append(lines, "Route: "+r)
	}
	lines = append(lines,
		"Max-Forwards: 70",
		"From: "+d.local+";tag="+d.localTag,
		"To: "+d.remote+";tag="+d.remoteTag,
		"Call-ID: "+d.callID,
		fmt.Sprintf("CSeq: %d %s", d.cseq, method),
		"Contact: <sip:"+d.ua.name+"@"+d.ua.addr+">",
	)
	if body != nil {
		lines = append(lines, "Content-Type: application/sdp")
	}
	lines = append(lines, fmt.Sprintf("Content-Length: %d", len(body)), "")
	return append(crlf(lines...), body...)
}

func randTag() string { return fmt.Sprintf("%x", rand.Uint64()) }

// rawCall sets up a call from caller through the proxy to box: INVITE,
// 180 and 200 from the box, ACK. It returns both parties' dialogs.
func rawCall(t *testing.T, caller, box *rawUA, proxy, user string) (*rawDialog, *rawDialog) {
	t.Helper()
	return rawCallEarly(t, caller, box, proxy, user, nil)
}

// rawCallEarly is rawCall that runs early, when not nil, with the box's
// early dialog between its 180 and its 200.
func rawCallEarly(t *testing.T, caller, box *rawUA, proxy, user string, early func(bd *rawDialog)) (*rawDialog, *rawDialog) {
	t.Helper()
	cid, ftag := randTag()+"@caller.example", randTag()
	from, to := "<sip:alice@outside.example>", "<sip:"+user+"@sipfront.test>"
	body := sdp("192.0.2.10")
	inv := crlf(
		"INVITE sip:"+user+"@"+proxy+" SIP/2.0",
		"Via: SIP/2.0/UDP "+caller.addr+";branch=z9hG4bK-"+randTag()+";rport",
		"Max-Forwards: 70",
		"From: "+from+";tag="+ftag,
		"To: "+to,
		"Call-ID: "+cid,
		"CSeq: 1 INVITE",
		"Contact: <sip:alice@"+caller.addr+">",
		"Content-Type: application/sdp",
		fmt.Sprintf("Content-Length: %d", len(body)),
		"",
	)
	caller.send(t, proxy, append(inv, body...))
	in := box.request(t, sip.INVITE, 10*time.Second)
	btag := randTag()
	contact := "<sip:box@" + box.addr + ">"
	box.respond(t, in, 180, btag, contact, nil)
	bd := &rawDialog{ua: box, callID: cid, local: to, remote: from, localTag: btag, remoteTag: ftag, proxy: proxy}
	bd.target = in.Contact().Address.String()
	for _, h := range in.GetHeaders("Record-Route") {
		bd.routes = append(bd.routes, h.Value())
	}
	if early != nil {
		early(bd)
	}
	box.respond(t, in, 200, btag, contact, sdp(strings.Split(box.addr, ":")[0]))
	ok := caller.final(t, sip.INVITE, 10*time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("call answered %d, want 200", ok.StatusCode)
	}
	cd := &rawDialog{ua: caller, callID: cid, local: from, remote: to, localTag: ftag, cseq: 1, proxy: proxy,
		invite: append(inv, body...)}
	cd.remoteTag, _ = ok.To().Params.Get("tag")
	cd.target = ok.Contact().Address.String()
	rr := ok.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		cd.routes = append(cd.routes, rr[i].Value())
	}
	caller.send(t, proxy, cd.request("ACK", nil, nil))
	box.request(t, sip.ACK, 10*time.Second)
	return cd, bd
}

// transact sends an in-dialog request from d and has the other party (peer,
// nil when nobody should get it) answer code; it returns the final status
// the sender got.
func transact(t *testing.T, d *rawDialog, method sip.RequestMethod, peer *rawUA, code int) int {
	t.Helper()
	d.ua.send(t, d.proxy, d.request(string(method), nil, nil))
	if peer != nil {
		req := peer.request(t, method, 10*time.Second)
		peer.respond(t, req, code, "", "", nil)
	}
	return d.ua.final(t, method, 10*time.Second).StatusCode
}
