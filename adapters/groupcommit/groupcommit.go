// Package groupcommit queues the appends of an SQL event store and commits
// them in groups, one transaction per group, so that they share one commit
// and one sync of the write-ahead log.
//
// Concurrent appends are queued; a committer goroutine takes whatever is
// queued at that moment (no waiting window) and hands it to the store's
// Writer, which runs it as one transaction. Each append keeps its own
// semantics: the Writer checks it against the heads as the appends before
// it in the group left them, and one that fails (version conflict,
// duplicate) writes nothing and fails alone. An append returns once the
// transaction holding it has committed.
//
// The queue, the bounds of a group and the hand-over of outcomes are the
// same on every SQL dialect and live here; what a group's transaction runs
// is the store's (adapters/postgres, adapters/sqlite).
package groupcommit

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schoollife/ledger/domain"
)

// Bounds of a group: past them the rest waits for the next transaction.
// One append larger than MaxGroupEvents still goes, alone.
const (
	MaxGroupAppends = 256
	MaxGroupEvents  = 4096
)

// States of a queued append.
const (
	reqQueued    int32 = iota
	reqTaken           // a committer owns it: its outcome will be reported
	reqCancelled       // its caller gave up before a committer took it
)

// Request is one Append waiting in the queue, then its outcome.
type Request struct {
	Stream   string
	Expected domain.ExpectedVersion
	Events   []domain.Envelope

	state atomic.Int32
	done  chan struct{} // closed when Result and Err are final

	// Set by the Writer.
	Result domain.AppendResult
	Err    error
	Wrote  bool // its events are in the group's transaction
}

// NewRequest returns a request to append events to stream, to queue with
// Enqueue.
func NewRequest(stream string, expected domain.ExpectedVersion, events []domain.Envelope) *Request {
	return &Request{Stream: stream, Expected: expected, Events: events, done: make(chan struct{})}
}

// Writer is the store's part: it runs group, in queue order, in one
// transaction and sets the outcome (Result and Err, Wrote) of each of its
// requests. The group outlives the context of any one of its appends: a
// caller that gives up must not cancel the others' commit.
type Writer interface {
	WriteGroup(group []*Request)
}

// Observer is told of each group once its transaction has ended: the
// appends it held, how many of them failed, the events the others wrote,
// and how long the Writer took. `serve` measures appends with it.
type Observer interface {
	GroupCommitted(appends, failed, events int, d time.Duration)
}

// Committer is the queue of appends and the goroutines that commit them.
type Committer struct {
	w        Writer
	n        int // goroutines, started on the first append
	observer atomic.Pointer[observerBox]

	mu      sync.Mutex
	cond    *sync.Cond // signalled on enqueue and on close
	queue   []*Request
	started bool
	closed  bool
	running sync.WaitGroup
}

// New returns a committer that hands groups to w from n goroutines (at
// least one), each running one group at a time. Several let one group's
// round trips overlap another's sync; a store with a single writer takes
// one.
func New(w Writer, n int) *Committer {
	c := &Committer{w: w, n: max(1, n)}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// observerBox holds an Observer in an atomic.Pointer.
type observerBox struct{ o Observer }

// Observe makes o be told of every group committed from now on (nil:
// nobody). The store sets it once, before serving.
func (c *Committer) Observe(o Observer) {
	if o == nil {
		c.observer.Store(nil)
		return
	}
	c.observer.Store(&observerBox{o})
}

// Enqueue queues r, starting the committers on first use. It reports
// false once the committer is closed: the caller appends alone, or fails.
func (c *Committer) Enqueue(r *Request) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	if !c.started {
		c.started = true
		c.running.Add(c.n)
		for range c.n {
			go c.loop()
		}
	}
	c.queue = append(c.queue, r)
	c.cond.Signal()
	return true
}

// loop commits groups until the committer is closed and the queue drained.
func (c *Committer) loop() {
	defer c.running.Done()
	for {
		group := c.take()
		if group == nil {
			return
		}
		start := time.Now()
		c.w.WriteGroup(group)
		// Told before the appends return: whoever sees an append done sees
		// it counted.
		c.observe(group, time.Since(start))
		for _, r := range group {
			close(r.done)
		}
		// Let the appenders just released run before taking the next
		// group: a writer that appends again at once then joins it rather
		// than the one after, and groups do not split into two cohorts
		// taking turns. A yield, not a wait: with nothing runnable it
		// returns at once.
		runtime.Gosched()
	}
}

// observe tells the observer, if any, of a group just written.
func (c *Committer) observe(group []*Request, d time.Duration) {
	box := c.observer.Load()
	if box == nil {
		return
	}
	failed, events := 0, 0
	for _, r := range group {
		if r.Err != nil {
			failed++
			continue
		}
		events += len(r.Events)
	}
	box.o.GroupCommitted(len(group), failed, events, d)
}

// take waits for queued appends and takes as many as a group holds,
// leaving out those whose caller gave up. It returns nil when the
// committer is closed and nothing is left.
func (c *Committer) take() []*Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		var (
			group  []*Request
			events int
			i      int
		)
		for ; i < len(c.queue) && len(group) < MaxGroupAppends; i++ {
			r := c.queue[i]
			if len(group) > 0 && events+len(r.Events) > MaxGroupEvents {
				break
			}
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				group = append(group, r)
				events += len(r.Events)
			}
		}
		n := copy(c.queue, c.queue[i:])
		clear(c.queue[n:])
		c.queue = c.queue[:n]
		if len(group) > 0 {
			if len(c.queue) > 0 {
				c.cond.Signal() // another committer may take the rest
			}
			return group
		}
		if c.closed {
			return nil
		}
		c.cond.Wait()
	}
}

// Queued is how many appends wait for a committer to take them, withdrawn
// ones included until a committer passes them over. Tests use it to hold a
// group where they want it.
func (c *Committer) Queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// Close stops taking new appends and waits until the queued ones are
// committed.
func (c *Committer) Close() {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	c.running.Wait()
}

// Taken reports whether a committer has taken r: its outcome will be
// reported, whatever its caller's context does.
func (r *Request) Taken() bool { return r.state.Load() == reqTaken }

// Await returns r's outcome. If ctx ends while r is still queued, r is
// withdrawn and the error is ctx's; once a committer has taken r, its real
// outcome is reported, however long the commit takes.
func (r *Request) Await(ctx context.Context) (domain.AppendResult, error) {
	select {
	case <-r.done:
		return r.Result, r.Err
	case <-ctx.Done():
	}
	if r.state.CompareAndSwap(reqQueued, reqCancelled) {
		return domain.AppendResult{}, fmt.Errorf("append %s: %w", r.Stream, ctx.Err())
	}
	<-r.done
	return r.Result, r.Err
}
