package groupcommit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/groupcommit"
	"github.com/schoollife/ledger/domain"
)

// gatedWriter writes nothing: it holds each group until released, and
// fails the appends to the stream "refused".
type gatedWriter struct {
	entered chan int // the size of each group it takes
	release chan struct{}
}

func (w *gatedWriter) WriteGroup(group []*groupcommit.Request) {
	w.entered <- len(group)
	<-w.release
	for _, r := range group {
		if r.Stream == "refused" {
			r.Err = errors.New("refused")
			continue
		}
		r.Wrote = true
	}
}

// groups records what the observer hears.
type groups struct {
	mu   sync.Mutex
	seen [][3]int // appends, failed, events
}

func (g *groups) GroupCommitted(appends, failed, events int, d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if d < 0 {
		panic("negative duration")
	}
	g.seen = append(g.seen, [3]int{appends, failed, events})
}

func envelopes(n int) []domain.Envelope {
	out := make([]domain.Envelope, n)
	for i := range out {
		out[i] = domain.Envelope{ID: uuid.New(), Type: "test.v1"}
	}
	return out
}

// TestObserver: the observer hears each group before its appends return,
// with its size, its failures and the events written.
func TestObserver(t *testing.T) {
	t.Parallel()
	w := &gatedWriter{entered: make(chan int, 4), release: make(chan struct{})}
	c := groupcommit.New(w, 1)
	defer c.Close()
	obs := &groups{}
	c.Observe(obs)
	ctx := context.Background()

	// A first append holds the committer; three more queue behind it and
	// go together.
	first := groupcommit.NewRequest("a", domain.AnyVersion(), envelopes(2))
	c.Enqueue(first)
	if n := <-w.entered; n != 1 {
		t.Fatalf("first group of %d", n)
	}
	queued := []*groupcommit.Request{
		groupcommit.NewRequest("b", domain.AnyVersion(), envelopes(1)),
		groupcommit.NewRequest("refused", domain.AnyVersion(), envelopes(5)),
		groupcommit.NewRequest("c", domain.AnyVersion(), envelopes(3)),
	}
	for _, r := range queued {
		c.Enqueue(r)
	}
	if n := c.Queued(); n != len(queued) {
		t.Fatalf("%d queued behind the first group, want %d", n, len(queued))
	}
	w.release <- struct{}{}
	if _, err := first.Await(ctx); err != nil {
		t.Fatal(err)
	}
	obs.mu.Lock()
	if len(obs.seen) != 1 || obs.seen[0] != [3]int{1, 0, 2} {
		t.Errorf("after the first group: observed %v, want [[1 0 2]]", obs.seen)
	}
	obs.mu.Unlock()
	if n := <-w.entered; n != 3 {
		t.Fatalf("second group of %d, want 3", n)
	}
	w.release <- struct{}{}
	for _, r := range queued {
		_, _ = r.Await(ctx)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.seen) != 2 || obs.seen[1] != [3]int{3, 1, 4} {
		t.Errorf("observed %v, want the second group as [3 1 4]", obs.seen)
	}
}
