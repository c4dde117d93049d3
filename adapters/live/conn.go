package live

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/schoollife/ledger/domain"
)

// item is a frame queued on a socket.
type item struct {
	pos domain.Position
	pm  *websocket.PreparedMessage
}

// spareCap bounds the queue buffer a socket keeps between bursts: an idle
// socket holds at most two of them.
const spareCap = 8

// conn is one socket. The hub queues frames on it without waiting; its
// writer goroutine sends them; its reader goroutine reads control frames.
type conn struct {
	// ws is set by attach, before the reader and writer start; they use
	// it freely, others under mu.
	ws *websocket.Conn
	// f is what the viewer may see. The dispatching goroutine alone
	// replaces it (Hub.swap, under the hub's lock and mu) and reads it
	// without a lock; the writer's catch-up reads it under mu (filter).
	f *filter
	// viewer is who the socket serves; session identifies the sign-in it
	// was opened with (Session.ID, empty if none) (both immutable).
	viewer  Viewer
	session string
	// deadline is when the socket closes, if not zero: its session's
	// expiry (sessionEnds) or the end of its lifetime, whichever comes
	// first (immutable).
	deadline    time.Time
	sessionEnds bool
	// index is the conn's place in the hub's list (under the hub's lock).
	index int
	// mark is the hub's dispatch that last visited the conn (only the
	// dispatching goroutine touches it).
	mark uint64

	mu     sync.Mutex
	queue  []item
	max    int
	killed bool
	code   int // close code to send, 0 for none
	text   string

	wake chan struct{} // capacity 1: the queue has items
	done chan struct{} // closed by kill

	// last is the position of the last event sent or skipped by the
	// catch-up; only the writer touches it.
	last domain.Position
}

// newConn returns a socket's state before its handshake: it may be
// registered and queue frames at once.
func newConn(f *filter, max int) *conn {
	return &conn{f: f, index: -1, max: max, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// setFilter replaces the conn's filter (Hub.swap).
func (c *conn) setFilter(f *filter) {
	c.mu.Lock()
	c.f = f
	c.mu.Unlock()
}

// filter returns the conn's filter, for goroutines other than the
// dispatching one.
func (c *conn) filter() *filter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.f
}

// attach gives the conn its websocket once the handshake is done, before
// the reader and writer start.
func (c *conn) attach(ws *websocket.Conn) {
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
}

// enqueue queues a frame without waiting. It returns false when the queue
// is full: the socket is too slow and must be closed.
func (c *conn) enqueue(it item) bool {
	c.mu.Lock()
	if c.killed {
		c.mu.Unlock()
		return true
	}
	if len(c.queue) >= c.max {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, it)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// take returns the queued frames and leaves spare (emptied) in their place.
func (c *conn) take(spare []item) []item {
	c.mu.Lock()
	q := c.queue
	c.queue = spare[:0]
	c.mu.Unlock()
	return q
}

// kill asks the writer to close the socket, sending a close frame with
// code and text unless code is 0. The first call wins.
func (c *conn) kill(code int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed {
		return
	}
	c.killed, c.code, c.text = true, code, text
	c.queue = nil
	close(c.done)
}

// unblock makes a write stuck on the client's full window fail now rather
// than after WriteWait.
func (c *conn) unblock() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws != nil {
		_ = c.ws.NetConn().SetWriteDeadline(time.Now())
	}
}

// closing returns the close frame kill asked for.
func (c *conn) closing() (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.text
}
