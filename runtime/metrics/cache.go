package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// cache maps a label key to its resolved counter child. Reads load an
// immutable map through an atomic pointer (no lock); a miss copies the map
// under a mutex, which happens once per label value for the life of the
// process. Keys are bounded (methods, codes, graph IDs), so the copies are
// small and rare.
type cache[K comparable] struct {
	m    atomic.Pointer[map[K]prometheus.Counter]
	mu   sync.Mutex
	make func(K) prometheus.Counter
}

func (c *cache[K]) init(make func(K) prometheus.Counter) {
	c.make = make
	empty := map[K]prometheus.Counter{}
	c.m.Store(&empty)
}

// get returns the counter for k, creating it on first use.
func (c *cache[K]) get(k K) prometheus.Counter {
	if v, ok := (*c.m.Load())[k]; ok {
		return v
	}
	return c.add(k)
}

func (c *cache[K]) add(k K) prometheus.Counter {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.m.Load()
	if v, ok := old[k]; ok {
		return v
	}
	next := make(map[K]prometheus.Counter, len(old)+1)
	for key, v := range old {
		next[key] = v
	}
	v := c.make(k)
	next[k] = v
	c.m.Store(&next)
	return v
}
