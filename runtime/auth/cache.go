package auth

import (
	"hash/maphash"
	"sync"
)

const cacheShards = 32

// cache holds looked-up credentials, found or not, with their expiry. It is
// sharded so that concurrent lookups rarely share a lock, and bounded: a
// full shard drops one entry for each new one, chosen from a small random
// sample (evictOne).
type cache struct {
	seed   maphash.Seed
	per    int
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[userDomain]cacheEntry
}

// cacheEntry is a cached answer of the database.
type cacheEntry struct {
	cred    Credential
	found   bool
	expires int64 // Unix ns
}

func newCache(capacity int) *cache {
	c := &cache{seed: maphash.MakeSeed(), per: max(capacity/cacheShards, 16)}
	for i := range c.shards {
		c.shards[i].m = make(map[userDomain]cacheEntry)
	}
	return c
}

func (c *cache) shard(k userDomain) *cacheShard {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(k.user)
	h.WriteByte(0)
	h.WriteString(k.domain)
	return &c.shards[h.Sum64()%cacheShards]
}

// get returns the entry for k and whether there is one (expired or not).
func (c *cache) get(k userDomain) (cacheEntry, bool) {
	s := c.shard(k)
	s.mu.RLock()
	e, ok := s.m[k]
	s.mu.RUnlock()
	return e, ok
}

func (c *cache) put(k userDomain, e cacheEntry, now int64) {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; !ok && len(s.m) >= c.per {
		s.evictOne(now)
	}
	s.m[k] = e
}

// evictSample is how many entries a full table looks at to choose the one
// it drops: a few, so that adding a key to a full shard costs O(1) under
// its lock whatever the shard's size (a scan of the whole shard let a
// flood of strangers stall every lookup that shares it).
const evictSample = 8

// evictOne drops one entry of a full shard, chosen among evictSample that
// map iteration yields from its random start: an expired one at once,
// else an unknown user's, else the one that expires first.
func (s *cacheShard) evictOne(now int64) {
	var victim userDomain
	var worst cacheEntry
	n := 0
	for k, e := range s.m {
		if n == 0 || evictsBefore(e, worst, now) {
			victim, worst = k, e
		}
		if n++; n == evictSample || worst.expires <= now {
			break
		}
	}
	delete(s.m, victim)
}

// evictsBefore reports whether a should be dropped before b.
func evictsBefore(a, b cacheEntry, now int64) bool {
	aExp, bExp := a.expires <= now, b.expires <= now
	switch {
	case aExp != bExp:
		return aExp
	case a.found != b.found:
		return !a.found
	}
	return a.expires < b.expires
}

func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
