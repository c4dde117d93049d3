package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
	"github.com/schoollife/ledger/projections"
)

// Sockets follow the directory as it changes: when the hub dispatches an
// event that changes what some viewers may see (a link, a membership, an
// account closed or moved), it rebuilds their sockets' filters with
// newFilter, after the directory read model has applied that event.
//
// Why wait for the read model rather than fold the event into the filter:
// the filter is derived from the directory by one function (newFilter,
// over the visibility rules); folding events into it would write those
// rules a second time, in another form, and the two could drift. The wait
// is short (the directory projection follows the log within tens of
// milliseconds) and bounded (HubConfig.DirectoryWait): past it, the
// concerned sockets are closed and their clients reconnect, which is
// always safe.

// Progress tells how far a read model has applied the log.
type Progress interface {
	// Applied returns the position of the last event applied.
	Applied(ctx context.Context) (domain.Position, error)
}

// ProjectionProgress reads a projection's checkpoint: that of the live
// generation, the one the queries read.
type ProjectionProgress struct {
	Docs projections.DocStore
	Gens projections.GenerationStore
	// Projection defaults to projections.ProjectionDirectory.
	Projection string
}

var _ Progress = ProjectionProgress{}

// Applied implements Progress.
func (p ProjectionProgress) Applied(ctx context.Context) (domain.Position, error) {
	name := or(p.Projection, projections.ProjectionDirectory)
	g, err := p.Gens.Generations(ctx, name)
	if err != nil {
		return domain.Position{}, fmt.Errorf("generations of %s: %w", name, err)
	}
	live := g.Live
	if live == 0 {
		live = 1 // as the queries read it before the first run
	}
	pos, err := p.Docs.Checkpoint(ctx, projections.Namespace(name, live))
	if err != nil {
		return domain.Position{}, fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	return pos, nil
}

// errDirectoryBehind: the directory read model did not reach a position in
// time.
var errDirectoryBehind = errors.New("live: the directory read model is behind the bus")

// directoryClock waits for the directory read model to reach a position.
// It remembers the last position read, so that most waits read nothing,
// and a read model found stuck once is not waited for again until it
// moves: a stuck projection must not stall every dispatch.
type directoryClock struct {
	src         Progress
	every, wait time.Duration

	mu      sync.Mutex
	applied domain.Position
	stuck   bool
}

// reach returns once the read model has applied pos, or errDirectoryBehind
// after the wait (at once when the read model was found stuck before and
// has not moved).
func (d *directoryClock) reach(ctx context.Context, pos domain.Position) error {
	d.mu.Lock()
	applied, stuck := d.applied, d.stuck
	d.mu.Unlock()
	if !applied.Less(pos) {
		return nil
	}
	var deadline time.Time
	if !stuck {
		deadline = time.Now().Add(d.wait)
	}
	for {
		p, err := d.src.Applied(ctx)
		if err != nil {
			return fmt.Errorf("live: directory progress: %w", err)
		}
		d.mu.Lock()
		if d.applied.Less(p) {
			d.applied, d.stuck = p, false
		}
		d.mu.Unlock()
		if !p.Less(pos) {
			return nil
		}
		if !time.Now().Before(deadline) {
			d.mu.Lock()
			d.stuck = true
			d.mu.Unlock()
			return errDirectoryBehind
		}
		t := time.NewTimer(d.every)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// changesOf returns whose filters ev changes, if anyone's: the rule is
// visibility.ChangeOf. A payload that does not decode concerns every
// subject of the event and its followers: re-filtering too many sockets
// costs a few reads, too few would leave one seeing what it may not.
func changesOf(reg *domain.Registry, ev *Event) []visibility.Change {
	if !visibility.ChangesViews(ev.Type) {
		return nil
	}
	if e, err := reg.Decode(ev.Type, ev.Data); err == nil {
		if c, ok := visibility.ChangeOf(e); ok && c.Account != uuid.Nil {
			return []visibility.Change{c}
		}
	}
	out := make([]visibility.Change, 0, len(ev.Subjects))
	for _, id := range ev.Subjects {
		out = append(out, visibility.Change{Account: id, Followers: true})
	}
	return out
}

// follow re-filters the sockets whose visibility ev changes, once the
// directory has applied ev: the events dispatched after it are matched
// against the directory as of it. It runs on the dispatching goroutine,
// which waits meanwhile (the bus buffers): it never waits for a socket,
// only, briefly, for the directory every socket depends on.
func (h *Hub) follow(ctx context.Context, ev *Event) {
	changes := changesOf(h.cfg.Registry, ev)
	if len(changes) == 0 {
		return
	}
	h.mu.Lock()
	h.changed = ev.Position
	var conns []*conn
	for _, ch := range changes {
		conns = appendConns(conns, h.byViewer[ch.Account])
		if ch.Followers {
			// The sockets that may see an account's acts are indexed
			// under it: its own and its relatives'.
			conns = appendConns(conns, h.bySubject[ch.Account])
		}
	}
	h.mu.Unlock()
	if len(conns) == 0 {
		return
	}
	if h.clock == nil {
		h.endAll(conns, CloseGoingAway, "your access changed: reconnect with ?after=")
		return
	}
	if err := h.clock.reach(ctx, ev.Position); err != nil {
		if ctx.Err() == nil {
			h.cfg.Logger.WarnContext(ctx, "live: directory read model behind: closing the sockets it concerns",
				"position", ev.Position, "type", ev.Type, "sockets", len(conns), "err", err)
		}
		h.endAll(conns, CloseGoingAway, "your access changed: reconnect with ?after=")
		return
	}
	// One read of the directory per viewer, however many sockets.
	built := make(map[uuid.UUID]*filter, len(conns))
	failed := make(map[uuid.UUID]error)
	for _, c := range conns {
		a := c.viewer.Account
		f, ok := built[a]
		err := failed[a]
		if !ok && err == nil {
			f, err = newFilter(ctx, h.cfg.Directory, c.viewer)
			if err != nil {
				failed[a] = err
			} else {
				built[a] = f
			}
		}
		switch {
		case errors.Is(err, ErrNothingLive):
			h.stats.Ended.Add(1)
			c.kill(CloseSessionEnded, "this account receives no more live updates")
		case err != nil:
			h.cfg.Logger.ErrorContext(ctx, "live: re-filter", "account", a, "err", err)
			c.kill(CloseInternal, "could not read the directory: reconnect with ?after=")
		default:
			h.swap(c, f)
			h.stats.Refilters.Add(1)
		}
	}
}

// appendConns appends the sockets of l not in out yet.
func appendConns(out, l []*conn) []*conn {
	for _, c := range l {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// endAll closes sockets with code and text.
func (h *Hub) endAll(conns []*conn, code int, text string) {
	for _, c := range conns {
		h.stats.Ended.Add(1)
		c.kill(code, text)
	}
}
