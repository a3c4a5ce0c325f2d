// Package flood is per-source-IP flood control in the manner of
// Kamailio's and OpenSIPS' pike: requests from one address are counted over
// a sliding window, and an address over its rate is blocked for a while.
//
// The table has a fixed size chosen at New: an attacker cycling through
// source addresses evicts the least active entries and cannot grow the
// proxy's memory. Entries expire by themselves (an idle entry is reused);
// nothing sweeps. The check runs before sipgo parses a message, so a
// blocked source costs one hash and one short lock per datagram.
package flood

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Action is what happens to a request from a blocked source.
type Action uint8

const (
	// Drop discards it silently (the default: a flooder learns nothing).
	Drop Action = iota
	// Reply503 answers 503 Service Unavailable with Retry-After.
	Reply503
	// Filter lets it reach the policy, whose filters see flooding()
	// true and decide.
	Filter
)

// String returns the policy spelling of a.
func (a Action) String() string {
	switch a {
	case Reply503:
		return "503"
	case Filter:
		return "filter"
	}
	return "drop"
}

// Defaults of Config; docs/security.md explains each.
const (
	DefaultWindow      = graph.DefaultFloodWindow
	DefaultMaxRequests = graph.DefaultFloodMaxRequests
	DefaultBlock       = graph.DefaultFloodBlock
	// DefaultCapacity is the number of sources tracked at once: 65536
	// entries of 64 octets (4 MiB), allocated once by New.
	DefaultCapacity = graph.DefaultFloodMaxSources
)

// Config is one flood policy. Zero fields take their defaults.
type Config struct {
	// Window is the sliding window requests are counted over.
	Window time.Duration
	// MaxRequests is how many requests a source may send per Window.
	MaxRequests int
	// Block is how long a source over its rate stays blocked.
	Block time.Duration
	// Action is what happens to requests from a blocked source.
	Action Action
	// Exempt sources are never counted (trusted groups, members).
	Exempt []netip.Prefix
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.MaxRequests <= 0 {
		c.MaxRequests = DefaultMaxRequests
	}
	if c.Block <= 0 {
		c.Block = DefaultBlock
	}
	return c
}

// Verdict is the outcome of Check.
type Verdict uint8

const (
	// Allowed: count it and let it through.
	Allowed Verdict = iota
	// Exempt: not counted.
	Exempt
	// Blocked: the source was blocked by this request; log it.
	Blocked
	// Blocking: the source was already blocked.
	Blocking
)

// ways is the associativity of the table: a source lives in one of ways
// slots of its set, and a new source evicts the least active of them.
const ways = 8

// entry is one tracked source.
type entry struct {
	key      [16]byte
	used     bool
	winStart int64 // start of the current window, Unix ns
	prev     uint32
	cur      uint32
	until    int64 // blocked until, Unix ns; 0 when not blocked
	last     int64 // last request, Unix ns
	dropped  uint64
}

type set struct {
	mu sync.Mutex
	e  [ways]entry
}

// Table tracks the request rate of every recent source.
type Table struct {
	cfg  atomic.Pointer[Config]
	sets []set
	mask uint64
	seed maphash.Seed

	checked, blocks, dropped, evicted atomic.Uint64
}

// New returns a Table for capacity sources (rounded up to a power of two
// of at least ways; zero means DefaultCapacity).
func New(cfg Config, capacity int) *Table {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	n := 1
	for n*ways < capacity {
		n <<= 1
	}
	t := &Table{sets: make([]set, n), mask: uint64(n - 1), seed: maphash.MakeSeed()}
	t.Configure(cfg)
	return t
}

// Configure swaps the flood policy (on reload); tracked sources stay.
func (t *Table) Configure(cfg Config) {
	c := cfg.withDefaults()
	t.cfg.Store(&c)
}

// Config returns the policy in force, defaults filled in.
func (t *Table) Config() Config { return *t.cfg.Load() }

// Capacity returns how many sources the table holds at most.
func (t *Table) Capacity() int { return len(t.sets) * ways }

// Check counts one request from ip at now and says whether it may go on.
func (t *Table) Check(ip netip.Addr, now time.Time) Verdict {
	cfg := t.cfg.Load()
	ip = ip.Unmap()
	for _, p := range cfg.Exempt {
		if p.Contains(ip) {
			return Exempt
		}
	}
	t.checked.Add(1)
	key := ip.As16()
	s := t.set(&key)
	ns := now.UnixNano()
	s.mu.Lock()
	e := t.claim(s, &key, ns, cfg)
	v := e.count(ns, cfg)
	s.mu.Unlock()
	switch v {
	case Blocked:
		t.blocks.Add(1)
		t.dropped.Add(1)
	case Blocking:
		t.dropped.Add(1)
	}
	return v
}

// Flooding reports whether ip is blocked now, for CEL's flooding().
func (t *Table) Flooding(ip netip.Addr) bool {
	key := ip.Unmap().As16()
	s := t.set(&key)
	now := time.Now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.e {
		if e := &s.e[i]; e.used && e.key == key {
			return e.until > now
		}
	}
	return false
}

func (t *Table) set(key *[16]byte) *set {
	return &t.sets[maphash.Bytes(t.seed, key[:])&t.mask]
}

// claim finds key's entry in s or takes over the least valuable slot: a
// free or expired one, else the quietest unblocked source, else the block
// that ends first.
func (t *Table) claim(s *set, key *[16]byte, now int64, cfg *Config) *entry {
	var victim *entry
	for i := range s.e {
		e := &s.e[i]
		if e.used && e.key == *key {
			return e
		}
		if victim == nil || e.worse(victim, now, cfg) {
			victim = e
		}
	}
	if victim.used && victim.live(now, cfg) {
		t.evicted.Add(1)
	}
	*victim = entry{key: *key, used: true, winStart: now}
	return victim
}

// live reports whether e still says something: blocked, or seen within
// the last two windows.
func (e *entry) live(now int64, cfg *Config) bool {
	return e.used && (e.until > now || now-e.last < 2*int64(cfg.Window))
}

// worse reports whether e is a better slot to give away than o.
func (e *entry) worse(o *entry, now int64, cfg *Config) bool {
	el, ol := e.live(now, cfg), o.live(now, cfg)
	if el != ol {
		return !el
	}
	eb, ob := e.until > now, o.until > now
	switch {
	case eb != ob:
		return !eb
	case eb:
		return e.until < o.until
	}
	return e.prev+e.cur < o.prev+o.cur
}

// count adds one request at now and applies the rate: the estimate is the
// current window's count plus the previous window's weighted by how much
// of it the sliding window still covers.
func (e *entry) count(now int64, cfg *Config) Verdict {
	e.last = now
	if e.until > now {
		e.dropped++
		return Blocking
	}
	if e.until != 0 { // a block ended: start afresh
		e.until, e.prev, e.cur, e.winStart = 0, 0, 0, now
	}
	w := int64(cfg.Window)
	if d := now - e.winStart; d >= w {
		if d < 2*w {
			e.prev = e.cur
		} else {
			e.prev = 0
		}
		e.cur = 0
		e.winStart += d / w * w
	}
	if e.cur < 1<<31 {
		e.cur++
	}
	rate := uint64(e.cur) + uint64(e.prev)*uint64(w-(now-e.winStart))/uint64(w)
	if rate > uint64(cfg.MaxRequests) {
		e.until = now + int64(cfg.Block)
		e.dropped++
		return Blocked
	}
	return Allowed
}

// Entry is one source in List.
type Entry struct {
	IP netip.Addr
	// Rate is the requests counted in the current sliding window.
	Rate int
	// BlockedUntil is zero when the source is not blocked.
	BlockedUntil time.Time
	// Dropped counts the requests refused while blocked.
	Dropped  uint64
	LastSeen time.Time
}

// List returns the live entries; blockedOnly keeps the blocked ones.
func (t *Table) List(now time.Time, blockedOnly bool) []Entry {
	cfg := t.cfg.Load()
	ns := now.UnixNano()
	var out []Entry
	for i := range t.sets {
		s := &t.sets[i]
		s.mu.Lock()
		for j := range s.e {
			e := &s.e[j]
			if !e.live(ns, cfg) || (blockedOnly && e.until <= ns) {
				continue
			}
			en := Entry{IP: netip.AddrFrom16(e.key).Unmap(), Rate: int(e.prev + e.cur), Dropped: e.dropped,
				LastSeen: time.Unix(0, e.last)}
			if e.until > ns {
				en.BlockedUntil = time.Unix(0, e.until)
			}
			out = append(out, en)
		}
		s.mu.Unlock()
	}
	return out
}

// Clear forgets ip (unblocking it); it reports whether ip was tracked.
func (t *Table) Clear(ip netip.Addr) bool {
	key := ip.Unmap().As16()
	s := t.set(&key)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.e {
		if e := &s.e[i]; e.used && e.key == key {
			*e = entry{}
			return true
		}
	}
	return false
}

// ClearAll forgets every source and returns how many were blocked.
func (t *Table) ClearAll() int {
	now := time.Now().UnixNano()
	n := 0
	for i := range t.sets {
		s := &t.sets[i]
		s.mu.Lock()
		for j := range s.e {
			if s.e[j].until > now {
				n++
			}
			s.e[j] = entry{}
		}
		s.mu.Unlock()
	}
	return n
}

// Stats are the table's counters since New, for metrics.
type Stats struct {
	// Checked counts the requests counted (exempt ones are not).
	Checked uint64
	// Blocks counts the times a source was blocked.
	Blocks uint64
	// Dropped counts the requests refused from blocked sources.
	Dropped uint64
	// Evicted counts live entries given away to a new source.
	Evicted uint64
}

// Stats returns the counters.
func (t *Table) Stats() Stats {
	return Stats{Checked: t.checked.Load(), Blocks: t.blocks.Load(), Dropped: t.dropped.Load(), Evicted: t.evicted.Load()}
}
