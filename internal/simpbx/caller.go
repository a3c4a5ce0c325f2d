package simpbx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Caller places calls through a proxy with sipgo: INVITE, ACK, BYE. It
// listens on its own UDP socket, so responses and in-dialog requests come
// back to one address.
type Caller struct {
	proxy sip.Uri
	conn  net.PacketConn
	ua    *sipgo.UserAgent
	srv   *sipgo.Server
	dua   *sipgo.DialogUA
	once  sync.Once
}

// Call describes one call to place.
type Call struct {
	// From and To are the user parts of the caller and callee (the domain
	// is "sipfront.test"); To is also the Request-URI user.
	From, To string
	// UserAgent is sent as the User-Agent header when set.
	UserAgent string
	// Headers are extra headers, e.g. Replaces for an attended transfer.
	Headers []sip.Header
	// AnswerTimeout bounds the wait for a final answer; a request that is
	// dropped silently ends with ErrNoAnswer after this time. Zero means 5s.
	AnswerTimeout time.Duration
}

// ErrNoAnswer is returned by Dial when no final answer came in time (the
// proxy dropped the request, or nobody answered).
var ErrNoAnswer = errors.New("no final answer")

// StatusError is returned by Dial when the call was answered with a
// non-2xx final response.
type StatusError struct {
	Status int
	Reason string
}

func (e *StatusError) Error() string { return fmt.Sprintf("call rejected: %d %s", e.Status, e.Reason) }

// NewCaller listens on a free UDP port of 127.0.0.1 and sends calls to the
// proxy at proxyAddr (ip:port, UDP).
func NewCaller(proxyAddr string, logger *slog.Logger) (*Caller, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	host, portStr, err := net.SplitHostPort(proxyAddr)
	if err != nil {
		return nil, fmt.Errorf("caller: proxy address %q: %w", proxyAddr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("caller: proxy port %q: %w", portStr, err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("caller: listen: %w", err)
	}
	c := &Caller{proxy: sip.Uri{Scheme: "sip", Host: host, Port: port}, conn: conn}
	if err := c.setup(logger); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// setup builds the user agent, the server (for BYEs from the far end) and
// the dialog client. Requests leave from sipgo's own socket (rport brings the
// responses back to it); the caller's socket is the Contact, for requests
// from the far end. Forcing requests onto the served socket races with
// ServeUDP registering it.
func (c *Caller) setup(logger *slog.Logger) error {
	local := c.conn.LocalAddr().(*net.UDPAddr)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("simpbx-caller"), sipgo.WithUserAgentHostname("sipfront.test"))
	if err != nil {
		return fmt.Errorf("caller: user agent: %w", err)
	}
	c.ua = ua
	c.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(logger))
	if err != nil {
		return fmt.Errorf("caller: server: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(logger),
		sipgo.WithClientHostname(local.IP.String()), sipgo.WithClientPort(local.Port),
		sipgo.WithClientNAT())
	if err != nil {
		return fmt.Errorf("caller: client: %w", err)
	}
	c.dua = &sipgo.DialogUA{
		Client:     client,
		ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "caller", Host: local.IP.String(), Port: local.Port}},
	}
	c.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = c.srv.ServeUDP(c.conn) }()
	return nil
}

// Dialog is an answered call.
type Dialog struct {
	sess *sipgo.DialogClientSession
	// CallID, FromTag and ToTag identify the dialog (for a Replaces header).
	CallID, FromTag, ToTag string
	// Remote is host:port of the 200's Contact: the box that answered.
	Remote string
}

// Dial places a call and waits for its final answer. On 2xx it sends the
// ACK and returns the dialog; on another final answer it returns a
// *StatusError; when nothing answers in time, ErrNoAnswer.
func (c *Caller) Dial(ctx context.Context, call Call) (*Dialog, error) {
	req := c.invite(call)
	wait := call.AnswerTimeout
	if wait == 0 {
		wait = 5 * time.Second
	}
	// The cause tells sipgo not to send a CANCEL and wait for Timer B when
	// the wait ends: a dropped request has nothing to cancel.
	wctx, cancel := context.WithTimeoutCause(ctx, wait, sipgo.WaitAnswerForceCancelErr)
	defer cancel()
	sess, err := c.dua.WriteInvite(wctx, req)
	if err != nil {
		return nil, fmt.Errorf("caller: send INVITE: %w", err)
	}
	if err := sess.WaitAnswer(wctx, sipgo.AnswerOptions{}); err != nil {
		sess.Close()
		return nil, answerError(err, wctx)
	}
	if err := sess.Ack(ctx); err != nil {
		sess.Close()
		return nil, fmt.Errorf("caller: send ACK: %w", err)
	}
	return newDialog(sess), nil
}

// answerError turns WaitAnswer's error into StatusError or ErrNoAnswer.
func answerError(err error, ctx context.Context) error {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return &StatusError{Status: de.Res.StatusCode, Reason: de.Res.Reason}
	}
	if ctx.Err() != nil {
		return ErrNoAnswer
	}
	return fmt.Errorf("caller: wait for answer: %w", err)
}

func newDialog(sess *sipgo.DialogClientSession) *Dialog {
	d := &Dialog{sess: sess, CallID: sess.InviteRequest.CallID().Value()}
	d.FromTag, _ = sess.InviteRequest.From().Params.Get("tag")
	d.ToTag, _ = sess.InviteResponse.To().Params.Get("tag")
	if c := sess.InviteResponse.Contact(); c != nil {
		d.Remote = c.Address.HostPort()
	}
	return d
}

// invite builds the INVITE; sipgo's default build adds Via, CSeq,
// Call-ID, Max-Forwards and Content-Length.
func (c *Caller) invite(call Call) *sip.Request {
	ruri := c.proxy
	ruri.User = call.To
	req := sip.NewRequest(sip.INVITE, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: call.From, Host: "sipfront.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: call.To, Host: "sipfront.test"}, Params: sip.NewParams()})
	if call.UserAgent != "" {
		req.AppendHeader(sip.NewHeader("User-Agent", call.UserAgent))
	}
	for _, h := range call.Headers {
		req.AppendHeader(h)
	}
	req.SetTransport("UDP")
	return req
}

// Replaces returns the value of a Replaces header naming this dialog
// (RFC 3891), as seen from the other party of the call.
func (d *Dialog) Replaces() string {
	return d.CallID + ";to-tag=" + d.ToTag + ";from-tag=" + d.FromTag
}

// Hangup sends BYE and waits for its 200.
func (d *Dialog) Hangup(ctx context.Context) error {
	if err := d.sess.Bye(ctx); err != nil {
		return fmt.Errorf("caller: BYE: %w", err)
	}
	return nil
}

// Addr returns the caller's own address (ip:port).
func (c *Caller) Addr() string { return c.conn.LocalAddr().String() }

// Close stops the caller. It is safe to call more than once.
func (c *Caller) Close() error {
	var err error
	c.once.Do(func() {
		err = errors.Join(c.conn.Close(), c.srv.Close(), c.ua.Close())
	})
	if err != nil {
		return fmt.Errorf("caller: close: %w", err)
	}
	return nil
}
