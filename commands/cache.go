package commands

import (
	"sync"

	"github.com/schoollife/ledger/domain"
)

// DefaultCacheEvents bounds the events the handlers keep decoded (about
// 100 MB at worst for the largest events; most are far smaller).
const DefaultCacheEvents = 200_000

// streamCache keeps the decoded events of the streams the handlers read
// last. A stream's events never change once written, so a cached prefix
// stays true: a load reads from the store only what follows it. The read
// still goes to the store every time, so the handlers see what other
// processes appended exactly as without the cache; what it saves is
// transferring and decoding a stream's older events again (an 8 a.m. roll
// call reads its class's membership, thirty and more events, and its
// teacher's account).
//
// Entries are immutable once stored: a longer prefix replaces an entry, it
// never grows one in place, so folds may share them without locking.
type streamCache struct {
	mu      sync.Mutex
	max     int // events, across entries
	n       int
	entries map[string]*cachedStream
}

// cachedStream is a prefix of a stream: its records without payloads
// (for versions and idempotent replays) and their decoded events.
type cachedStream struct {
	recs   []domain.Record
	events []domain.Event
}

func newStreamCache(max int) *streamCache {
	return &streamCache{max: max, entries: map[string]*cachedStream{}}
}

// get returns the cached prefix of stream, if any.
func (c *streamCache) get(stream string) *cachedStream {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[stream]
}

// put stores a prefix of stream unless a prefix at least as long is
// there, evicting entries (in the map's random order) to stay under max
// events. A prefix longer than max is not kept.
func (c *streamCache) put(stream string, e *cachedStream) {
	if c == nil || len(e.recs) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.entries[stream]
	if old != nil {
		if len(old.recs) >= len(e.recs) {
			return
		}
		c.n -= len(old.recs)
		delete(c.entries, stream)
	}
	for name, victim := range c.entries {
		if c.n+len(e.recs) <= c.max {
			break
		}
		c.n -= len(victim.recs)
		delete(c.entries, name)
	}
	c.entries[stream] = e
	c.n += len(e.recs)
}

// size returns the streams and events cached.
func (c *streamCache) size() (streams, events int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.n
}
