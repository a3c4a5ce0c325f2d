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
	s := startProxy(t, lcrGraph(t, port, exitPort, carriers...), nil)
	eventually(t, "the exit socket", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		code, err := s.OptionsCarrier(ctx, carriers[0])
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

// placeCall calls through the proxy on port, expects a 2xx, ACKs and hangs
// up.
func placeCall(t *testing.T, c *caller, port int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := c.invite(ctx, port, "udp", nil)
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	defer sess.Close()
	if err := sess.Ack(ctx); err != nil {
		t.Fatalf("ack: %v", err)
	}
	if err := sess.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
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
	placeCall(t, startCaller(t), port)
	checkLeg(t, gw, "127.0.0.2:"+strconv.Itoa(exitPort))
}
