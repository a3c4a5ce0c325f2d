package carrier

import (
	"sync"

	"github.com/sipfront/sipfront/compiler/graph"
)

// Counter is a standalone CallCounter: calls started and ended by the
// caller. The proxy uses its dialog table instead; Counter serves tests
// and tools without one.
type Counter struct {
	mu sync.Mutex
	n  map[graph.ID]int
}

// NewCounter returns an empty counter.
func NewCounter() *Counter { return &Counter{n: make(map[graph.ID]int)} }

// Start counts a call in progress at id.
func (c *Counter) Start(id graph.ID) {
	c.mu.Lock()
	c.n[id]++
	c.mu.Unlock()
}

// End counts a call at id as ended.
func (c *Counter) End(id graph.ID) {
	c.mu.Lock()
	if c.n[id] > 0 {
		c.n[id]--
	}
	c.mu.Unlock()
}

// Active implements CallCounter.
func (c *Counter) Active(id graph.ID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id]
}
