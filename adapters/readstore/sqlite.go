package readstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/projections"
)

// Defaults of the SQLite leases.
const (
	DefaultLease      = 10 * time.Second
	DefaultLeaseRenew = 2 * time.Second
)

// NewSQLite returns a store on a SQLite database: read runs queries (a
// pool, read-only is fine), write runs fn in a write transaction and
// commits it if fn returns nil. With adapters/sqlite, pass the event
// store's DB and WithTx: read models then live in the events' file and
// their writes are serialized with appends. Close the read store (it
// releases its leases) before the event store.
func NewSQLite(read *sql.DB, write func(ctx context.Context, fn func(*sql.Tx) error) error, opts ...Option) (*Store, error) {
	o := collect(opts)
	if o.lease <= 0 || o.renew <= 0 || 2*o.renew > o.lease {
		return nil, fmt.Errorf("readstore: lease %s must be at least twice its renewal period %s", o.lease, o.renew)
	}
	return &Store{
		d: dialect{
			put:     sqlitePut,
			bounds:  func(from, to string) (string, string, bool) { return from, to, false },
			now:     `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
			prepare: true,
			getMany: `SELECT key, doc FROM rm_docs WHERE ns = $1 AND coll = $2 AND key IN (SELECT value FROM json_each($3))`,
			keys:    sqliteKeys,
			outage:  sqlite.Classify,
		},
		read:   read,
		write:  write,
		locker: newLeaseLocker(write, o.lease, o.renew),
	}, nil
}

// OpenSQLite opens (creating it if needed) a SQLite file for read models
// alone, for an event store elsewhere (EventStoreDB). The file is migrated
// like an event store's (its event tables stay empty). Commits use
// synchronous=NORMAL: a power loss may lose the last batches, but never
// separates documents from their checkpoint, so the runner replays them.
// Close closes the file.
func OpenSQLite(ctx context.Context, path string, opts ...Option) (*Store, error) {
	db, err := sqlite.Open(ctx, path, sqlite.WithSynchronous(sqlite.SyncNormal))
	if err != nil {
		return nil, fmt.Errorf("open read models: %w", err)
	}
	s, err := NewSQLite(db.DB(), db.WithTx, opts...)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s.closeDB = db.Close
	return s, nil
}

const (
	sqliteUpsert = `INSERT INTO rm_docs (ns, coll, key, doc) VALUES ($1, $2, $3, $4)
ON CONFLICT (ns, coll, key) DO UPDATE SET doc = excluded.doc`
	sqliteDelete = `DELETE FROM rm_docs WHERE ns = $1 AND coll = $2 AND key = $3`
)

// sqliteKeys binds keys as one JSON array, which json_each expands: JSON
// holds valid UTF-8 only, so other keys are read one by one.
func sqliteKeys(keys []string) (any, bool) {
	for _, k := range keys {
		if !utf8.ValidString(k) {
			return nil, false
		}
	}
	raw, err := json.Marshal(keys)
	if err != nil {
		return nil, false
	}
	return string(raw), true
}

// sqliteChunk is how many documents one upsert statement writes.
const sqliteChunk = 64

// sqliteUpserts[n] upserts n documents.
var sqliteUpserts = func() []string {
	out := make([]string, sqliteChunk+1)
	for n := 1; n <= sqliteChunk; n++ {
		var b strings.Builder
		b.WriteString(`INSERT INTO rm_docs (ns, coll, key, doc) VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($1, $%d, $%d, $%d)", 2+3*i, 3+3*i, 4+3*i)
		}
		b.WriteString(` ON CONFLICT (ns, coll, key) DO UPDATE SET doc = excluded.doc`)
		out[n] = b.String()
	}
	return out
}()

// sqlitePut writes up to sqliteChunk documents per statement, prepared once
// per transaction.
func sqlitePut(ctx context.Context, t *docTx, ups, dels []projections.Doc) error {
	args := make([]any, 0, 1+3*sqliteChunk)
	for len(ups) > 0 {
		n := min(len(ups), sqliteChunk)
		args = append(args[:0], t.ns)
		for _, d := range ups[:n] {
			// A string binds as TEXT; bytes would bind as a BLOB, which
			// SQLite's JSON functions take for its binary JSONB format.
			args = append(args, d.Coll, d.Key, string(d.Value))
		}
		if _, err := t.ExecContext(ctx, sqliteUpserts[n], args...); err != nil {
			return err
		}
		ups = ups[n:]
	}
	for _, d := range dels {
		if _, err := t.ExecContext(ctx, sqliteDelete, t.ns, d.Coll, d.Key); err != nil {
			return err
		}
	}
	return nil
}

// leaseLocker elects holders through rows of rm_leases, so that every
// process on the file sees who holds what.
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
		return nil, nil, false, errors.New("readstore: store closed")
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
