package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/domain"
)

const (
	// maxWait caps Wait: a notification can be lost (the listener was
	// reconnecting) and a horizon can move without one (a transaction that
	// is not an append ended), so readers look again at least this often.
	maxWait = time.Second
	// heldPoll is how often Wait looks again while committed events are
	// held back by an older transaction still running: its end is not
	// notified unless it is itself an append.
	heldPoll = 50 * time.Millisecond
	// keepAlive is how long the listener waits for a notification before
	// checking that its connection still works.
	keepAlive = 30 * time.Second
	// Backoff between attempts to reconnect the listener.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

var errClosed = errors.New("postgres store: closed")

// Wait implements projections.Log. It returns nil at once if an event
// after `after` is readable by ReadAll; otherwise when an append commits,
// when ctx is done (returning ctx.Err()), or after about a second.
//
// Callers read, then wait, then read again: Wait never promises that the
// next ReadAll returns anything. Events committed above the horizon of
// ReadAll (an older transaction is still running) are not readable, and
// Wait does not return at once for them, so a reader does not spin while
// a slow transaction is open; it looks again every heldPoll until the
// horizon passes them.
func (s *Store) Wait(ctx context.Context, after domain.Position) error {
	wake, err := s.subscribe()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d := maxWait
	// Subscribed first, checked second: an append that commits between the
	// check and the select closes wake.
	switch state, err := s.tail(ctx, after); {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		// Wait is a hint; ReadAll will report a broken database.
	case state == tailReadable:
		return nil
	case state == tailHeld:
		d = heldPoll
	}
	fired, stop := s.newTimer(d)
	defer stop()
	select {
	case <-wake:
		return nil
	case <-fired:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newTimer is the Store's timer unless a test replaces it.
func newTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

type tailState int

const (
	tailEmpty    tailState = iota // no event after the position
	tailReadable                  // ReadAll would return something
	tailHeld                      // committed events wait for an older transaction
)

// tail tells what lies after `after` in the log.
func (s *Store) tail(ctx context.Context, after domain.Position) (tailState, error) {
	var readable bool
	err := s.pool.QueryRow(ctx, `SELECT tx_id < pg_snapshot_xmin(pg_current_snapshot()) FROM events
WHERE (tx_id, seq) > (`+afterTxSQL+`, $2) ORDER BY events.tx_id, events.seq LIMIT 1`,
		strconv.FormatUint(after.Tx, 10), seqArg(after.Seq)).Scan(&readable)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return tailEmpty, nil
	case err != nil:
		return tailEmpty, err
	case readable:
		return tailReadable, nil
	default:
		return tailHeld, nil
	}
}

// subscribe returns a channel closed on the next notification, starting
// the listener on first use.
func (s *Store) subscribe() (<-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if !s.listening {
		s.listening = true
		ctx, stop := context.WithCancel(context.Background())
		s.stop, s.stopped = stop, make(chan struct{})
		go s.listen(ctx, s.stopped)
	}
	return s.wake, nil
}

// broadcast wakes every waiter.
func (s *Store) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

// listen keeps one dedicated connection listening on the channel,
// reconnecting when it drops, until ctx is done.
func (s *Store) listen(ctx context.Context, stopped chan<- struct{}) {
	defer close(stopped)
	backoff := minBackoff
	for {
		connected, err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = minBackoff
		}
		s.log.WarnContext(ctx, "postgres: listener lost its connection", "channel", channel, "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listenOnce connects, listens and broadcasts notifications until the
// connection fails or ctx is done. connected reports whether LISTEN took.
func (s *Store) listenOnce(ctx context.Context) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx) // the connection is being dropped; nothing to do about an error
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return false, err
	}
	// Appends may have committed while nobody listened.
	s.broadcast()
	for {
		wctx, cancel := context.WithTimeout(ctx, keepAlive)
		_, err := conn.WaitForNotification(wctx)
		timedOut := wctx.Err() != nil
		cancel()
		switch {
		case ctx.Err() != nil:
			return true, ctx.Err()
		case err == nil:
			s.broadcast()
		case timedOut:
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}
