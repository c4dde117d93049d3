package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Close codes a client may receive. After any of them but
// CloseTooFarBehind, reconnect with ?after= the last position received.
const (
	// CloseTooSlow: the socket's queue filled up (1008, policy
	// violation).
	CloseTooSlow = websocket.ClosePolicyViolation
	// CloseGoingAway: the server is shutting down, or the socket reached
	// its lifetime (1001).
	CloseGoingAway = websocket.CloseGoingAway
	// CloseTooFarBehind: ?after= is further back than the catch-up limit;
	// reload from the API and reconnect without ?after= (4000).
	CloseTooFarBehind = 4000
	// CloseInternal: the log could not be read (1011).
	CloseInternal = websocket.CloseInternalServerErr
	// CloseSessionEnded: the session was signed out or expired, or the
	// account was closed or receives no more live updates; a
	// reconnection is refused unless the client signs in again (4001).
	CloseSessionEnded = 4001
)

// Defaults of HandlerConfig.
const (
	DefaultPingEvery    = 30 * time.Second
	DefaultPongWait     = 60 * time.Second
	DefaultWriteWait    = 10 * time.Second
	DefaultQueueSize    = 256
	DefaultCatchUpLimit = 10000
	DefaultLifetime     = time.Hour
)

// HandlerConfig configures the websocket endpoint.
type HandlerConfig struct {
	Hub *Hub
	// Log and Registry serve the catch-up of ?after=.
	Log      projections.Log
	Registry *domain.Registry
	// Directory tells what a viewer may see.
	Directory Directory
	// Viewer returns the signed-in account of a request; an error answers
	// 401.
	Viewer func(r *http.Request) (Viewer, error)
	// Session, when set, returns the sign-in of a request: the socket
	// closes when it expires or is signed out (SignOuts).
	Session func(r *http.Request) (Session, bool)
	// AllowedOrigins lists the origins ("https://ent.example.fr") whose
	// pages may open a socket. Empty: the request's own host only. A
	// request without Origin (not a browser) is let through: it
	// authenticates with a bearer token, which a page cannot forge.
	AllowedOrigins []string
	// PingEvery is how often the server pings; PongWait how long it waits
	// for any frame (a pong) before closing; WriteWait bounds a write.
	PingEvery, PongWait, WriteWait time.Duration
	// QueueSize bounds the frames waiting on one socket; a socket that
	// falls further behind is closed with CloseTooSlow.
	QueueSize int
	// CatchUpLimit bounds the events one ?after= catch-up reads.
	CatchUpLimit int
	// Lifetime closes a socket after this long (CloseGoingAway), so that
	// clients spread again over the nodes (negative: never). Changes of
	// the viewer's links, groups, account or session apply at once
	// (follow.go, signout.go, deadline.go).
	Lifetime time.Duration
	Logger   *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *HandlerConfig) Validate() error {
	switch {
	case c.Hub == nil:
		return errors.New("live: handler needs a Hub")
	case c.Log == nil || c.Registry == nil:
		return errors.New("live: handler needs the Log and the Registry")
	case c.Directory == nil:
		return errors.New("live: handler needs a Directory")
	case c.Viewer == nil:
		return errors.New("live: handler needs a Viewer function")
	}
	for _, o := range c.AllowedOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("live: allowed origin %q is not scheme://host[:port]", o)
		}
	}
	c.PingEvery = or(c.PingEvery, DefaultPingEvery)
	c.PongWait = or(c.PongWait, DefaultPongWait)
	c.WriteWait = or(c.WriteWait, DefaultWriteWait)
	c.QueueSize = or(c.QueueSize, DefaultQueueSize)
	c.CatchUpLimit = or(c.CatchUpLimit, DefaultCatchUpLimit)
	c.Lifetime = or(c.Lifetime, DefaultLifetime)
	if c.PongWait <= c.PingEvery {
		return fmt.Errorf("live: pong wait %s must be longer than the ping period %s", c.PongWait, c.PingEvery)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Session is the sign-in a socket is opened with.
type Session struct {
	// ID identifies the session among the sign-ins (not its secret): a
	// sign-out names it to every node (SignOuts).
	ID string
	// Expires is when the session ends, if not zero.
	Expires time.Time
}

var _ http.Handler = (*Handler)(nil)

// Handler serves /api/v1/live.
type Handler struct {
	cfg      HandlerConfig
	upgrader websocket.Upgrader
	// base is the context of catch-up reads: it ends with Close.
	base   context.Context
	cancel context.CancelFunc
}

// NewHandler returns the websocket endpoint over a running hub.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	return &Handler{
		cfg: cfg,
		upgrader: websocket.Upgrader{
			HandshakeTimeout: 10 * time.Second,
			// Small per-socket buffers: the read buffer only ever holds
			// control frames; the write buffer is taken from a pool for
			// the time of a write (broadcast frames bypass it).
			ReadBufferSize:  1024,
			WriteBufferSize: 4096,
			WriteBufferPool: &sync.Pool{},
			// ServeHTTP checks the origin before authenticating.
			CheckOrigin: func(*http.Request) bool { return true },
		},
		base: base, cancel: cancel,
	}, nil
}

// Close ends the catch-ups in progress. The hub closes the sockets.
func (h *Handler) Close() error {
	h.cancel()
	return nil
}

// requestIDHeader is the web layer's request id (web.RequestIDHeader).
const requestIDHeader = "X-Request-Id"

// ServeHTTP checks the origin, the viewer and ?after=, then upgrades. It
// answers problems (application/problem+json) before upgrading: 403
// origin-not-allowed, 401 unauthenticated, 400 invalid-query-parameter, 403
// no-live-updates.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.originAllowed(r) {
		problem(w, http.StatusForbidden, "origin-not-allowed", "pages of this origin may not open a live socket", r.Header.Get("Origin"))
		return
	}
	v, err := h.cfg.Viewer(r)
	if err != nil {
		problem(w, http.StatusUnauthorized, "unauthenticated", "sign in first", "")
		return
	}
	var after *domain.Position
	if s := r.URL.Query().Get("after"); s != "" {
		p, err := domain.ParsePosition(s)
		if err != nil {
			problem(w, http.StatusBadRequest, "invalid-query-parameter", "a query parameter is malformed", "after: "+err.Error())
			return
		}
		after = &p
	}
	var sess Session
	if h.cfg.Session != nil {
		sess, _ = h.cfg.Session(r)
	}
	c, err := h.register(r.Context(), v, sess)
	if errors.Is(err, ErrNothingLive) {
		problem(w, http.StatusForbidden, "no-live-updates", "this account receives no live updates", "")
		return
	}
	if err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "live: viewer filter", "account", v.Account, "err", err)
		problem(w, http.StatusInternalServerError, "internal", "internal error", "")
		return
	}
	// The upgrader writes the 101 itself, with these headers only: the
	// request id the web layer answers with goes along.
	ws, err := h.upgrader.Upgrade(w, r, http.Header{requestIDHeader: w.Header().Values(requestIDHeader)})
	if err != nil {
		h.cfg.Hub.remove(c)
		return // the upgrader answered
	}
	c.attach(ws)
	go h.write(c, after)
	go h.read(c)
}

// register reads what the viewer may see and registers the socket with
// the hub. It is registered before the handshake completes and before the
// catch-up reads the log: what is dispatched from then on waits in the
// queue, and the writer skips what the catch-up already sent. No gap, no
// duplicate.
//
// The filter is read once the directory has applied the last change the
// hub dispatched; if another comes before the socket is registered, it is
// read again: a socket never misses a change (follow.go).
func (h *Handler) register(ctx context.Context, v Viewer, sess Session) (*conn, error) {
	hub := h.cfg.Hub
	seen := hub.lastChange()
	for {
		if hub.clock != nil {
			if err := hub.clock.reach(ctx, seen); err != nil {
				// As good as the directory is: the socket follows the
				// changes from now on.
				h.cfg.Logger.WarnContext(ctx, "live: opening a socket on a directory behind the bus", "account", v.Account, "err", err)
			}
		}
		f, err := newFilter(ctx, h.cfg.Directory, v)
		if err != nil {
			return nil, err
		}
		c := newConn(f, h.cfg.QueueSize)
		c.viewer, c.session = v, sess.ID
		if h.cfg.Lifetime > 0 {
			c.deadline = hub.cfg.Now().Add(h.cfg.Lifetime)
		}
		if !sess.Expires.IsZero() && (c.deadline.IsZero() || !sess.Expires.After(c.deadline)) {
			c.deadline, c.sessionEnds = sess.Expires, true
		}
		var ok bool
		if seen, ok = hub.addIf(c, seen); ok {
			return c, nil
		}
	}
}

// originAllowed checks the Origin header of a browser's request.
func (h *Handler) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if len(h.cfg.AllowedOrigins) == 0 {
		return strings.EqualFold(u.Host, r.Host)
	}
	return slices.ContainsFunc(h.cfg.AllowedOrigins, func(a string) bool {
		return strings.EqualFold(strings.TrimSuffix(a, "/"), u.Scheme+"://"+u.Host)
	})
}

// read reads (and drops) what the client sends, so that pongs and close
// frames are handled, until the connection fails or goes quiet for longer
// than PongWait.
func (h *Handler) read(c *conn) {
	c.ws.SetReadLimit(512)
	_ = c.ws.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
	})
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			c.kill(0, "")
			return
		}
	}
}

// write is the socket's only writer: the catch-up, then the queued frames
// and the pings, until the socket is killed.
func (h *Handler) write(c *conn, after *domain.Position) {
	defer func() {
		h.cfg.Hub.remove(c)
		_ = c.ws.Close()
	}()
	if after != nil {
		if code, text := h.catchUp(c, *after); code != 0 {
			c.kill(code, text)
		}
	}
	ping := time.NewTicker(h.cfg.PingEvery)
	defer ping.Stop()
	var spare []item
	for {
		select {
		case <-c.done:
			if code, text := c.closing(); code != 0 {
				_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
			}
			return
		case <-c.wake:
			batch := c.take(spare)
		send:
			for _, it := range batch {
				select {
				case <-c.done:
					break send
				default:
				}
				if !c.last.Less(it.pos) {
					continue // sent by the catch-up
				}
				_ = c.ws.SetWriteDeadline(time.Now().Add(h.cfg.WriteWait))
				if err := c.ws.WritePreparedMessage(it.pm); err != nil {
					c.kill(0, "")
					break send
				}
				c.last = it.pos
			}
			clear(batch)
			spare = nil
			if cap(batch) <= spareCap {
				spare = batch[:0]
			}
		case now := <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, now.Add(h.cfg.WriteWait)); err != nil {
				c.kill(0, "")
			}
		}
	}
}

// catchUp sends the events after `after` the viewer may see, read from the
// log, and leaves c.last at the last event read. It returns a close code
// (0 when done).
func (h *Handler) catchUp(c *conn, after domain.Position) (int, string) {
	c.last = after
	scanned := 0
	for {
		select {
		case <-c.done:
			return 0, ""
		default:
		}
		ctx, cancel := context.WithTimeout(h.base, 30*time.Second)
		recs, err := h.cfg.Log.ReadAll(ctx, c.last, 256)
		cancel()
		if err != nil {
			h.cfg.Logger.Error("live: catch-up", "after", c.last, "err", err)
			return CloseInternal, "could not read the log: reconnect with ?after="
		}
		if len(recs) == 0 {
			return 0, ""
		}
		if scanned += len(recs); scanned > h.cfg.CatchUpLimit {
			return CloseTooFarBehind, "too far behind: reload and reconnect without ?after="
		}
		for _, rec := range recs {
			ev, err := NewEvent(h.cfg.Registry, rec)
			if err == nil {
				err = ev.open(h.cfg.Registry)
			}
			if err != nil {
				h.cfg.Logger.Warn("live: catch-up skips an undecodable event", "position", rec.Position, "err", err)
				c.last = rec.Position
				continue
			}
			if f := c.filter(); f.match(&ev, classes[ev.Type]) {
				if err := h.send(c, f, &ev); err != nil {
					return 0, "" // the connection is gone
				}
			}
			c.last = rec.Position
		}
	}
}

// send writes one event's frame directly (catch-up).
func (h *Handler) send(c *conn, f *filter, ev *Event) error {
	data := ev.Data
	if f.redacts(ev.Type) {
		var err error
		if data, err = f.redactIncident(data); err != nil {
			h.cfg.Logger.Warn("live: frame", "position", ev.Position, "err", err)
			return nil
		}
	}
	b, err := json.Marshal(ev.frame(data))
	if err != nil {
		return err
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(h.cfg.WriteWait))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// problem answers an RFC 9457 problem (types as in adapters/web).
func problem(w http.ResponseWriter, status int, typ, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail,omitempty"`
	}{"https://schoollife.example/problems/" + typ, title, status, detail})
}
