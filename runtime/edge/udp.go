package edge

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/sipfront/sipfront/runtime/sanity"
)

// PacketConn wraps the proxy's UDP socket: ReadFrom returns only the
// datagrams that pass flood control and the raw check, cut to their
// Content-Length (RFC 3261 §18.3); it answers or drops the others itself.
// sipgo reads it from one goroutine per socket.
type PacketConn struct {
	net.PacketConn
	gd *Guard
	// mu guards reply, the buffer answers are built in.
	mu    sync.Mutex
	reply []byte
}

// NewPacketConn wraps c.
func NewPacketConn(c net.PacketConn, gd *Guard) *PacketConn {
	return &PacketConn{PacketConn: c, gd: gd, reply: make([]byte, 0, 4096)}
}

// ReadFrom implements net.PacketConn. On a *net.UDPConn it reads the
// source as a netip.AddrPort, which allocates nothing: the net.Addr sipgo
// wants is built only for a datagram that passes.
func (c *PacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	udp, _ := c.PacketConn.(*net.UDPConn)
	for {
		var (
			n   int
			src netip.AddrPort
			a   net.Addr
			err error
		)
		if udp != nil {
			n, src, err = udp.ReadFromUDPAddrPort(p)
		} else {
			n, a, err = c.PacketConn.ReadFrom(p)
			if ua, ok := a.(*net.UDPAddr); ok {
				src = ua.AddrPort()
			}
		}
		if err != nil {
			return n, a, err
		}
		if keep := c.admit(p[:n], src); keep > 0 {
			if a == nil {
				a = net.UDPAddrFromAddrPort(netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
			}
			return keep, a, nil
		}
	}
}

// admit decides one datagram and returns how many of its octets go on to
// sipgo; 0 means it was answered or dropped here.
func (c *PacketConn) admit(msg []byte, src netip.AddrPort) int {
	conf := c.gd.conf.Load()
	fv := floodPass
	if !isResponse(msg) && src.IsValid() {
		fv = c.gd.checkFlood(conf, src.Addr(), time.Now())
	}
	switch fv {
	case floodDrop:
		return 0
	case floodReply:
		if !isAck(msg) { // an ACK is never answered
			c.answer(msg, src, busy, conf.retry503)
		}
		return 0
	}
	v := conf.udp.Check(msg, sanity.Datagram)
	switch v.Action {
	case sanity.Pass:
		return sanity.Normalize(msg[:v.Len])
	case sanity.Answer:
		c.gd.count(v, c.answer(msg, src, v, conf.extra))
	default:
		c.gd.count(v, false)
	}
	return 0
}

// answer sends the response to a datagram: to its source address, at the
// source port when the top Via asks for rport and at the Via's port
// otherwise (RFC 3261 §18.2.2, RFC 3581 §4). It reports whether it sent.
func (c *PacketConn) answer(msg []byte, src netip.AddrPort, v sanity.Verdict, extra string) bool {
	if !src.IsValid() {
		return false
	}
	port, rport, ok := sanity.TopVia(msg)
	if !ok {
		return false
	}
	dst := src
	if !rport {
		if port == 0 {
			port = 5060
		}
		dst = netip.AddrPortFrom(src.Addr(), uint16(port))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reply = sanity.AppendReply(c.reply[:0], msg, v, extra)
	if len(c.reply) == 0 {
		return false
	}
	_, err := c.PacketConn.WriteTo(c.reply, net.UDPAddrFromAddrPort(dst))
	return err == nil
}
