package commands

import (
	"fmt"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestStreamCacheBound: the cache never holds more than its bound in
// events, keeps the longest prefix of a stream, and skips a stream longer
// than the bound.
func TestStreamCacheBound(t *testing.T) {
	c := newStreamCache(100)
	prefix := func(n int) *cachedStream {
		return &cachedStream{recs: make([]domain.Record, n), events: make([]domain.Event, n)}
	}
	for i := range 50 {
		c.put(fmt.Sprintf("s%d", i), prefix(7))
		if _, n := c.size(); n > 100 {
			t.Fatalf("after %d puts: %d events cached, bound 100", i+1, n)
		}
	}
	c.put("s49", prefix(3))
	if got := c.get("s49"); got == nil || len(got.recs) != 7 {
		t.Fatalf("a shorter prefix replaced a longer one: %v", got)
	}
	c.put("s49", prefix(9))
	if got := c.get("s49"); got == nil || len(got.recs) != 9 {
		t.Fatalf("the longer prefix was not kept: %v", got)
	}
	c.put("huge", prefix(101))
	if c.get("huge") != nil {
		t.Fatal("a prefix longer than the bound was cached")
	}
	if streams, n := c.size(); n > 100 || streams == 0 {
		t.Fatalf("%d streams, %d events", streams, n)
	}
	var none *streamCache
	none.put("s", prefix(1))
	if none.get("s") != nil {
		t.Fatal("a nil cache returned an entry")
	}
}
