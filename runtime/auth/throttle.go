package auth

import (
	"hash/maphash"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// ThrottleSettings are an auth stage's brute-force limits: MaxFailures
// failed answers within Window block the source (or the user) for Block.
type ThrottleSettings struct {
	MaxFailures int
	Window      time.Duration
	Block       time.Duration
}

// Throttle counts failed answers per source address and per user in a
// sliding window and blocks those that fail too often. Memory is bounded:
// each table keeps at most a fixed number of keys and evicts, when full,
// one key of a small random sample for each new one, preferring keys whose
// window and block are over, then unblocked ones (makeRoom). Blocks end by
// themselves.
type Throttle struct {
	settings atomic.Pointer[ThrottleSettings]
	sources  limiter[netip.Addr]
	users    limiter[string]
}

// NewThrottle returns a throttle with s that tracks up to capacity keys of
// each kind (sources, users).
func NewThrottle(s ThrottleSettings, capacity int) *Throttle {
	t := &Throttle{}
	t.settings.Store(&s)
	seed := maphash.MakeSeed()
	t.sources.init(capacity, func(a netip.Addr) uint64 {
		b := a.As16()
		return maphash.Bytes(seed, b[:])
	})
	t.users.init(capacity, func(u string) uint64 { return maphash.String(seed, u) })
	return t
}

// SetSettings changes the limits (a reload); counts and blocks are kept.
func (t *Throttle) SetSettings(s ThrottleSettings) { t.settings.Store(&s) }

// Settings returns the current limits.
func (t *Throttle) Settings() ThrottleSettings { return *t.settings.Load() }

// Blocked reports whether src or user ("" for none) is blocked at now, and
// which of the two ("source" or "user").
func (t *Throttle) Blocked(src netip.Addr, user string, now time.Time) (kind string, blocked bool) {
	if t.sources.blocked(src, now) {
		return "source", true
	}
	if user != "" && t.users.blocked(user, now) {
		return "user", true
	}
	return "", false
}

// Fail counts a failed answer from src for user and reports the blocks that
// this failure started (each is reported once, for one log line per block).
func (t *Throttle) Fail(src netip.Addr, user string, now time.Time) (srcBlocked, userBlocked bool) {
	s := t.settings.Load()
	if s.MaxFailures <= 0 {
		return false, false
	}
	srcBlocked = t.sources.fail(src, now, s)
	if user != "" {
		userBlocked = t.users.fail(user, now, s)
	}
	return srcBlocked, userBlocked
}

// Entry is one row of the throttle table, for the admin API and ctl.
type Entry struct {
	// Kind is "source" or "user"; Key the address or user name.
	Kind string `json:"kind"`
	Key  string `json:"key"`
	// Failures counts the failed answers within the window.
	Failures int `json:"failures"`
	// BlockedUntil is zero when the key is not blocked.
	BlockedUntil time.Time `json:"blocked_until,omitzero"`
}

// List returns every key with failures in the window or a running block,
// blocked ones first, then by key.
func (t *Throttle) List(now time.Time) []Entry {
	s := t.settings.Load()
	out := t.sources.list("source", now, s, func(a netip.Addr) string { return a.String() })
	out = append(out, t.users.list("user", now, s, func(u string) string { return u })...)
	sort.Slice(out, func(i, j int) bool {
		bi, bj := !out[i].BlockedUntil.IsZero(), !out[j].BlockedUntil.IsZero()
		if bi != bj {
			return bi
		}
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// Clear forgets a source address or user (the operator lifts a block); it
// reports whether there was anything to forget.
func (t *Throttle) Clear(key string) bool {
	cleared := t.users.clear(key)
	if a, err := netip.ParseAddr(key); err == nil {
		cleared = t.sources.clear(a.Unmap()) || cleared
	}
	return cleared
}

const limiterShards = 32

// limiter is one sharded table of failure counts.
type limiter[K comparable] struct {
	hash   func(K) uint64
	per    int
	shards [limiterShards]limiterShard[K]
}

type limiterShard[K comparable] struct {
	mu sync.Mutex
	m  map[K]*failures
}

// failures is a key's recent failure times (a ring of MaxFailures entries:
// the key is over the limit when the oldest of them is within the window).
type failures struct {
	times        []int64
	next         int
	last         int64
	blockedUntil int64
}

func (l *limiter[K]) init(capacity int, hash func(K) uint64) {
	l.hash, l.per = hash, max(capacity/limiterShards, 4)
	for i := range l.shards {
		l.shards[i].m = make(map[K]*failures)
	}
}

func (l *limiter[K]) shard(k K) *limiterShard[K] { return &l.shards[l.hash(k)%limiterShards] }

func (l *limiter[K]) blocked(k K, now time.Time) bool {
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.m[k]
	return f != nil && f.blockedUntil > now.UnixNano()
}

// fail records a failure and reports whether it started a block.
func (l *limiter[K]) fail(k K, now time.Time, set *ThrottleSettings) bool {
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := now.UnixNano()
	f := s.m[k]
	if f == nil {
		l.makeRoom(s, ns, set)
		f = &failures{}
		s.m[k] = f
	}
	if len(f.times) != set.MaxFailures { // new, or the limit changed by a reload
		f.times, f.next = make([]int64, set.MaxFailures), 0
	}
	f.times[f.next] = ns
	f.next = (f.next + 1) % len(f.times)
	f.last = ns
	oldest := f.times[f.next] // the MaxFailures-th most recent failure
	if f.blockedUntil <= ns && oldest != 0 && ns-oldest <= int64(set.Window) {
		f.blockedUntil = ns + int64(set.Block)
		// The failures are paid for by the block: when it ends, the key
		// starts afresh rather than being blocked again by one failure.
		clear(f.times)
		return true
	}
	return false
}

// makeRoom keeps a shard within its share of the capacity: it drops one
// key for the new one, chosen among evictSample that map iteration yields
// from its random start (O(1) under the shard's lock, whatever its size):
// a key whose window and block are over at once, else the least recently
// failed unblocked key of the sample, else its oldest block.
func (l *limiter[K]) makeRoom(s *limiterShard[K], now int64, set *ThrottleSettings) {
	for len(s.m) >= l.per {
		var victim K
		var worst *failures
		n := 0
		for k, f := range s.m {
			if worst == nil || f.evictsBefore(worst, now) {
				victim, worst = k, f
			}
			if n++; n == evictSample || worst.over(now, set) {
				break
			}
		}
		delete(s.m, victim)
	}
}

// over reports whether f's window and block are both over: it holds
// nothing that counts.
func (f *failures) over(now int64, set *ThrottleSettings) bool {
	return f.blockedUntil <= now && now-f.last > int64(set.Window)
}

// evictsBefore reports whether f should be dropped before g: unblocked
// keys before blocked ones, then the least recently failed.
func (f *failures) evictsBefore(g *failures, now int64) bool {
	if fb, gb := f.blockedUntil > now, g.blockedUntil > now; fb != gb {
		return gb
	}
	return f.last < g.last
}

func (l *limiter[K]) list(kind string, now time.Time, set *ThrottleSettings, str func(K) string) []Entry {
	ns := now.UnixNano()
	var out []Entry
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for k, f := range s.m {
			e := Entry{Kind: kind, Key: str(k)}
			for _, t := range f.times {
				if t != 0 && ns-t <= int64(set.Window) {
					e.Failures++
				}
			}
			if f.blockedUntil > ns {
				e.BlockedUntil = time.Unix(0, f.blockedUntil)
			}
			if e.Failures > 0 || !e.BlockedUntil.IsZero() {
				out = append(out, e)
			}
		}
		s.mu.Unlock()
	}
	return out
}

func (l *limiter[K]) clear(k K) bool {
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[k]
	delete(s.m, k)
	return ok
}

// Len returns how many keys the throttle tracks, sources and users.
func (t *Throttle) Len() int { return t.sources.len() + t.users.len() }

func (l *limiter[K]) len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
