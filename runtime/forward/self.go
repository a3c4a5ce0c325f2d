// Package forward is the proxy's relaying machinery (RFC 3261 §16.6-16.7,
// §16.10): what the proxy knows of its own addresses (Via, Record-Route,
// loop detection), the forwarded copy of a request, the branch that drives
// one client transaction (Timer C, the no-answer deadline, CANCEL), and
// the stateless relay of stray 2xx responses. It knows nothing of pools,
// contacts or carriers: callers give it a destination.
package forward

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// Self is what the proxy knows about its own addresses: the advertised
// host:port written into Via and Record-Route, and the listeners, so that it
// recognises its own Route entries and Via headers.
type Self struct {
	host     string
	port     int
	hostPort string
	listen   []graph.Listen
	// udpLocal is the first UDP listener's socket address: requests to
	// UDP members leave from it (P2), never from an ephemeral socket.
	udpLocal atomic.Pointer[sip.Addr]
	// own lists every host:port that names this proxy.
	own map[string]bool
	// rr holds this proxy's Record-Route entry per transport (UDP, TCP,
	// ...). The headers are shared by every request sent: nothing
	// modifies a header once it is in a request.
	rr map[string]*sip.RecordRouteHeader
}

// NewSelf derives the proxy's addresses from the proxy block. The
// advertised address defaults to the first listener.
func NewSelf(p graph.Proxy) (*Self, error) {
	if len(p.Listen) == 0 {
		return nil, errors.New("proxy.listen is empty: nothing to serve")
	}
	s := &Self{listen: p.Listen, own: map[string]bool{}, rr: map[string]*sip.RecordRouteHeader{}}
	for _, l := range p.Listen {
		host, port, err := splitHostPort(l.Addr, 5060)
		if err != nil {
			return nil, fmt.Errorf("proxy.listen %q: %w", l.Addr, err)
		}
		s.own[net.JoinHostPort(host, strconv.Itoa(port))] = true
	}
	adv := p.Advertise
	if adv == "" {
		adv = p.Listen[0].Addr
	}
	firstPort := 5060
	if _, port, err := splitHostPort(p.Listen[0].Addr, 5060); err == nil {
		firstPort = port
	}
	host, port, err := splitHostPort(adv, firstPort)
	if err != nil {
		return nil, fmt.Errorf("proxy.advertise %q: %w", adv, err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return nil, fmt.Errorf("proxy.advertise is unset and the first listener %q is a wildcard address: set advertise", p.Listen[0].Addr)
	}
	s.host, s.port, s.hostPort = host, port, net.JoinHostPort(host, strconv.Itoa(port))
	s.own[s.hostPort] = true
	for _, t := range []string{"UDP", "TCP", "TLS", "WS", "WSS"} {
		s.rr[t] = s.newRecordRoute(t)
	}
	return s, nil
}

// splitHostPort splits host[:port], defaulting the port.
func splitHostPort(hp string, def int) (string, int, error) {
	if h, p, err := net.SplitHostPort(hp); err == nil {
		port, err := strconv.Atoi(p)
		if err != nil {
			return "", 0, fmt.Errorf("bad port %q", p)
		}
		return h, port, nil
	}
	if hp == "" {
		return "", 0, errors.New("empty address")
	}
	return strings.Trim(hp, "[]"), def, nil
}

// SetUDPLocal records the first UDP listener's socket address.
func (s *Self) SetUDPLocal(a *net.UDPAddr) {
	if s.udpLocal.Load() == nil {
		s.udpLocal.Store(&sip.Addr{IP: a.IP, Port: a.Port})
	}
}

// Listen returns the listeners of the proxy block the proxy started with.
func (s *Self) Listen() []graph.Listen { return s.listen }

// Host returns the advertised host, HostPort the advertised host:port.
func (s *Self) Host() string { return s.host }

// Port returns the advertised port.
func (s *Self) Port() int { return s.port }

// HostPort returns the advertised host:port.
func (s *Self) HostPort() string { return s.hostPort }

// UDPLocal returns the first UDP listener's address once it is up, or nil.
func (s *Self) UDPLocal() *sip.Addr { return s.udpLocal.Load() }

// ListenString names the listeners, for logs and restart checks.
func (s *Self) ListenString() string {
	parts := make([]string, len(s.listen))
	for i, l := range s.listen {
		parts[i] = l.Transport + ":" + l.Addr
	}
	return strings.Join(parts, ",")
}

// RestartNeeded names what a new proxy block changes that a reload cannot
// apply, or "".
func (s *Self) RestartNeeded(p graph.Proxy) string {
	n, err := NewSelf(p)
	if err != nil || n.hostPort != s.hostPort || n.ListenString() != s.ListenString() {
		return "listen/advertise"
	}
	return ""
}

// IsOwn reports whether a URI names this proxy.
func (s *Self) IsOwn(u *sip.Uri) bool {
	port := u.Port
	if port == 0 {
		port = 5060
	}
	if port == s.port && strings.EqualFold(u.Host, s.host) {
		return true
	}
	var buf [80]byte
	return s.own[string(appendHostPort(buf[:0], strings.Trim(u.Host, "[]"), port))]
}

// appendHostPort appends host:port as net.JoinHostPort writes it.
func appendHostPort(b []byte, host string, port int) []byte {
	if strings.IndexByte(host, ':') >= 0 {
		b = append(b, '[')
		b = append(b, host...)
		b = append(b, ']')
	} else {
		b = append(b, host...)
	}
	b = append(b, ':')
	return strconv.AppendInt(b, int64(port), 10)
}

// IsOwnVia reports whether a Via header was written by this proxy.
func (s *Self) IsOwnVia(v *sip.ViaHeader) bool {
	return v.Port == s.port && v.Host == s.host
}

// BranchPrefix marks branches this proxy generates; the loop hash follows.
const BranchPrefix = "z9hG4bK-sf"

// NewVia returns this proxy's Via for a request sent over transport, with
// a branch made of the loop hash and a random part (RFC 3261 §16.6 step 8).
func (s *Self) NewVia(transport string, loop uint64) *sip.ViaHeader {
	var b [len(BranchPrefix) + 16 + 1 + 16]byte
	n := copy(b[:], BranchPrefix)
	n += hex16(b[n:], loop)
	b[n] = '.'
	n++
	n += hex16(b[n:], rand.Uint64())
	// The header and its one parameter share an allocation.
	v := &struct {
		h sip.ViaHeader
		p [1]sip.HeaderKV
	}{}
	v.p[0] = sip.HeaderKV{K: "branch", V: string(b[:n])}
	v.h = sip.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport,
		Host: s.host, Port: s.port, Params: v.p[:],
	}
	return &v.h
}

func hex16(dst []byte, v uint64) int {
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		dst[i] = digits[v&0xf]
		v >>= 4
	}
	return 16
}

// LoopHash hashes the fields that stay the same when a request comes back
// to this proxy unchanged (a loop) and differ when it spirals: R-URI, From
// and To tags, Call-ID and CSeq. It is FNV-1a 64 over the same bytes as
// hash/fnv would see, written out so that nothing is allocated.
func LoopHash(req *sip.Request) uint64 {
	var num [20]byte
	u := &req.Recipient
	h := uint64(fnvOffset64)
	for _, p := range [...]string{u.Scheme, u.User, u.Host} {
		h = fnvSep(fnvString(h, p))
	}
	h = fnvSep(fnvBytes(h, strconv.AppendInt(num[:0], int64(u.Port), 10)))
	for _, p := range [...]string{sipmsg.Tag(req.From()), sipmsg.ToTag(req), sipmsg.CallID(req)} {
		h = fnvSep(fnvString(h, p))
	}
	if c := req.CSeq(); c != nil {
		h = fnvBytes(h, strconv.AppendUint(num[:0], uint64(c.SeqNo), 10))
		h = fnvString(h, string(c.MethodName))
	}
	return h
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime64
	}
	return h
}

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime64
	}
	return h
}

// fnvSep hashes the zero byte that separates the fields.
func fnvSep(h uint64) uint64 { return h * fnvPrime64 }

// IsLoop reports whether req already passed through this proxy unchanged
// (RFC 3261 §16.3 step 4). The hash is computed only when one of the Via
// headers is ours, which is rare.
func (s *Self) IsLoop(req *sip.Request) bool {
	var want string
	for _, h := range req.Headers() {
		v, ok := h.(*sip.ViaHeader)
		if !ok || !s.IsOwnVia(v) {
			continue
		}
		if want == "" {
			var b [len(BranchPrefix) + 16]byte
			n := copy(b[:], BranchPrefix)
			hex16(b[n:], LoopHash(req))
			want = string(b[:])
		}
		if br, _ := v.Params.Get("branch"); strings.HasPrefix(br, want) {
			return true
		}
	}
	return false
}

// RecordRoute returns this proxy's Record-Route entry for transport (upper
// case, as sipmsg.UpperTransport returns it).
func (s *Self) RecordRoute(transport string) *sip.RecordRouteHeader {
	if rr := s.rr[transport]; rr != nil {
		return rr
	}
	return s.newRecordRoute(transport)
}

func (s *Self) newRecordRoute(transport string) *sip.RecordRouteHeader {
	params := sip.HeaderParams{{K: "lr", V: ""}}
	if t := strings.ToLower(transport); t != "udp" {
		params = sip.HeaderParams{{K: "transport", V: t}, {K: "lr", V: ""}}
	}
	return &sip.RecordRouteHeader{Address: sip.Uri{Scheme: "sip", Host: s.host, Port: s.port, UriParams: params}}
}
