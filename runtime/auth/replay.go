package auth

import (
	"encoding/binary"
	"sync"
	"time"
)

// replayShards spreads the nonce-count table over independent locks so that
// concurrent requests rarely wait on each other.
const replayShards = 64

// replayWindow is how far below the highest nc seen a late request may
// still be accepted (requests on one nonce may arrive out of order).
const replayWindow = 64

// Replay remembers, for each nonce in use, which nonce counts (nc) were
// already accepted, so that a captured answer cannot be sent again within
// the nonce's life. Memory is bounded: each shard holds a fixed number of
// nonces; when one must be forgotten to make room, every nonce issued up to
// it is treated as stale from then on (the client gets stale=true and a
// fresh nonce), so forgetting never opens a replay window.
type Replay struct {
	shards [replayShards]replayShard
}

type replayShard struct {
	mu    sync.Mutex
	m     map[nonceKey]ncWindow
	ring  []nonceKey // insertion order, for eviction
	head  int
	n     int
	floor int64 // Unix ns: nonces issued at or before it are no longer tracked
}

// ncWindow is the highest nc accepted and a bitmap of the replayWindow
// counts below it (bit i = max-i seen).
type ncWindow struct {
	issued int64
	max    uint32
	seen   uint64
}

// replayResult is what Use decided.
type replayResult uint8

const (
	replayFresh     replayResult = iota // first use of this nc
	replayRepeated                      // this nc was used before: a replay
	replayUntracked                     // the nonce was forgotten: answer stale
)

// NewReplay returns a table that tracks up to capacity nonces.
func NewReplay(capacity int) *Replay {
	per := max(capacity/replayShards, 16)
	r := &Replay{}
	for i := range r.shards {
		r.shards[i] = replayShard{m: make(map[nonceKey]ncWindow, per), ring: make([]nonceKey, per)}
	}
	return r
}

// parseNC reads the 8 hex digits of a nonce count; zero is invalid.
func parseNC(s string) (uint32, bool) {
	var b [4]byte
	if !decodeHex(b[:], s) {
		return 0, false
	}
	nc := binary.BigEndian.Uint32(b[:])
	return nc, nc != 0
}

// Use records nc for the nonce key (issued at issued) and says whether it is
// fresh. expired tells entries that may be dropped first (older than the
// nonce TTL; their nonces are stale anyway).
func (r *Replay) Use(key nonceKey, issued time.Time, nc uint32, now time.Time, ttl time.Duration) replayResult {
	s := &r.shards[key[0]%replayShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	iss := issued.UnixNano()
	if iss <= s.floor {
		return replayUntracked
	}
	w, ok := s.m[key]
	if !ok {
		s.makeRoom(now.Add(-ttl).UnixNano())
		s.m[key] = ncWindow{issued: iss, max: nc, seen: 1}
		s.ring[(s.head+s.n)%len(s.ring)] = key
		s.n++
		return replayFresh
	}
	switch {
	case nc > w.max:
		shift := nc - w.max
		if shift >= replayWindow {
			w.seen = 0
		} else {
			w.seen <<= shift
		}
		w.seen |= 1
		w.max = nc
	case w.max-nc >= replayWindow:
		return replayRepeated // too old to tell: refuse
	default:
		bit := uint64(1) << (w.max - nc)
		if w.seen&bit != 0 {
			return replayRepeated
		}
		w.seen |= bit
	}
	s.m[key] = w
	return replayFresh
}

// makeRoom drops expired entries from the front, then the oldest entry when
// the shard is still full, raising the floor past it.
func (s *replayShard) makeRoom(expiredBefore int64) {
	for s.n > 0 {
		front := s.ring[s.head]
		w := s.m[front]
		if s.n < len(s.ring) && w.issued > expiredBefore {
			return
		}
		if w.issued > expiredBefore { // still alive: forgetting it makes it (and older) stale
			s.floor = max(s.floor, w.issued)
		}
		delete(s.m, front)
		s.head = (s.head + 1) % len(s.ring)
		s.n--
	}
}

// Len returns how many nonces are tracked, for metrics and tests.
func (r *Replay) Len() int {
	n := 0
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		n += s.n
		s.mu.Unlock()
	}
	return n
}
