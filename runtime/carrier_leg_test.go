package runtime

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// gateway is an in-process carrier: a sipgo UA whose answer to each
// INVITE answer decides (200 answers with a dialog; 401 and 407 carry a
// challenge). It records every request it receives, with its source.
type gateway struct {
	port   int
	answer func(req *sip.Request) int
	mu     sync.Mutex
	got    []received
}

// received is one request a gateway got.
type received struct {
	method sip.RequestMethod
	cseq   uint32
	source string
	via    string
	rr     []string // Record-Route entries, host:port
}

func startGateway(t testing.TB, answer func(req *sip.Request) int) *gateway {
	t.Helper()
	gw := &gateway{port: freePort(t), answer: answer}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("gateway"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	srv, _ := sipgo.NewServer(ua)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		gw.record(req)
		code := gw.answer(req)
		res := sip.NewResponseFromRequest(req, code, "Answer", nil)
		switch code {
		case 200:
			res.To().Params.Add("tag", "gw"+strconv.Itoa(gw.port))
			res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "gw", Host: "127.0.0.1", Port: gw.port}})
		case 401:
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="carrier.test", nonce="n`+strconv.Itoa(gw.count(sip.INVITE))+`", qop="auth"`))
		case 407:
			res.AppendHeader(sip.NewHeader("Proxy-Authenticate", `Digest realm="carrier.test", nonce="n`+strconv.Itoa(gw.count(sip.INVITE))+`", qop="auth"`))
		}
		tx.Respond(res)
		if code == 200 {
			<-tx.Done() // keep answering retransmissions until the ACK
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { gw.record(req) })
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		gw.record(req)
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	serveBoth(t, ctx, srv, "127.0.0.1:"+strconv.Itoa(gw.port))
	return gw
}

func (gw *gateway) record(req *sip.Request) {
	r := received{method: req.Method, source: req.Source()}
	if c := req.CSeq(); c != nil {
		r.cseq = c.SeqNo
	}
	if v := req.Via(); v != nil {
		r.via = v.Host + ":" + strconv.Itoa(v.Port)
	}
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			r.rr = append(r.rr, rr.Address.Host+":"+strconv.Itoa(rr.Address.Port))
		}
	}
	gw.mu.Lock()
	gw.got = append(gw.got, r)
	gw.mu.Unlock()
}

// requests returns the requests of method the gateway received.
func (gw *gateway) requests(method sip.RequestMethod) []received {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	var out []received
	for _, r := range gw.got {
		if r.method == method {
			out = append(out, r)
		}
	}
	return out
}

func (gw *gateway) count(method sip.RequestMethod) int { return len(gw.requests(method)) }

// carrierOf declares gateway gw as carrier name, tried in order of prio.
func carrierOf(gw *gateway, name string, prio int, tune func(*graph.Carrier)) *graph.Carrier {
	c := &graph.Carrier{ID: graph.ID("carrier." + name), Name: name, Host: "127.0.0.1", Port: gw.port,
		URI: "sip:127.0.0.1:" + strconv.Itoa(gw.port), Transport: "udp", Priority: prio, Weight: 1,
		Prefixes: []graph.CarrierPrefix{{Prefix: "", Priority: int32(prio)}},
		Failover: graph.Failover{On: []int{503}, MaxTries: 3, Timeout: 2 * time.Second}}
	if tune != nil {
		tune(c)
	}
	return c
}

// lcrGraph routes every call to the carriers, from an exit socket on
// 127.0.0.2 that is not the advertised address (127.0.0.1): carriers must
// see only the exit.
func lcrGraph(t testing.TB, port, exitPort int, carriers ...*graph.Carrier) *graph.Graph {
	exit := graph.Listen{Transport: "udp", Addr: net.JoinHostPort("127.0.0.2", strconv.Itoa(exitPort))}
	return testGraph(t, port, nil, func(g *graph.Graph) {
		g.Proxy.Listen = append(g.Proxy.Listen, exit)
		g.Proxy.Exit = exit
		for _, c := range carriers {
			c.Exit = exit
		}
		g.Carriers = carriers
		g.Pools = nil
		g.Routes = []*graph.Route{{ID: "route.pstn", Name: "pstn", Target: graph.TargetCarriers}}
	})
}

// startLCR runs the proxy on lcrGraph and waits until its exit socket
// carries an OPTIONS to the first carrier: sipgo registers a socket it
// serves a moment after the proxy is ready, and a request leaving from the
// exit before then fails.
func startLCR(t *testing.T, port, exitPort int, carriers ...*graph.Carrier) *Server {
	t.Helper()
	return startLCRGraph(t, lcrGraph(t, port, exitPort, carriers...))
}

// startLCRGraph is startLCR on g (made by lcrGraph).
func startLCRGraph(t *testing.T, g *graph.Graph) *Server {
	t.Helper()
	s := startProxy(t, g, nil)
	eventually(t, "the exit socket", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		code, err := s.OptionsCarrier(ctx, g.Carriers[0])
		return err == nil && code == 200
	})
	return s
}

// TestCarrierChallengeNotRelayed: a carrier that challenges again after
// the authorized INVITE, or one without credentials that challenges, never
// has its challenge reach the caller: the call fails over, and without
// another carrier the caller gets 503.
func TestCarrierChallengeNotRelayed(t *testing.T) {
	auth := func(c *graph.Carrier) { c.Auth = &graph.CarrierAuth{Username: "trunk01", Password: "s3cret"} }
	for _, tc := range []struct {
		name     string
		code     int
		auth     bool
		fallback bool
		want     int
	}{
		{"second 407, no other carrier", 407, true, false, 503},
		{"401 without credentials, no other carrier", 401, false, false, 503},
		{"second 401, next carrier answers", 401, true, true, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			strict := startGateway(t, func(*sip.Request) int { return tc.code })
			tune := func(*graph.Carrier) {}
			if tc.auth {
				tune = auth
			}
			carriers := []*graph.Carrier{carrierOf(strict, "strict", 1, tune)}
			var good *gateway
			if tc.fallback {
				good = startGateway(t, func(*sip.Request) int { return 200 })
				carriers = append(carriers, carrierOf(good, "good", 2, nil))
			}
			port := freePort(t)
			startLCR(t, port, freePort(t), carriers...)
			c := startCaller(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			sess, err := c.invite(ctx, port, "udp", nil)
			got := 200
			if err != nil {
				got = statusOf(err)
			}
			if got != tc.want {
				t.Fatalf("caller got %d (%v), want %d", got, err, tc.want)
			}
			if sess != nil && err == nil {
				sess.Ack(ctx)
				sess.Bye(ctx)
				sess.Close()
			}
			wantInvites := 1
			if tc.auth {
				wantInvites = 2
			}
			if n := strict.count(sip.INVITE); n != wantInvites {
				t.Errorf("the challenging carrier got %d INVITEs, want %d", n, wantInvites)
			}
		})
	}
}

// placeCall calls through the proxy on port over transport, expects a 2xx
// from gateway gw, ACKs and hangs up once gw has the ACK (the proxy
// handles each message on a goroutine of its own: a BYE right behind the
// ACK could end the dialog before the ACK is relayed).
func placeCall(t *testing.T, c *caller, port int, transport string, gw *gateway) *sipgo.DialogClientSession {
	t.Helper()
	sess := answeredCall(t, c, port, transport)
	eventually(t, "the carrier's ACK", func() bool { return gw.count(sip.ACK) > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sess.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	return sess
}

// answeredCall calls through the proxy on port over transport, expects a
// 2xx and ACKs it.
func answeredCall(t *testing.T, c *caller, port int, transport string) *sipgo.DialogClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := c.invite(ctx, port, transport, nil)
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	t.Cleanup(func() { sess.Close() })
	if err := sess.Ack(ctx); err != nil {
		t.Fatalf("ack: %v", err)
	}
	return sess
}

// checkLeg checks what a carrier got of one call: every request from the
// exit with the exit in Via, and the ACK and BYE numbered on the leg's
// CSeq (the last INVITE's, the ACK equal, the BYE above).
func checkLeg(t *testing.T, gw *gateway, exit string) {
	t.Helper()
	// The ACK and the BYE are handled on goroutines of their own at both
	// ends: either may be recorded first.
	eventually(t, "the carrier's ACK and BYE", func() bool { return gw.count(sip.ACK) > 0 && gw.count(sip.BYE) > 0 })
	invites, acks, byes := gw.requests(sip.INVITE), gw.requests(sip.ACK), gw.requests(sip.BYE)
	if len(invites) == 0 || len(acks) == 0 {
		t.Fatalf("carrier got %d INVITEs, %d ACKs", len(invites), len(acks))
	}
	inv := invites[len(invites)-1]
	if acks[0].cseq != inv.cseq || byes[0].cseq <= inv.cseq {
		t.Errorf("carrier leg CSeq: INVITE %d, ACK %d, BYE %d; want the ACK equal, the BYE above", inv.cseq, acks[0].cseq, byes[0].cseq)
	}
	for _, r := range [][]received{invites, acks, byes} {
		for _, m := range r {
			if m.source != exit || m.via != exit {
				t.Errorf("%s from %s with Via %s; want both the exit %s", m.method, m.source, m.via, exit)
			}
		}
	}
}

// TestCarrierInDialogFromExit: the caller's ACK and BYE reach the carrier
// from the exit socket with the exit in Via, like the INVITE (a carrier
// that filters by source address would drop them otherwise).
func TestCarrierInDialogFromExit(t *testing.T) {
	gw := startGateway(t, func(*sip.Request) int { return 200 })
	port, exitPort := freePort(t), freePort(t)
	startLCR(t, port, exitPort, carrierOf(gw, "acme", 1, nil))
	placeCall(t, startCaller(t), port, "udp", gw)
	checkLeg(t, gw, "127.0.0.2:"+strconv.Itoa(exitPort))
}

// challengeThen returns an answer that challenges a call's first INVITE
// (401) and answers the authorized one with code.
func challengeThen(code int) func(*sip.Request) int {
	return func(req *sip.Request) int {
		if req.GetHeader("Authorization") == nil {
			return 401
		}
		return code
	}
}

// TestCarrierShiftAfterFailover: the first carrier challenges and then
// refuses the authorized INVITE (503); the second answers. Its ACK and BYE
// carry its own leg's CSeq, not the first carrier's shifted one.
func TestCarrierShiftAfterFailover(t *testing.T) {
	auth := func(c *graph.Carrier) { c.Auth = &graph.CarrierAuth{Username: "trunk01", Password: "s3cret"} }
	strict := startGateway(t, challengeThen(503))
	good := startGateway(t, func(*sip.Request) int { return 200 })
	port, exitPort := freePort(t), freePort(t)
	startLCR(t, port, exitPort, carrierOf(strict, "strict", 1, auth), carrierOf(good, "good", 2, auth))
	placeCall(t, startCaller(t), port, "udp", good)
	if n := strict.count(sip.INVITE); n != 2 {
		t.Errorf("the first carrier got %d INVITEs, want 2 (challenged, then authorized)", n)
	}
	checkLeg(t, good, "127.0.0.2:"+strconv.Itoa(exitPort))
}

// TestCarrierMaxCallDuration: the proxy's own BYE at max_call_duration to
// a carrier that challenged is numbered on the leg's CSeq and leaves from
// the exit; the dialog's carrier state (its CSeq shift) goes with it.
func TestCarrierMaxCallDuration(t *testing.T) {
	auth := func(c *graph.Carrier) { c.Auth = &graph.CarrierAuth{Username: "trunk01", Password: "s3cret"} }
	gw := startGateway(t, challengeThen(200))
	port, exitPort := freePort(t), freePort(t)
	g := lcrGraph(t, port, exitPort, carrierOf(gw, "acme", 1, auth))
	g.Proxy.MaxCallDuration = time.Second
	s := startLCRGraph(t, g)
	c := startCaller(t)
	sess := answeredCall(t, c, port, "udp")
	cid, tag := sess.InviteRequest.CallID().Value(), sipmsg.Tag(sess.InviteRequest.From())
	if n := s.carriers.CSeqShift(cid, tag); n != 1 {
		t.Fatalf("CSeq shift during the call: %d, want 1", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for gw.count(sip.BYE) == 0 || c.byes.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after max_call_duration: carrier got %d BYEs, caller %d", gw.count(sip.BYE), c.byes.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkLeg(t, gw, "127.0.0.2:"+strconv.Itoa(exitPort))
	if n := s.carriers.CSeqShift(cid, tag); n != 0 {
		t.Errorf("CSeq shift after the call expired: %d, want 0", n)
	}
}

// TestCarrierDoubleRecordRoute: a caller over TCP, a carrier over UDP. The
// proxy's Record-Route entry for the inside transport (RFC 5658) names an
// inside address: the carrier sees only the exit's, the caller gets both
// back (its ACK and BYE go through the proxy over TCP and reach the
// carrier from the exit).
func TestCarrierDoubleRecordRoute(t *testing.T) {
	gw := startGateway(t, func(*sip.Request) int { return 200 })
	port, exitPort := freePort(t), freePort(t)
	startLCR(t, port, exitPort, carrierOf(gw, "acme", 1, nil))
	exit := "127.0.0.2:" + strconv.Itoa(exitPort)
	sess := placeCall(t, startCaller(t), port, "tcp", gw)
	if rrs := sess.InviteResponse.GetHeaders("Record-Route"); len(rrs) != 2 {
		t.Errorf("the caller's 200 has %d Record-Route entries, want 2 (exit, then inside)", len(rrs))
	}
	checkLeg(t, gw, exit)
	for _, inv := range gw.requests(sip.INVITE) {
		if len(inv.rr) != 1 || inv.rr[0] != exit {
			t.Errorf("the carrier's INVITE has Record-Route %v, want only the exit %s", inv.rr, exit)
		}
	}
}
