// Package graph is the immutable routing decision graph that the compiler
// builds from a policy and the runtime executes for every request.
//
// A *Graph is a plain value: once Compile returns it, nothing mutates it, so
// every goroutine of the proxy may read it without locks. The runtime holds
// the current graph in an atomic.Pointer and swaps it on reload. Runtime state
// (member health, call counts, registrations, overrides) lives outside the
// graph, keyed by the stable IDs defined here, so that it survives a swap.
//
// This package must not import HCL: the runtime depends on it, never on the
// policy language.
package graph

import (
	"net/netip"
	"time"
)

// ID is the stable address of a node in the graph, such as
// "pool.asterisk.member.ast2" or "route.did". IDs are derived from block
// types and labels only, so the same policy text always yields the same IDs
// and a reload keeps runtime state attached to the same nodes.
type ID string

// Pos is a source position kept for explain and plan output ("policy.hcl:12").
// It is informational; the runtime never depends on it.
type Pos struct {
	File string
	Line int
}

// Graph is a compiled policy. All fields are read-only after compilation.
type Graph struct {
	// Hash identifies the policy sources (hex SHA-256 of every file in
	// lexical order); logs and the admin API report it.
	Hash string
	// Proxy holds listener and transaction settings.
	Proxy Proxy
	// Filters are checked first, in file order; the first one whose condition
	// holds and that replies or drops decides the request.
	Filters []*Filter
	// Trusted lists the IP-auth groups by name.
	Trusted []*Trusted
	// Credentials lists the digest credential stores.
	Credentials []*Credentials
	// Auth lists the authentication stages in file order; the first whose
	// condition holds applies.
	Auth []*Auth
	// Aliases lists the DID mapping tables in file order; the first whose
	// condition holds and that knows the R-URI user rewrites it.
	Aliases []*AliasTable
	// Registrar is nil when the policy declares none.
	Registrar *Registrar
	// Pools lists the PBX pools in file order.
	Pools []*Pool
	// Prefixes lists the longest-prefix tables in file order.
	Prefixes []*PrefixTable
	// Carriers lists the PSTN carriers in file order.
	Carriers []*Carrier
	// LCR is the carrier table for routes whose target is all carriers,
	// keyed by number prefix, each entry ordered by priority then weight.
	LCR *LCRTable
	// Routes are evaluated in file order, first match wins.
	Routes []*Route
	// Security holds the flood, limits and Server header settings.
	Security Security

	trustedByName map[string]*Trusted
	nodes         map[ID]any
	// advertisedHost is Proxy.Advertise without its port, for is_local.
	advertisedHost string
}

// Proxy holds the settings of the proxy block.
type Proxy struct {
	// Listen holds the sockets to serve, e.g. {udp 0.0.0.0:5060}.
	Listen []Listen
	// Advertise is the host (and optional :port) written into Via and
	// Record-Route and seen by clients and carriers.
	Advertise string
	// Domains are the local domains served (is_local).
	Domains []string
	// Admin is the admin API and metrics address; empty disables it.
	Admin string
	// RingTimeout is Timer C: how long a branch may ring before it is
	// cancelled with 408.
	RingTimeout time.Duration
	// MaxCallDuration ends a dialog the proxy tracks after this time; zero
	// means no limit.
	MaxCallDuration time.Duration
	// MaxInflight is the admission limit: how many initial INVITEs may
	// wait for a member's first answer before new ones are answered 503.
	// The compiler sets it (at least 1; 2000 by default); zero, in a
	// graph built by hand, means the runtime's default.
	MaxInflight int
	// Exit is the socket traffic to carriers leaves from (one of Listen);
	// the zero Listen when the policy names none.
	Exit Listen
	// DialogValidation checks in-dialog requests against the dialog table
	// (unknown dialog: 481; forged route set: 403; CSeq not increasing:
	// 400). The compiler sets it true unless the policy turns it off; a
	// graph built by hand has it off.
	DialogValidation bool
	// InDialogTimeout bounds the wait for the first answer to an
	// in-dialog request; then the sender gets 408 and the dialog ends.
	// Zero means the runtime's default (5s).
	InDialogTimeout time.Duration
	// TopologyHiding hides each side of a call from the other: Via and
	// Record-Route stripped and restored, Contact replaced by the proxy's.
	TopologyHiding bool
}

// Listen is one listening socket.
type Listen struct {
	// Transport is "udp" or "tcp".
	Transport string
	// Addr is host:port.
	Addr string
}

// Action is what a filter does when its condition holds.
type FilterAction uint8

// Filter actions.
const (
	// FilterLog only logs and lets the request continue.
	FilterLog FilterAction = iota
	// FilterReply answers with Status and Reason.
	FilterReply
	// FilterDrop discards the request silently.
	FilterDrop
)

// Filter is one filter block.
type Filter struct {
	ID     ID
	Name   string
	Pos    Pos
	When   *Condition
	Action FilterAction
	Status int
	Reason string
	// Log is a message logged (at warn level) whenever the filter matches.
	Log string
}

// Trusted is an IP-auth group: requests from these sources skip digest auth
// and satisfy source_in(name).
type Trusted struct {
	ID      ID
	Name    string
	Pos     Pos
	Sources []netip.Prefix
}

// Contains reports whether addr is inside one of the group's prefixes.
func (t *Trusted) Contains(addr netip.Addr) bool {
	for _, p := range t.Sources {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Credentials is a digest credential store: a CSV file loaded at compile
// time (Entries) or a PostgreSQL query run by the proxy (Postgres), with a
// cache in front of the database.
type Credentials struct {
	ID   ID
	Name string
	Pos  Pos
	File string
	// CacheTTL is how long a user found in the database is remembered;
	// NegativeTTL how long an unknown user is.
	CacheTTL    time.Duration
	NegativeTTL time.Duration
	// Entries maps "user@domain" to the hex MD5 HA1 (md5(user:realm:pw));
	// EntriesSHA256 to the hex SHA-256 HA1 when the file gives one.
	Entries       map[string]string
	EntriesSHA256 map[string]string
	// Postgres is nil for a file store.
	Postgres *Postgres
}

// Postgres is a credential store in PostgreSQL.
type Postgres struct {
	// DSN is the connection string (URL or key=value form), usually read
	// with env(); it may hold a password, so it is never printed.
	DSN string
	// Query takes $1 = user and $2 = domain and returns a column named
	// ha1 and optionally one named ha1_sha256.
	Query string
	// PoolSize is the most connections the proxy opens.
	PoolSize int
}

// Auth is an authentication stage.
type Auth struct {
	ID          ID
	Name        string
	Pos         Pos
	When        *Condition
	Trust       []*Trusted
	Credentials *Credentials
	Realm       string
	// CheckFrom refuses (403) a proven user whose From names another
	// identity (user and domain).
	CheckFrom bool
	// NonceTTL is how long a nonce is accepted; an older one with a right
	// answer is challenged again with stale=true.
	NonceTTL time.Duration
	// MaxFailures failed answers within FailureWindow, from one source or
	// for one user, block it for Block.
	MaxFailures   int
	FailureWindow time.Duration
	Block         time.Duration
	// BlockDrop drops the requests of a blocked source or user silently
	// instead of answering 403.
	BlockDrop bool
	// Algorithms lists the digest algorithms a challenge offers, in order
	// ("SHA-256", "MD5"); empty means both, SHA-256 first.
	Algorithms []string
}

// AliasTable maps R-URI users (DIDs) to local users.
type AliasTable struct {
	ID      ID
	Name    string
	Pos     Pos
	File    string
	When    *Condition
	Entries map[string]string
}

// Registrar holds the registrar settings.
type Registrar struct {
	ID          ID
	Pos         Pos
	MaxContacts int
	MaxExpires  time.Duration
	// MinExpires is the shortest registration accepted; a shorter one is
	// refused with 423 Interval Too Brief.
	MinExpires time.Duration
}

// Balance is a pool's member selection strategy.
type Balance string

// Balancing strategies.
const (
	BalanceRoundRobin Balance = "round-robin"
	BalanceWeighted   Balance = "weighted"
	BalanceLeastCalls Balance = "least-calls"
	BalanceHash       Balance = "hash"
	BalanceResource   Balance = "resource"
)

// Balances lists every valid strategy, for validation and "did you mean".
var Balances = []Balance{BalanceRoundRobin, BalanceWeighted, BalanceLeastCalls, BalanceHash, BalanceResource}

// Pool is a set of PBX members behind one balancing strategy.
type Pool struct {
	ID      ID
	Name    string
	Pos     Pos
	Balance Balance
	// Resource names the capacity resource used by BalanceResource.
	Resource string
	// Affinity is "" or "party" (attended-transfer affinity).
	Affinity string
	Failover Failover
	// Probe is nil when the pool is not probed.
	Probe   *Probe
	Members []*Member

	memberByName map[string]*Member
}

// Member returns the member with the given name, or nil.
func (p *Pool) Member(name string) *Member { return p.memberByName[name] }

// Failover says when an INVITE is retried on the next member.
type Failover struct {
	// On lists the final status codes that trigger failover.
	On []int
	// MaxTries bounds the number of members tried for one request.
	MaxTries int
	// Timeout is how long to wait for a first (provisional or final) answer
	// before trying the next member.
	Timeout time.Duration
}

// Retries reports whether status triggers failover.
func (f Failover) Retries(status int) bool {
	for _, c := range f.On {
		if c == status {
			return true
		}
	}
	return false
}

// Probe configures OPTIONS probing of pool members.
type Probe struct {
	Interval time.Duration
	// Timeout is how long one probe waits for its answer.
	Timeout time.Duration
	// DownAfter consecutive failed probes mark a member down ("threshold").
	DownAfter int
	// UpAfter consecutive good probes mark it up again.
	UpAfter int
	// Accept lists the status codes that count as a good answer; a code
	// below 10 is a class (2 means any 2xx).
	Accept []int
}

// Member is one PBX of a pool.
type Member struct {
	ID   ID
	Name string
	Pos  Pos
	Pool *Pool
	// URI is the member's SIP URI as written in the policy.
	URI string
	// Host, Port and Transport are parsed from URI; Transport is "udp"
	// unless the URI says otherwise.
	Host      string
	Port      int
	Transport string
	Weight    int
	// Capacity maps a resource name to its capacity (resource balancing).
	Capacity map[string]int

	addr string // host:port, computed by Seal
}

// Addr returns host:port of the member. It is computed once by Seal, so
// the proxy does not build the string for every request.
func (m *Member) Addr() string {
	if m.addr != "" {
		return m.addr
	}
	return joinHostPort(m.Host, m.Port)
}

// TargetKind says where a route sends requests.
type TargetKind uint8

// Route target kinds.
const (
	// TargetPool relays to a member of Route.Pool.
	TargetPool TargetKind = iota + 1
	// TargetRegistrar handles REGISTER, or relays to the registered contacts
	// of the R-URI user.
	TargetRegistrar
	// TargetCarriers relays to carriers chosen by least-cost routing.
	TargetCarriers
	// TargetCarrier relays to one named carrier (Route.Carrier).
	TargetCarrier
)

// Fork is how a route reaches several registered contacts.
type Fork string

// Fork modes.
const (
	ForkParallel Fork = "parallel"
	ForkSerial   Fork = "serial"
)

// Route is one route block.
type Route struct {
	ID   ID
	Name string
	Pos  Pos
	// When is nil for an unconditional route.
	When    *Condition
	Target  TargetKind
	Pool    *Pool
	Carrier *Carrier
	// Select is the prefix table that picks the owning member of Pool by
	// the longest prefix of the R-URI user; nil when balancing alone picks.
	Select *PrefixTable
	Fork   Fork
	// ForkTimeout is how long each q group of contacts rings in a serial
	// fork, or all contacts in a parallel one; zero leaves a parallel fork
	// to each branch's Timer C.
	ForkTimeout time.Duration

	// carriers is the one-element LCR list of a TargetCarrier route, built
	// by Seal so that a decision does not allocate it.
	carriers []*Carrier
}

// Node returns the node with the given ID (a *Filter, *Pool, *Member, ...)
// or nil.
func (g *Graph) Node(id ID) any { return g.nodes[id] }

// TrustedByName returns the trusted group with that name, or nil.
func (g *Graph) TrustedByName(name string) *Trusted { return g.trustedByName[name] }
