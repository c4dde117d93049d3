package readstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// leaseLocker elects holders through rows of rm_leases, so that every
// process on the file sees who holds what. It serves where kernel file
// locks cannot (sqliteLocker): a holder that dies keeps its lock until the
// lease expires.
type leaseLocker struct {
	write        func(ctx context.Context, fn func(*sql.Tx) error) error
	lease, renew time.Duration
	id           string // this locker, in the holder column

	mu     sync.Mutex
	held   map[string]func() // holder -> release
	closed bool
}

func newLeaseLocker(write func(context.Context, func(*sql.Tx) error) error, lease, renew time.Duration) *leaseLocker {
	host, _ := os.Hostname()
	return &leaseLocker{
		write: write, lease: lease, renew: renew,
		id:   fmt.Sprintf("%s/%d/%s", host, os.Getpid(), token()),
		held: make(map[string]func()),
	}
}

func token() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// TryAcquire implements projector.Locker.
func (l *leaseLocker) TryAcquire(ctx context.Context, name string) (context.Context, func(), bool, error) {
	holder := l.id + "/" + token()
	now := time.Now()
	expires := now.Add(l.lease)
	var ok bool
	err := l.write(ctx, func(tx *sql.Tx) error {
		var until int64
		err := tx.QueryRowContext(ctx, `SELECT expires_at FROM rm_leases WHERE name = $1`, name).Scan(&until)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case until > now.UnixMilli():
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO rm_leases (name, holder, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`,
			name, holder, expires.UnixMilli())
		ok = err == nil
		return err
	})
	if err != nil {
		return nil, nil, false, fmt.Errorf("lease %s: %w", name, err)
	}
	if !ok {
		return nil, nil, false, nil
	}

	heldCtx, cancel := context.WithCancel(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	go l.keep(context.WithoutCancel(ctx), name, holder, expires, cancel, stop, done)
	release := sync.OnceFunc(func() {
		close(stop)
		<-done
		cancel()
		l.mu.Lock()
		delete(l.held, holder)
		l.mu.Unlock()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), l.lease)
		defer rcancel()
		// If this fails the lease still expires by itself.
		_ = l.write(rctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(rctx, `DELETE FROM rm_leases WHERE name = $1 AND holder = $2`, name, holder)
			return err
		})
	})
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		release()
		return nil, nil, false, errClosed
	}
	l.held[holder] = release
	l.mu.Unlock()
	return heldCtx, release, true, nil
}

// keep renews the lease until stop, and cancels the lock's context when
// the lease is lost, or about to expire without having been renewed.
func (l *leaseLocker) keep(base context.Context, name, holder string, expires time.Time, cancel context.CancelFunc, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(l.renew)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		next := time.Now().Add(l.lease)
		var n int64
		ctx, c := context.WithTimeout(base, l.renew)
		err := l.write(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE rm_leases SET expires_at = $3 WHERE name = $1 AND holder = $2`,
				name, holder, next.UnixMilli())
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		c()
		switch {
		case err == nil && n == 0: // taken over after it expired, or deleted
			cancel()
			return
		case err == nil:
			expires = next
		case !time.Now().Add(l.renew).Before(expires):
			// Give up while the lease still holds, before another process
			// may take it.
			cancel()
			return
		}
	}
}

// Close releases the locks still held.
func (l *leaseLocker) Close() error {
	l.mu.Lock()
	l.closed = true
	releases := make([]func(), 0, len(l.held))
	for _, r := range l.held {
		releases = append(releases, r)
	}
	l.mu.Unlock()
	for _, r := range releases {
		r()
	}
	return nil
}
