package graph

import "time"

// Security holds the edge-hardening settings of a policy: the flood
// block, the limits block and the proxy's Server header. Each of its parts
// is read by the runtime at the edge, before a request reaches the graph.
type Security struct {
	// Flood is nil when the policy has no flood block: no flood control.
	Flood *Flood
	// Limits always holds values: the compiler fills in the defaults.
	Limits EdgeLimits
	// ServerHeader is the Server header of the proxy's own answers; empty
	// writes none, the default (a scanner learns nothing).
	ServerHeader string
}

// FloodAction is what happens to a request from a blocked source.
type FloodAction uint8

// Flood actions.
const (
	// FloodDrop discards it silently.
	FloodDrop FloodAction = iota
	// FloodReply503 answers 503 with Retry-After.
	FloodReply503
	// FloodFilter passes it to the filters, which see flooding() true.
	FloodFilter
)

// Flood is the flood block: per-source-IP rate limiting (pike).
type Flood struct {
	ID  ID
	Pos Pos
	// Window is the sliding window requests are counted over.
	Window time.Duration
	// MaxRequests is how many requests one source may send per Window.
	MaxRequests int
	// Block is how long a source over its rate stays blocked.
	Block  time.Duration
	Action FloodAction
	// Exempt lists the trusted groups that are never counted.
	Exempt []*Trusted
	// MaxSources is the size of the source table (its memory is fixed).
	MaxSources int
}

// EdgeLimits is the limits block: message and connection bounds at the edge.
// Every field holds a value (the compiler fills in the defaults).
type EdgeLimits struct {
	// Pos is where the limits block was declared; zero when absent.
	Pos Pos
	// MaxMessageUDP and MaxMessageTCP bound a whole message (513 above).
	MaxMessageUDP int
	MaxMessageTCP int
	// MaxBody bounds a message body (413 above).
	MaxBody int
	// MaxHeaders bounds the number of header fields.
	MaxHeaders int
	// MaxHeaderLine bounds one header field, folded lines included.
	MaxHeaderLine int
	// MaxRequestURI bounds the Request-URI (414 above).
	MaxRequestURI int
	// MaxVia bounds the Via values of a request.
	MaxVia int
	// TCPMaxConnections bounds the inbound TCP connections in total.
	TCPMaxConnections int
	// TCPMaxPerSource bounds the inbound TCP connections of one source IP.
	TCPMaxPerSource int
	// TCPIdleTimeout closes a connection that carries nothing for so long.
	TCPIdleTimeout time.Duration
	// TCPMessageTimeout closes a connection that leaves a message
	// incomplete for so long (slow senders).
	TCPMessageTimeout time.Duration
}

// Defaults of EdgeLimits (docs/security.md explains each; runtime/sanity
// checks that its own defaults agree).
const (
	DefaultMaxMessage        = 32768
	DefaultMaxBody           = 16384
	DefaultMaxHeaders        = 128
	DefaultMaxHeaderLine     = 4096
	DefaultMaxRequestURI     = 2048
	DefaultMaxVia            = 64
	DefaultTCPMaxConnections = 4096
	DefaultTCPMaxPerSource   = 32
	DefaultTCPIdleTimeout    = 5 * time.Minute
	DefaultTCPMessageTimeout = 10 * time.Second
)

// Defaults of Flood.
const (
	DefaultFloodWindow      = 2 * time.Second
	DefaultFloodMaxRequests = 30
	DefaultFloodBlock       = 2 * time.Minute
	DefaultFloodMaxSources  = 1 << 16
)

// DefaultEdgeLimits returns the limits of a policy without a limits block.
func DefaultEdgeLimits() EdgeLimits {
	return EdgeLimits{
		MaxMessageUDP: DefaultMaxMessage, MaxMessageTCP: DefaultMaxMessage, MaxBody: DefaultMaxBody,
		MaxHeaders: DefaultMaxHeaders, MaxHeaderLine: DefaultMaxHeaderLine, MaxRequestURI: DefaultMaxRequestURI,
		MaxVia: DefaultMaxVia, TCPMaxConnections: DefaultTCPMaxConnections, TCPMaxPerSource: DefaultTCPMaxPerSource,
		TCPIdleTimeout: DefaultTCPIdleTimeout, TCPMessageTimeout: DefaultTCPMessageTimeout,
	}
}

// Filter runs only the filters for req: what the proxy does before it
// answers a request itself (an OPTIONS ping to its own address), so that
// a scanner's probe is dropped like any other request the filters refuse.
func (g *Graph) Filter(req *Request, st State) Decision {
	var d Decision
	ctx := &req.ctx
	*ctx = evalContext{req: req, graph: g, state: st}
	defer func() { *ctx = evalContext{} }()
	g.runFilters(ctx, &d, nil)
	return d
}

// WithDefaults fills the zero fields of l (a graph built by hand, not by
// the compiler) with the defaults.
func (l EdgeLimits) WithDefaults() EdgeLimits {
	d := DefaultEdgeLimits()
	for _, f := range [...]struct{ v, def *int }{
		{&l.MaxMessageUDP, &d.MaxMessageUDP}, {&l.MaxMessageTCP, &d.MaxMessageTCP}, {&l.MaxBody, &d.MaxBody},
		{&l.MaxHeaders, &d.MaxHeaders}, {&l.MaxHeaderLine, &d.MaxHeaderLine}, {&l.MaxRequestURI, &d.MaxRequestURI},
		{&l.MaxVia, &d.MaxVia}, {&l.TCPMaxConnections, &d.TCPMaxConnections}, {&l.TCPMaxPerSource, &d.TCPMaxPerSource},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	if l.TCPIdleTimeout <= 0 {
		l.TCPIdleTimeout = d.TCPIdleTimeout
	}
	if l.TCPMessageTimeout <= 0 {
		l.TCPMessageTimeout = d.TCPMessageTimeout
	}
	return l
}
