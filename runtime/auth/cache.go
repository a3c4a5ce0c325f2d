package auth

import (
	"hash/maphash"
	"sync"
)

const cacheShards = 32

// cache holds looked-up credentials, found or not, with their expiry. It is
// sharded so that concurrent lookups rarely share a lock, and bounded: a
// full shard drops expired entries, then arbitrary ones.
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
		for key, old := range s.m {
			if old.expires <= now {
				delete(s.m, key)
			}
		}
		for key := range s.m {
			if len(s.m) < c.per {
				break
			}
			delete(s.m, key)
		}
	}
	s.m[k] = e
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
