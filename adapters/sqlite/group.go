package sqlite

// Group commit. Concurrent appends are queued; the committer goroutine
// takes whatever is queued at that moment (no waiting window) and runs it
// in one write transaction on the writer connection, so that they share one
// commit and, with synchronous FULL, one sync of the WAL. Each append keeps
// its own semantics: the writer is single, so each append's checks run in
// the shared transaction against what the appends before it in the group
// wrote, exactly as if it ran alone after them; one that fails (version
// conflict, duplicate) writes nothing and fails alone. An append returns
// once the transaction holding it has committed.

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/schoollife/ledger/domain"
)

// Bounds of a group: past them the rest waits for the next transaction.
// One append larger than maxGroupEvents still goes, alone.
const (
	maxGroupAppends = 256
	maxGroupEvents  = 4096
)

// States of a queued append.
const (
	reqQueued    int32 = iota
	reqTaken           // a committer owns it: its outcome will be reported
	reqCancelled       // its caller gave up before a committer took it
)

// appendReq is one Append waiting in the queue, then its outcome.
type appendReq struct {
	stream   string
	expected domain.ExpectedVersion
	events   []domain.Envelope

	state atomic.Int32
	done  chan struct{} // closed when res and err are final

	res   domain.AppendResult
	err   error
	wrote bool // its events are in the group's transaction
}

// committer is the queue of appends and the goroutine that commits them
// (one: SQLite has one writer).
type committer struct {
	n int // goroutines, started on the first append

	mu      sync.Mutex
	cond    *sync.Cond // signalled on enqueue and on close
	queue   []*appendReq
	started bool
	closed  bool
	running sync.WaitGroup
}

func newCommitter(n int) *committer {
	c := &committer{n: max(1, n)}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// enqueue queues r, starting the committers with run on first use. It
// reports false once the committer is closed: the caller appends alone.
func (c *committer) enqueue(r *appendReq, run func(group []*appendReq)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	if !c.started {
		c.started = true
		c.running.Add(c.n)
		for range c.n {
			go c.loop(run)
		}
	}
	c.queue = append(c.queue, r)
	c.cond.Signal()
	return true
}

// loop commits groups until the committer is closed and the queue drained.
func (c *committer) loop(run func(group []*appendReq)) {
	defer c.running.Done()
	for {
		group := c.take()
		if group == nil {
			return
		}
		run(group)
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

// take waits for queued appends and takes as many as a group holds,
// leaving out those whose caller gave up. It returns nil when the
// committer is closed and nothing is left.
func (c *committer) take() []*appendReq {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		var (
			group  []*appendReq
			events int
			i      int
		)
		for ; i < len(c.queue) && len(group) < maxGroupAppends; i++ {
			r := c.queue[i]
			if len(group) > 0 && events+len(r.events) > maxGroupEvents {
				break
			}
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				group = append(group, r)
				events += len(r.events)
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

// close stops taking new appends and waits until the queued ones are
// committed.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	c.running.Wait()
}

// await returns r's outcome. If ctx ends while r is still queued, r is
// withdrawn and the error is ctx's; once a committer has taken r, its real
// outcome is reported, however long the commit takes.
func (r *appendReq) await(ctx context.Context) (domain.AppendResult, error) {
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
	}
	if r.state.CompareAndSwap(reqQueued, reqCancelled) {
		return domain.AppendResult{}, fmt.Errorf("append %s: %w", r.stream, ctx.Err())
	}
	<-r.done
	return r.res, r.err
}
