package registrar

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// shards spreads users over independent locks: Registered and Contacts run
// on the request path of every call, and a REGISTER storm must not stall
// them behind one global lock.
const shards = 64

// index holds the live bindings per user. Each user's bindings are an
// immutable slice replaced whole on change (copy on write), so a reader
// holds a shard's read lock only for one map lookup.
type index struct {
	seed  maphash.Seed
	shard [shards]shard
	count atomic.Int64
}

type shard struct {
	// wmu serialises the writers of a shard across the store write, so that
	// two REGISTERs for one user cannot persist out of order; mu guards the
	// map and is held only to read or swap a slice.
	wmu   sync.Mutex
	mu    sync.RWMutex
	users map[string][]Binding
}

func newIndex() *index {
	ix := &index{seed: maphash.MakeSeed()}
	for i := range ix.shard {
		ix.shard[i].users = make(map[string][]Binding)
	}
	return ix
}

func (ix *index) shardOf(user string) *shard {
	return &ix.shard[maphash.String(ix.seed, user)%shards]
}

// get returns the user's bindings, live or not yet swept; the slice must
// not be modified.
func (ix *index) get(user string) []Binding {
	s := ix.shardOf(user)
	s.mu.RLock()
	bs := s.users[user]
	s.mu.RUnlock()
	return bs
}

// set replaces the user's bindings; the caller holds s.wmu.
func (ix *index) set(s *shard, user string, bs []Binding) {
	s.mu.Lock()
	old := len(s.users[user])
	if len(bs) == 0 {
		delete(s.users, user)
	} else {
		s.users[user] = bs
	}
	s.mu.Unlock()
	ix.count.Add(int64(len(bs) - old))
}

// expired returns the users of the shard with a binding expired at now
// (nil, without allocating, when there is none: the common case of the
// sweep every second).
func (s *shard) expired(now int64) map[string][]Binding {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out map[string][]Binding
	for u, bs := range s.users {
		for i := range bs {
			if !bs[i].Live(now) {
				if out == nil {
					out = make(map[string][]Binding)
				}
				out[u] = bs
				break
			}
		}
	}
	return out
}

// snapshot returns the users of the shard with their bindings.
func (s *shard) snapshot() map[string][]Binding {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string][]Binding, len(s.users))
	for u, bs := range s.users {
		out[u] = bs
	}
	return out
}
