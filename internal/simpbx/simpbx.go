// Package simpbx simulates Asterisk boxes for the demo and for tests: a
// small sipgo user agent server that answers INVITE (180, then 200 or 503),
// BYE and OPTIONS, and counts what it saw.
//
// It is not a PBX: there is no media, no dial plan and no re-INVITE handling.
// It answers enough of a call for a proxy in front of it to be exercised.
package simpbx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Mode says how a box answers INVITEs.
type Mode int32

// Answer modes.
const (
	// Answer rings and answers 200 OK (a healthy box).
	Answer Mode = iota
	// Reject answers 503 Service Unavailable (a box that is out of service),
	// which makes a proxy with failover try the next member.
	Reject
	// Silent never answers an INVITE (a hung box).
	Silent
)

// String returns the mode's name as the demo prints it.
func (m Mode) String() string {
	switch m {
	case Answer:
		return "answer"
	case Reject:
		return "503"
	case Silent:
		return "silent"
	}
	return fmt.Sprintf("mode(%d)", int32(m))
}

// Stats counts what a box saw.
type Stats struct {
	// Invites is the number of initial INVITEs received (retransmissions
	// are absorbed by the transaction layer and not counted).
	Invites int64
	// Answered is the number of INVITEs answered 200.
	Answered int64
	// Rejected is the number of INVITEs answered 503.
	Rejected int64
	// Byes is the number of BYEs answered.
	Byes int64
	// Options is the number of OPTIONS answered.
	Options int64
}

// Box is one simulated Asterisk box listening on UDP.
type Box struct {
	name string
	conn net.PacketConn
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	mode atomic.Int32

	invites, answered, rejected, byes, options atomic.Int64

	done chan struct{}
	once sync.Once
}

// Start listens on addr (udp, "127.0.0.1:0" picks a free port) and serves
// until ctx ends or Close is called. logger may be nil.
func Start(ctx context.Context, name, addr string, mode Mode, logger *slog.Logger) (*Box, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("box %s: listen %s: %w", name, addr, err)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(name))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("box %s: user agent: %w", name, err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(logger))
	if err != nil {
		conn.Close()
		ua.Close()
		return nil, fmt.Errorf("box %s: server: %w", name, err)
	}
	b := &Box{name: name, conn: conn, ua: ua, srv: srv, done: make(chan struct{})}
	b.mode.Store(int32(mode))
	b.register()
	go b.serve(ctx)
	return b, nil
}

// serve runs the UDP read loop and closes the box when ctx ends.
func (b *Box) serve(ctx context.Context) {
	go func() {
		select {
		case <-ctx.Done():
			b.Close()
		case <-b.done:
		}
	}()
	// ServeUDP returns when the socket is closed; that is the normal end.
	_ = b.srv.ServeUDP(b.conn)
}

// register installs the handlers. sipgo's handler map is not locked, so
// this runs before the socket is served.
func (b *Box) register() {
	b.srv.OnInvite(b.onInvite)
	b.srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	b.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		b.byes.Add(1)
		b.respond(tx, sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	b.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		b.options.Add(1)
		b.respond(tx, sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
}

// onInvite rings, then answers according to the box's mode.
func (b *Box) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	b.invites.Add(1)
	mode := Mode(b.mode.Load())
	if mode == Silent {
		// Hold the transaction open so retransmissions are absorbed, until
		// the caller side gives up (CANCEL) or the transaction ends.
		<-tx.Done()
		return
	}
	if mode == Reject {
		b.rejected.Add(1)
		b.respond(tx, sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		return
	}
	// Every response to one INVITE must carry the same To tag, so the tag
	// is fixed on a copy of the request before the responses are built.
	tagged := req.Clone()
	if to := tagged.To(); to != nil {
		to.Params.Add("tag", sip.GenerateTagN(16))
	}
	b.respond(tx, b.withContact(sip.NewResponseFromRequest(tagged, 180, "Ringing", nil)))
	ok := sip.NewResponseFromRequest(tagged, 200, "OK", b.sdp())
	ok.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	b.answered.Add(1)
	b.respond(tx, b.withContact(ok))
}

// withContact adds the box's Contact, so in-dialog requests come back here.
func (b *Box) withContact(res *sip.Response) *sip.Response {
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: b.host(), Port: b.port()}})
	return res
}

// respond sends res; a failure only means the caller went away.
func (b *Box) respond(tx sip.ServerTransaction, res *sip.Response) {
	_ = tx.Respond(res)
}

// sdp is a minimal audio offer answer; nothing listens on its port.
func (b *Box) sdp() []byte {
	return []byte("v=0\r\no=" + b.name + " 1 1 IN IP4 " + b.host() + "\r\ns=-\r\nc=IN IP4 " + b.host() +
		"\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
}

// Name returns the box's name.
func (b *Box) Name() string { return b.name }

// Addr returns the box's listening address (ip:port).
func (b *Box) Addr() string { return b.conn.LocalAddr().String() }

// URI returns the box's SIP URI, as a pool member's uri.
func (b *Box) URI() string { return "sip:" + b.Addr() }

func (b *Box) host() string { return b.conn.LocalAddr().(*net.UDPAddr).IP.String() }
func (b *Box) port() int    { return b.conn.LocalAddr().(*net.UDPAddr).Port }

// SetMode changes how the box answers the next INVITEs.
func (b *Box) SetMode(m Mode) { b.mode.Store(int32(m)) }

// Mode returns how the box answers INVITEs now.
func (b *Box) Mode() Mode { return Mode(b.mode.Load()) }

// Stats returns a snapshot of the box's counters.
func (b *Box) Stats() Stats {
	return Stats{
		Invites:  b.invites.Load(),
		Answered: b.answered.Load(),
		Rejected: b.rejected.Load(),
		Byes:     b.byes.Load(),
		Options:  b.options.Load(),
	}
}

// Close stops the box. It is safe to call more than once.
func (b *Box) Close() error {
	var err error
	b.once.Do(func() {
		close(b.done)
		err = errors.Join(b.conn.Close(), b.srv.Close(), b.ua.Close())
	})
	if err != nil {
		return fmt.Errorf("box %s: close: %w", b.name, err)
	}
	return nil
}
