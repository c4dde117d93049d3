package esdb

import (
	"sync"

	"github.com/google/uuid"
)

// idCache remembers the stream of recently appended or read event ids, up
// to a bound: two generations of maps, the older dropped when the newer is
// full. It is how Append answers an id stored in another stream, which
// EventStoreDB itself does not refuse.
type idCache struct {
	mu       sync.Mutex
	max      int
	cur, old map[uuid.UUID]string
}

func newIDCache(n int) *idCache {
	return &idCache{max: max(n/2, 0), cur: make(map[uuid.UUID]string)}
}

func (c *idCache) get(id uuid.UUID) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.cur[id]; ok {
		return s, true
	}
	s, ok := c.old[id]
	return s, ok
}

func (c *idCache) put(id uuid.UUID, stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max == 0 {
		return
	}
	if _, ok := c.cur[id]; !ok && len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[uuid.UUID]string, c.max)
	}
	c.cur[id] = stream
}
