package compiler

import (
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/lang"
)

// security compiles the flood and limits blocks and proxy.server_header
// into graph.Security. It runs after trusted(): exempt names trusted groups.
func (c *compiler) security() {
	if p := c.cfg.Proxy; p != nil && p.ServerHeader.Set {
		c.g.Security.ServerHeader = p.ServerHeader.Value
		if !printableHeader(p.ServerHeader.Value) {
			c.errorf(p.ServerHeader.Range, "Invalid Header Value", "server_header must be printable text without line breaks or control characters, at most 128 characters.")
		}
	}
	c.g.Security.Limits = c.limits()
	c.g.Security.Flood = c.flood()
}

// printableHeader reports whether s can be written as a header value.
func printableHeader(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// intLimit is one integer attribute with its bounds.
type intLimit struct {
	name     string
	v        lang.Value[int]
	dst      *int
	min, max int
	why      string
}

func (c *compiler) limits() graph.EdgeLimits {
	gl := graph.DefaultEdgeLimits()
	l := c.cfg.Limits
	if l == nil {
		return gl
	}
	gl.Pos = pos(l.Block)
	for _, f := range []intLimit{
		{"max_message_udp", l.MaxMessageUDP, &gl.MaxMessageUDP, 1024, 65507, "a UDP datagram holds at most 65507 octets"},
		{"max_message_tcp", l.MaxMessageTCP, &gl.MaxMessageTCP, 1024, 1 << 20, "a message on a stream is buffered whole"},
		{"max_body", l.MaxBody, &gl.MaxBody, 0, 1 << 20, "the body is part of the message"},
		{"max_headers", l.MaxHeaders, &gl.MaxHeaders, 8, 1024, "a request needs at least its 6 mandatory header fields"},
		{"max_header_line", l.MaxHeaderLine, &gl.MaxHeaderLine, 256, 65535, "a Via or Contact with parameters easily takes 200 octets"},
		{"max_request_uri", l.MaxRequestURI, &gl.MaxRequestURI, 64, 65535, "a Request-URI with parameters easily takes 64 octets"},
		{"max_via", l.MaxVia, &gl.MaxVia, 1, 255, "Max-Forwards is at most 255, so no request passes more proxies"},
		{"tcp_max_connections", l.TCPMaxConnections, &gl.TCPMaxConnections, 1, 1 << 20, "each connection holds a socket"},
		{"tcp_max_per_source", l.TCPMaxPerSource, &gl.TCPMaxPerSource, 1, 1 << 20, "each connection holds a socket"},
	} {
		c.intLimit(f)
	}
	for _, f := range []struct {
		name string
		v    lang.Value[time.Duration]
		dst  *time.Duration
	}{{"tcp_idle_timeout", l.TCPIdleTimeout, &gl.TCPIdleTimeout}, {"tcp_message_timeout", l.TCPMessageTimeout, &gl.TCPMessageTimeout}} {
		if !f.v.Set {
			continue
		}
		*f.dst = f.v.Value
		if f.v.Value < time.Second {
			c.errorf(f.v.Range, "Invalid Duration", "%s must be at least 1s, not %s.", f.name, f.v.Value)
		}
	}
	switch {
	case l.MaxBody.Set && gl.MaxBody >= min(gl.MaxMessageUDP, gl.MaxMessageTCP):
		c.errorf(l.MaxBody.Range, "Invalid Limit", "max_body (%d) must be below the message size limits (%d for UDP, %d for TCP): the body is part of the message.", gl.MaxBody, gl.MaxMessageUDP, gl.MaxMessageTCP)
	case l.TCPMaxPerSource.Set && gl.TCPMaxPerSource > gl.TCPMaxConnections:
		c.errorf(l.TCPMaxPerSource.Range, "Invalid Limit", "tcp_max_per_source (%d) is above tcp_max_connections (%d): one source could take every connection.", gl.TCPMaxPerSource, gl.TCPMaxConnections)
	}
	return gl
}

func (c *compiler) intLimit(f intLimit) {
	if !f.v.Set {
		return
	}
	*f.dst = f.v.Value
	if f.v.Value < f.min || f.v.Value > f.max {
		c.errorf(f.v.Range, "Invalid Limit", "%s must be between %d and %d, not %d: %s.", f.name, f.min, f.max, f.v.Value, f.why)
	}
}

var floodActions = map[string]graph.FloodAction{"drop": graph.FloodDrop, "503": graph.FloodReply503, "filter": graph.FloodFilter}

func (c *compiler) flood() *graph.Flood {
	f := c.cfg.Flood
	if f == nil {
		return nil
	}
	gf := &graph.Flood{ID: "flood", Pos: pos(f.Block), Window: graph.DefaultFloodWindow, MaxRequests: graph.DefaultFloodMaxRequests,
		Block: graph.DefaultFloodBlock, MaxSources: graph.DefaultFloodMaxSources}
	c.duration(f.Window, &gf.Window, "window", 100*time.Millisecond, time.Hour)
	c.duration(f.BlockFor, &gf.Block, "block", time.Second, 24*time.Hour)
	c.intLimit(intLimit{"max_requests", f.MaxRequests, &gf.MaxRequests, 1, 1 << 30, "a source must be able to send something"})
	c.intLimit(intLimit{"max_sources", f.MaxSources, &gf.MaxSources, 1024, 1 << 22, "the table takes 64 octets per source, allocated at start"})
	if f.Action.Set {
		a, ok := floodActions[f.Action.Value]
		if !ok {
			c.errorf(f.Action.Range, "Invalid Flood Action", "action is \"drop\" (discard silently), \"503\" (answer 503 with Retry-After) or \"filter\" (let the filters decide with flooding()), not %q.", f.Action.Value)
		}
		gf.Action = a
	}
	for _, r := range f.Exempt {
		if t := resolve(c, r, "trusted", c.trust); t != nil {
			gf.Exempt = append(gf.Exempt, t)
		}
	}
	return gf
}

// duration checks an optional duration attribute against its bounds.
func (c *compiler) duration(v lang.Value[time.Duration], dst *time.Duration, name string, lo, hi time.Duration) {
	if !v.Set {
		return
	}
	*dst = v.Value
	if v.Value < lo || v.Value > hi {
		c.errorf(v.Range, "Invalid Duration", "%s must be between %s and %s, not %s.", name, lo, hi, v.Value)
	}
}
