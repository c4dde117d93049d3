package live

import (
	"context"
	"time"
)

// A socket ends with its session: signed out (a control message,
// signout.go) or expired. It knows its session's expiry and its lifetime's
// end from the moment it opens (conn.deadline); one sweep per hub closes
// the sockets past theirs, rather than a timer per socket, so that an idle
// socket holds no timer and tests move the hub's clock instead of waiting.

// sweepEvery closes the sockets past their deadline every SweepEvery, until
// ctx ends.
func (h *Hub) sweepEvery(ctx context.Context) {
	t := time.NewTicker(h.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.sweep(h.cfg.Now())
		}
	}
}

// sweep closes the sockets whose deadline is at or before now.
func (h *Hub) sweep(now time.Time) {
	var due []*conn
	h.mu.RLock()
	for _, c := range h.conns {
		if !c.deadline.IsZero() && !now.Before(c.deadline) {
			due = append(due, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range due {
		if c.sessionEnds {
			h.stats.Ended.Add(1)
			c.kill(CloseSessionEnded, "session expired: sign in again")
		} else {
			c.kill(CloseGoingAway, "lifetime reached: reconnect with ?after=")
		}
	}
}

// endSession closes the sockets opened with session.
func (h *Hub) endSession(session string) {
	var ended []*conn
	h.mu.RLock()
	// A sign-out is rare; a scan of the node's sockets costs microseconds
	// and spares an index keyed by session.
	for _, c := range h.conns {
		if c.session == session {
			ended = append(ended, c)
		}
	}
	h.mu.RUnlock()
	h.endAll(ended, CloseSessionEnded, "signed out")
}
