// Package edge is what every inbound message passes before sipgo parses
// it: flood control per source IP (runtime/flood) and the raw check
// (runtime/sanity), with the answers they call for written straight to
// the socket. It wraps the proxy's sockets: PacketConn for UDP, Listener
// for TCP (which also enforces the connection limits and timeouts). A
// message that fails never reaches sipgo, so it is never relayed.
package edge

import (
	"log/slog"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/flood"
	"github.com/sipfront/sipfront/runtime/sanity"
)

// Guard holds the edge policy in force and its counters. It is shared by
// every socket and reconfigured on reload; its methods are safe for
// concurrent use.
type Guard struct {
	log  *slog.Logger
	conf atomic.Pointer[config]
	// table is created by the first policy with a flood block and kept
	// across reloads, so that blocks survive them.
	table atomic.Pointer[flood.Table]

	rules      [64]atomic.Uint64 // per sanity.Rule
	answered   atomic.Uint64
	dropped    atomic.Uint64
	floodDrops atomic.Uint64
	flood503   atomic.Uint64
	tcpRefused [numRefusals]atomic.Uint64
	tcpOpen    atomic.Int64
	blockLog   logLimit
}

// config is one policy's edge settings, swapped whole on reload.
type config struct {
	udp, tcp *sanity.Checker
	limits   graph.EdgeLimits
	flood    *graph.Flood
	// extra is the Server header line of edge answers ("" for none);
	// retry503 adds Retry-After to the flood 503.
	extra    string
	retry503 string
	// peers are the sources the proxy sends requests to (members,
	// carriers, trusted groups): only they may send back a request that
	// carries the proxy's own Via (a spiral).
	peers []netip.Prefix
}

// NewGuard returns a Guard for the first graph.
func NewGuard(g *graph.Graph, log *slog.Logger) *Guard {
	gd := &Guard{log: log}
	gd.Configure(g)
	return gd
}

// Configure applies g's limits, flood block and Server header.
func (gd *Guard) Configure(g *graph.Graph) {
	sec := g.Security
	l := sec.Limits.WithDefaults()
	base := sanity.Limits{MaxBody: l.MaxBody, MaxHeaders: l.MaxHeaders, MaxHeaderLine: l.MaxHeaderLine,
		MaxRequestURI: l.MaxRequestURI, MaxVia: l.MaxVia}
	udp, tcp := base, base
	udp.MaxMessage, tcp.MaxMessage = l.MaxMessageUDP, l.MaxMessageTCP
	c := &config{udp: sanity.NewChecker(udp), tcp: sanity.NewChecker(tcp), limits: l, flood: sec.Flood,
		peers: peerPrefixes(g)}
	if sec.ServerHeader != "" {
		c.extra = "Server: " + sec.ServerHeader + "\r\n"
	}
	if f := sec.Flood; f != nil {
		c.retry503 = c.extra + "Retry-After: " + strconv.Itoa(int(f.Block.Seconds())) + "\r\n"
		cfg := flood.Config{Window: f.Window, MaxRequests: f.MaxRequests, Block: f.Block,
			Action: flood.Action(f.Action), Exempt: exemptPrefixes(g)}
		if t := gd.table.Load(); t != nil {
			t.Configure(cfg)
		} else {
			gd.table.Store(flood.New(cfg, f.MaxSources))
		}
	}
	gd.conf.Store(c)
}

// peerPrefixes lists every trusted group, pool member and carrier.
func peerPrefixes(g *graph.Graph) []netip.Prefix {
	out := memberPrefixes(g)
	for _, t := range g.Trusted {
		out = append(out, t.Sources...)
	}
	return out
}

// IsPeer reports whether ip is a pool member, a carrier or in a trusted
// group.
func (gd *Guard) IsPeer(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range gd.conf.Load().peers {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// exemptPrefixes lists the sources flood control never counts: the
// trusted groups the flood block names, every pool member written as an
// IP address and every carrier's sources (the proxy's own peers answer
// and send BYEs at the rate of all calls together).
func exemptPrefixes(g *graph.Graph) []netip.Prefix {
	out := memberPrefixes(g)
	for _, t := range g.Security.Flood.Exempt {
		out = append(out, t.Sources...)
	}
	return out
}

// memberPrefixes lists the pool members and carriers written as IP
// addresses, and the sources of every carrier: a carrier whose URI names
// a host sends from the networks its sources list.
func memberPrefixes(g *graph.Graph) []netip.Prefix {
	var out []netip.Prefix
	add := func(host string) {
		if ip, err := netip.ParseAddr(host); err == nil {
			out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
		}
	}
	for _, p := range g.Pools {
		for _, m := range p.Members {
			add(m.Host)
		}
	}
	for _, c := range g.Carriers {
		add(c.Host)
		if c.Sources != nil {
			out = append(out, c.Sources.Sources...)
		}
	}
	return out
}

// Flooding implements graph.Flooding for CEL's flooding().
func (gd *Guard) Flooding(ip netip.Addr) bool {
	t := gd.table.Load()
	return t != nil && gd.conf.Load().flood != nil && t.Flooding(ip)
}

// Table returns the flood table, nil when no policy had a flood block.
func (gd *Guard) Table() *flood.Table { return gd.table.Load() }

// Limits returns the limits in force.
func (gd *Guard) Limits() graph.EdgeLimits { return gd.conf.Load().limits }

// floodVerdict is what flood control says about one request.
type floodVerdict uint8

const (
	floodPass floodVerdict = iota
	floodDrop
	floodReply
)

// checkFlood counts one request from ip.
func (gd *Guard) checkFlood(c *config, ip netip.Addr, now time.Time) floodVerdict {
	t := gd.table.Load()
	if c.flood == nil || t == nil {
		return floodPass
	}
	v := t.Check(ip, now)
	if v == flood.Blocked && gd.blockLog.allow(now) {
		gd.log.Warn("flood: source blocked", "source", ip.String(), "window", c.flood.Window,
			"max_requests", c.flood.MaxRequests, "block", c.flood.Block, "action", flood.Action(c.flood.Action).String())
	}
	if v != flood.Blocked && v != flood.Blocking {
		return floodPass
	}
	switch c.flood.Action {
	case graph.FloodReply503:
		gd.flood503.Add(1)
		return floodReply
	case graph.FloodFilter:
		return floodPass
	}
	gd.floodDrops.Add(1)
	return floodDrop
}

// count records a sanity verdict that stopped a message.
func (gd *Guard) count(v sanity.Verdict, answered bool) {
	if int(v.Rule) < len(gd.rules) {
		gd.rules[v.Rule].Add(1)
	}
	if answered {
		gd.answered.Add(1)
	} else {
		gd.dropped.Add(1)
	}
}

// isResponse reports whether a message is a response: flood control
// counts requests only.
func isResponse(msg []byte) bool {
	return len(msg) >= 4 && msg[0] == 'S' && msg[1] == 'I' && msg[2] == 'P' && msg[3] == '/'
}

// isAck reports whether msg is an ACK request.
func isAck(msg []byte) bool {
	return len(msg) >= 4 && msg[0] == 'A' && msg[1] == 'C' && msg[2] == 'K' && msg[3] == ' '
}

// busy is the answer to a request from a source blocked with action 503.
var busy = sanity.Verdict{Action: sanity.Answer, Status: 503, Reason: "Service Unavailable"}

// logLimit lets one log line through per second.
type logLimit struct{ last atomic.Int64 }

func (l *logLimit) allow(now time.Time) bool {
	n, prev := now.UnixNano(), l.last.Load()
	return n-prev >= int64(time.Second) && l.last.CompareAndSwap(prev, n)
}
