package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

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
	Topic string
	// Deployment is the deployment whose messages the hub takes (the
	// bus's, bus.Bus.Deployment); it drops and logs any other
	// (DeploymentMetadata).
	Deployment string
	// Directory and Progress let sockets follow the directory: after an
	// event that changes what some viewers may see, the hub waits until
	// Progress (the directory read model's checkpoint, ProjectionProgress)
	// has reached it, then rebuilds their filters from Directory (see
	// follow.go). Without them, those sockets are closed instead and their
	// clients reconnect.
	Directory Directory
	Progress  Progress
	// Registry decodes the directory events that change what viewers may
	// see (domain.NewRegistry() by default).
	Registry *domain.Registry
	// DirectoryWait bounds that wait (default 5 s); past it the sockets
	// are closed. DirectoryPoll is how often Progress is read meanwhile
	// (default 20 ms).
	DirectoryWait, DirectoryPoll time.Duration
	// SweepEvery is how often sockets are checked against their deadline:
	// their session's expiry and their lifetime (default 250 ms).
	SweepEvery time.Duration
	// Now is the clock of those deadlines (time.Now by default).
	Now    func() time.Time
	Logger *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *HubConfig) Validate() error {
	if c.Subscriber == nil {
		return errors.New("live: hub needs a Subscriber")
	}
	if (c.Directory == nil) != (c.Progress == nil) {
		return errors.New("live: hub needs both Directory and Progress, or neither")
	}
	c.fill()
	return nil
}

// fill sets the defaults.
func (c *HubConfig) fill() {
	c.Topic = or(c.Topic, Topic)
	if c.Registry == nil {
		c.Registry = domain.NewRegistry()
	}
	c.DirectoryWait = or(c.DirectoryWait, 5*time.Second)
	c.DirectoryPoll = or(c.DirectoryPoll, 20*time.Millisecond)
	c.SweepEvery = or(c.SweepEvery, 250*time.Millisecond)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
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
	// byViewer indexes the sockets by their viewer's account, for the
	// directory changes about them.
	byViewer map[uuid.UUID][]*conn
	// changed is the position of the last event that changed someone's
	// filter (visibility.ChangeOf): a socket whose filter was read from the
	// directory before it may only be added once the directory has
	// applied it (addIf).
	changed domain.Position
	// mark numbers the dispatches, so that a socket indexed under several
	// of an event's subjects is visited once; only the dispatching
	// goroutine touches it and the conns' marks.
	mark uint64

	// last is the position of the last event dispatched; only the
	// dispatching goroutine touches it.
	last domain.Position
	// foreignLogged is when a foreign message was last logged; only the
	// dispatching goroutine touches it.
	foreignLogged time.Time

	// clock waits for the directory read model (nil without Progress).
	clock *directoryClock

	stats HubStats
	ready chan struct{} // closed once subscribed
}

// HubStats counts what a hub did, for logs and tests.
type HubStats struct {
	Events     atomic.Int64 // events dispatched
	Duplicates atomic.Int64 // events dropped as at or before the last one
	Foreign    atomic.Int64 // messages dropped as another deployment's
	Queued     atomic.Int64 // frames queued on sockets
	Dropped    atomic.Int64 // sockets closed for being too slow
	Refilters  atomic.Int64 // socket filters rebuilt after a directory change
	Ended      atomic.Int64 // sockets closed for their session, account or deadline
}

// NewHub returns a hub; Run feeds it.
func NewHub(cfg HubConfig) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newHub(cfg), nil
}

func newHub(cfg HubConfig) *Hub {
	cfg.fill()
	h := &Hub{
		cfg: cfg, ready: make(chan struct{}),
		bySubject: map[uuid.UUID][]*conn{}, byEstablishment: map[string][]*conn{}, byViewer: map[uuid.UUID][]*conn{},
	}
	if cfg.Progress != nil {
		h.clock = &directoryClock{src: cfg.Progress, every: cfg.DirectoryPoll, wait: cfg.DirectoryWait}
	}
	return h
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
	sweepCtx, stopSweep := context.WithCancel(ctx)
	sweeping := make(chan struct{})
	defer func() { stopSweep(); <-sweeping }()
	go func() {
		defer close(sweeping)
		h.sweepEvery(sweepCtx)
	}()
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
			h.handle(ctx, m)
			// Acked whatever happened: the hub has no use for a redelivery.
			m.Ack()
		}
	}
}

// handle dispatches one bus message: an event, then the directory
// changes it makes; or a control message.
func (h *Hub) handle(ctx context.Context, m *message.Message) {
	if d := m.Metadata.Get(DeploymentMetadata); d != h.cfg.Deployment {
		h.foreign(ctx, d, m)
		return
	}
	if kind := m.Metadata.Get(ControlMetadata); kind != "" {
		h.control(ctx, kind, m.Payload)
		return
	}
	ev, err := DecodeEvent(m.Payload)
	if err != nil {
		h.cfg.Logger.WarnContext(ctx, "live: dropping bus message", "uuid", m.UUID, "err", err)
		return
	}
	if h.dispatch(&ev) {
		h.follow(ctx, &ev)
	}
}

// foreignLogEvery bounds the log of foreign messages: a bus shared by
// mistake carries a whole other deployment's traffic.
const foreignLogEvery = time.Minute

// foreign drops a message of another deployment.
func (h *Hub) foreign(ctx context.Context, deployment string, m *message.Message) {
	n := h.stats.Foreign.Add(1)
	if now := time.Now(); n == 1 || now.Sub(h.foreignLogged) >= foreignLogEvery {
		h.foreignLogged = now
		h.cfg.Logger.ErrorContext(ctx, "live: dropping a message of another deployment: two deployments share this bus's subjects or tables",
			"deployment", h.cfg.Deployment, "message_deployment", deployment, "uuid", m.UUID, "dropped", n)
	}
}

// control handles a control message (signout.go).
func (h *Hub) control(ctx context.Context, kind string, payload []byte) {
	switch kind {
	case controlSessionEnded:
		var p sessionEnded
		if err := json.Unmarshal(payload, &p); err != nil || p.Session == "" {
			h.cfg.Logger.WarnContext(ctx, "live: dropping a malformed sign-out", "err", err)
			return
		}
		h.endSession(p.Session)
	default:
		h.cfg.Logger.WarnContext(ctx, "live: dropping an unknown control message", "kind", kind)
	}
}

// Dispatch queues ev on the sockets allowed to see it, unless it is at or
// before the last event dispatched (a re-publication). Run calls it, and
// then re-filters the sockets a directory change concerns; it must not be
// called concurrently.
func (h *Hub) Dispatch(ev *Event) { h.dispatch(ev) }

// dispatch is Dispatch; it reports whether ev was new.
func (h *Hub) dispatch(ev *Event) bool {
	if !h.last.Less(ev.Position) {
		h.stats.Duplicates.Add(1)
		return false
	}
	h.last = ev.Position
	h.stats.Events.Add(1)
	d := delivery{ev: ev, class: classes[ev.Type]}
	if d.class == classHidden {
		return true
	}
	// The bus carries payloads as stored (personal fields sealed): sockets
	// get them opened, once per event.
	if err := ev.open(h.cfg.Registry); err != nil {
		h.cfg.Logger.Warn("live: open the event", "position", ev.Position, "err", err)
		return true
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
	return true
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
	h.addLocked(c)
}

// addIf registers a socket whose filter was read from the directory once
// it had applied `seen`, unless an event changing filters was dispatched
// since (then the caller reads the filter again). It returns the position
// of the last such event.
func (h *Hub) addIf(c *conn, seen domain.Position) (domain.Position, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.changed != seen {
		return h.changed, false
	}
	h.addLocked(c)
	return seen, true
}

// lastChange returns the position of the last event that changed filters.
func (h *Hub) lastChange() domain.Position {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.changed
}

func (h *Hub) addLocked(c *conn) {
	c.index = len(h.conns)
	h.conns = append(h.conns, c)
	h.index(c)
	h.byViewer[c.viewer.Account] = append(h.byViewer[c.viewer.Account], c)
}

// index lists c under its filter's keys and establishment (under the lock).
func (h *Hub) index(c *conn) {
	for _, id := range c.f.keys() {
		h.bySubject[id] = append(h.bySubject[id], c)
	}
	if est := c.f.establishment; est != "" {
		h.byEstablishment[est] = append(h.byEstablishment[est], c)
	}
}

// unindex undoes index (under the lock).
func (h *Hub) unindex(c *conn) {
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
	h.unindex(c)
	if l := without(h.byViewer[c.viewer.Account], c); len(l) > 0 {
		h.byViewer[c.viewer.Account] = l
	} else {
		delete(h.byViewer, c.viewer.Account)
	}
}

// swap gives a registered socket a new filter, and indexes it by the new
// filter's keys. Only the dispatching goroutine calls it: it alone reads
// c.f without a lock.
func (h *Hub) swap(c *conn, f *filter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	registered := c.index >= 0 && c.index < len(h.conns) && h.conns[c.index] == c
	if registered {
		h.unindex(c)
	}
	c.setFilter(f)
	if registered {
		h.index(c)
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
