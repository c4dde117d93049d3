package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/schoollife/ledger/domain"
)

// HubConfig configures a Hub.
type HubConfig struct {
	// Subscriber is this node's end of the bus (adapters/bus).
	Subscriber message.Subscriber
	// Topic defaults to Topic.
	Topic  string
	Logger *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *HubConfig) Validate() error {
	if c.Subscriber == nil {
		return errors.New("live: hub needs a Subscriber")
	}
	if c.Topic == "" {
		c.Topic = Topic
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Hub is one node's fan-out: it receives every event from the bus and
// queues it on each socket whose viewer may see it. It never waits for a
// socket: a socket whose queue is full is closed (its client reconnects
// with ?after=).
type Hub struct {
	cfg HubConfig

	mu    sync.RWMutex
	conns []*conn // each conn knows its index
	// bySubject and byEstablishment index the sockets by the ids and the
	// establishment their filter can match (filter.keys): an event is
	// matched against the sockets indexed under its subjects and its
	// establishment only, not against every socket of the node.
	bySubject       map[uuid.UUID][]*conn
	byEstablishment map[string][]*conn
	// mark numbers the dispatches, so that a socket indexed under several
	// of an event's subjects is visited once; only the dispatching
	// goroutine touches it and the conns' marks.
	mark uint64

	// last is the position of the last event dispatched; only the
	// dispatching goroutine touches it.
	last domain.Position

	stats HubStats
	ready chan struct{} // closed once subscribed
}

// HubStats counts what a hub did, for logs and tests.
type HubStats struct {
	Events     atomic.Int64 // events dispatched
	Duplicates atomic.Int64 // events dropped as at or before the last one
	Queued     atomic.Int64 // frames queued on sockets
	Dropped    atomic.Int64 // sockets closed for being too slow
}

// NewHub returns a hub; Run feeds it.
func NewHub(cfg HubConfig) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newHub(cfg), nil
}

func newHub(cfg HubConfig) *Hub {
	return &Hub{cfg: cfg, ready: make(chan struct{}), bySubject: map[uuid.UUID][]*conn{}, byEstablishment: map[string][]*conn{}}
}

// Stats returns the hub's counters.
func (h *Hub) Stats() *HubStats { return &h.stats }

// Connections returns how many sockets the hub serves.
func (h *Hub) Connections() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}

// Ready is closed once Run has subscribed: start the forwarder after it,
// or the in-process bus drops what is published before.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Run subscribes to the bus and dispatches its events until ctx ends; it
// then closes every socket (going away: clients reconnect elsewhere).
func (h *Hub) Run(ctx context.Context) error {
	msgs, err := h.cfg.Subscriber.Subscribe(ctx, h.cfg.Topic)
	if err != nil {
		return err
	}
	close(h.ready)
	defer h.closeAll(websocket.CloseGoingAway, "server shutting down: reconnect with ?after=")
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-msgs:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("live: bus subscription closed")
			}
			ev, err := DecodeEvent(m.Payload)
			if err != nil {
				h.cfg.Logger.WarnContext(ctx, "live: dropping bus message", "uuid", m.UUID, "err", err)
			} else {
				h.Dispatch(&ev)
			}
			// Acked whatever happened: the hub has no use for a redelivery.
			m.Ack()
		}
	}
}

// Dispatch queues ev on the sockets allowed to see it, unless it is at or
// before the last event dispatched (a re-publication). Run calls it; it
// must not be called concurrently.
func (h *Hub) Dispatch(ev *Event) {
	if !h.last.Less(ev.Position) {
		h.stats.Duplicates.Add(1)
		return
	}
	h.last = ev.Position
	h.stats.Events.Add(1)
	d := delivery{ev: ev, class: classes[ev.Type]}
	if d.class == classHidden {
		return
	}
	h.mark++
	var slow []*conn
	visit := func(c *conn) {
		if c.mark == h.mark {
			return
		}
		c.mark = h.mark
		if !c.f.match(ev, d.class) {
			return
		}
		pm, err := d.prepared(c.f)
		if err != nil {
			h.cfg.Logger.Warn("live: frame", "position", ev.Position, "type", ev.Type, "err", err)
			return
		}
		if c.enqueue(item{pos: ev.Position, pm: pm}) {
			h.stats.Queued.Add(1)
		} else {
			slow = append(slow, c)
		}
	}
	h.mu.RLock()
	for _, id := range ev.Subjects {
		for _, c := range h.bySubject[id] {
			visit(c)
		}
	}
	if ev.Establishment != "" {
		for _, c := range h.byEstablishment[ev.Establishment] {
			visit(c)
		}
	}
	h.mu.RUnlock()
	for _, c := range slow {
		h.stats.Dropped.Add(1)
		c.kill(CloseTooSlow, "too slow: reconnect with ?after=")
		c.unblock()
	}
}

// delivery is one event being dispatched: its frame is encoded once for
// every socket that sees it as it is.
type delivery struct {
	ev     *Event
	class  class
	shared *websocket.PreparedMessage
}

// prepared returns the frame of the event for a socket with filter f.
func (d *delivery) prepared(f *filter) (*websocket.PreparedMessage, error) {
	if f.redacts(d.ev.Type) {
		data, err := f.redactIncident(d.ev.Data)
		if err != nil {
			return nil, err
		}
		return prepare(d.ev.frame(data))
	}
	if d.shared == nil {
		pm, err := prepare(d.ev.frame(d.ev.Data))
		if err != nil {
			return nil, err
		}
		d.shared = pm
	}
	return d.shared, nil
}

func prepare(f Frame) (*websocket.PreparedMessage, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return websocket.NewPreparedMessage(websocket.TextMessage, b)
}

// add registers a socket: from now on it receives the events dispatched.
func (h *Hub) add(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.index = len(h.conns)
	h.conns = append(h.conns, c)
	for _, id := range c.f.keys() {
		h.bySubject[id] = append(h.bySubject[id], c)
	}
	if est := c.f.establishment; est != "" {
		h.byEstablishment[est] = append(h.byEstablishment[est], c)
	}
}

// remove unregisters a socket (idempotent).
func (h *Hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := c.index
	if i < 0 || i >= len(h.conns) || h.conns[i] != c {
		return
	}
	last := len(h.conns) - 1
	h.conns[i] = h.conns[last]
	h.conns[i].index = i
	h.conns[last] = nil
	h.conns = h.conns[:last]
	c.index = -1
	for _, id := range c.f.keys() {
		if l := without(h.bySubject[id], c); len(l) > 0 {
			h.bySubject[id] = l
		} else {
			delete(h.bySubject, id)
		}
	}
	if est := c.f.establishment; est != "" {
		if l := without(h.byEstablishment[est], c); len(l) > 0 {
			h.byEstablishment[est] = l
		} else {
			delete(h.byEstablishment, est)
		}
	}
}

// without removes c from l, in place, not keeping the order.
func without(l []*conn, c *conn) []*conn {
	for i, x := range l {
		if x == c {
			last := len(l) - 1
			l[i] = l[last]
			l[last] = nil
			return l[:last]
		}
	}
	return l
}

// closeAll closes every socket.
func (h *Hub) closeAll(code int, text string) {
	h.mu.RLock()
	conns := append([]*conn(nil), h.conns...)
	h.mu.RUnlock()
	for _, c := range conns {
		c.kill(code, text)
	}
}
