package edge

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/sipfront/sipfront/runtime/sanity"
)

// Listener wraps the proxy's TCP listener: it refuses connections over
// the total and per-source limits (closing them at once) and hands sipgo
// connections that frame, check and flood-count every message before
// sipgo's stream parser sees it. Accept never fails for a refused
// connection: an error would stop sipgo's accept loop.
type Listener struct {
	net.Listener
	gd *Guard

	mu     sync.Mutex
	perSrc map[netip.Addr]int
}

// NewListener wraps l.
func NewListener(l net.Listener, gd *Guard) *Listener {
	return &Listener{Listener: l, gd: gd, perSrc: map[netip.Addr]int{}}
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if conn := l.admit(c); conn != nil {
			return conn, nil
		}
	}
}

// admit applies the connection limits to c; nil means c was closed.
func (l *Listener) admit(c net.Conn) net.Conn {
	lim := l.gd.Limits()
	var ip netip.Addr
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip = ta.AddrPort().Addr().Unmap()
	}
	l.mu.Lock()
	switch {
	case l.gd.tcpOpen.Load() >= int64(lim.TCPMaxConnections):
		l.mu.Unlock()
		l.gd.tcpRefused[refusedTotal].Add(1)
		c.Close()
		return nil
	case l.perSrc[ip] >= lim.TCPMaxPerSource:
		l.mu.Unlock()
		l.gd.tcpRefused[refusedPerSource].Add(1)
		c.Close()
		return nil
	}
	l.perSrc[ip]++
	l.gd.tcpOpen.Add(1)
	l.mu.Unlock()
	return &conn{Conn: c, l: l, ip: ip, fr: sanity.NewFramer(sanity.Limits{MaxMessage: lim.MaxMessageTCP}),
		buf: make([]byte, 4096)}
}

func (l *Listener) release(ip netip.Addr) {
	l.mu.Lock()
	if l.perSrc[ip]--; l.perSrc[ip] <= 0 {
		delete(l.perSrc, ip)
	}
	l.gd.tcpOpen.Add(-1)
	l.mu.Unlock()
}

// conn is one inbound connection. sipgo reads it from one goroutine and
// writes it from others; only Read touches the framing state.
type conn struct {
	net.Conn
	l  *Listener
	ip netip.Addr
	fr *sanity.Framer
	// buf receives reads; out holds checked octets not yet handed to
	// sipgo; partial is when the framer started holding an incomplete
	// message (zero when it holds none).
	buf, out, store []byte
	partial         time.Time
	closing         bool
	once            sync.Once
}

// Read implements net.Conn: it returns only octets of messages that
// passed, and io.EOF after a framing error or a timeout (sipgo then closes
// the connection quietly).
func (c *conn) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.closing {
			return 0, io.EOF
		}
		c.setDeadline()
		n, err := c.Conn.Read(c.buf)
		if n > 0 {
			c.fr.Feed(c.buf[:n])
			c.drain()
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.countTimeout()
				return 0, io.EOF
			}
			if len(c.out) == 0 {
				return 0, err
			}
			c.closing = true
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// setDeadline arms the idle timeout, or the incomplete-message timeout
// while part of a message waits.
func (c *conn) setDeadline() {
	lim := c.l.gd.Limits()
	now := time.Now()
	if c.fr.Pending() {
		if c.partial.IsZero() {
			c.partial = now
		}
		_ = c.Conn.SetReadDeadline(c.partial.Add(lim.TCPMessageTimeout))
		return
	}
	c.partial = time.Time{}
	_ = c.Conn.SetReadDeadline(now.Add(lim.TCPIdleTimeout))
}

func (c *conn) countTimeout() {
	if c.fr.Pending() {
		c.l.gd.tcpRefused[closedIncomplete].Add(1)
	} else {
		c.l.gd.tcpRefused[closedIdle].Add(1)
	}
}

// drain takes every whole message out of the framer.
func (c *conn) drain() {
	gd := c.l.gd
	conf := gd.conf.Load()
	// Move what sipgo has not read yet to the front of the buffer, so
	// that it does not grow with every message.
	c.out = append(c.store[:0], c.out...)
	defer func() { c.store = c.out[:0] }()
	for !c.closing {
		msg, fr := c.fr.Next()
		switch fr {
		case sanity.NeedMore:
			return
		case sanity.Keepalive:
			_, _ = c.Conn.Write([]byte("\r\n")) // RFC 5626 §4.4.1 pong
			continue
		case sanity.Broken:
			v := c.fr.Failure()
			gd.tcpRefused[closedFraming].Add(1)
			gd.count(v, v.Action == sanity.Answer && c.answer(msg, v, conf.extra))
			c.closing = true
			return
		}
		if !isResponse(msg) {
			switch gd.checkFlood(conf, c.ip, time.Now()) {
			case floodDrop:
				continue
			case floodReply:
				if !isAck(msg) {
					c.answer(msg, busy, conf.retry503)
				}
				continue
			}
		}
		v := conf.tcp.Check(msg, sanity.Streamed)
		switch v.Action {
		case sanity.Pass:
			c.out = append(c.out, msg[:sanity.Normalize(msg)]...)
		case sanity.Answer:
			gd.count(v, c.answer(msg, v, conf.extra))
		default:
			gd.count(v, false)
		}
	}
}

// answer writes the response to msg on the connection (RFC 3261 §18.2.2:
// a reliable transport answers on the connection the request came on).
func (c *conn) answer(msg []byte, v sanity.Verdict, extra string) bool {
	out := sanity.AppendReply(nil, msg, v, extra)
	if len(out) == 0 {
		return false
	}
	_, err := c.Conn.Write(out)
	return err == nil
}

// Close implements net.Conn; the limits count the connection once.
func (c *conn) Close() error {
	c.once.Do(func() { c.l.release(c.ip) })
	return c.Conn.Close()
}
