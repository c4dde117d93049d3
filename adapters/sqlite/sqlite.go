// Package sqlite is the embedded event store: one SQLite file (WAL mode), no
// set-up, through modernc.org/sqlite (pure Go). It serves one school or a
// demo and passes the same contract suite as the Postgres store.
//
// Writes go through one connection, serialized in Go and opened with BEGIN
// IMMEDIATE, so global positions (rowids) follow commit order and a reader
// that checkpoints the last position it got never skips an event. Reads use
// a separate pool of read-only connections, which WAL lets run alongside the
// writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/schoollife/ledger/adapters/groupcommit"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/migrations"
	"github.com/schoollife/ledger/projections"
)

var (
	_ commands.EventStore = (*Store)(nil)
	_ projections.Log     = (*Store)(nil)
)

// Synchronous is SQLite's durability setting (PRAGMA synchronous).
type Synchronous string

// Durability settings.
const (
	// SyncFull syncs the WAL to disk on every commit: an append that has
	// returned survives a power loss. The default.
	SyncFull Synchronous = "FULL"
	// SyncNormal syncs only when the WAL is checkpointed. Commits are much
	// cheaper (no fsync each), and the database is never corrupted, but a
	// power loss or OS crash (not a mere process crash) may lose the last
	// transactions that had already returned. Fit for demos, load tests and
	// data that can be replayed.
	SyncNormal Synchronous = "NORMAL"
)

// Defaults of the options.
const (
	DefaultBusyTimeout  = 5 * time.Second
	DefaultPollInterval = 150 * time.Millisecond
	// maxWait caps Wait: the port promises to return within about a second.
	maxWait = time.Second
)

type config struct {
	sync        Synchronous
	busyTimeout time.Duration
	poll        time.Duration
	readConns   int
	writerCache int // MiB
	readerCache int // MiB
	checkpoint  int // pages

	// timer arms Wait's timers (its cap and each poll). Tests replace it
	// (export_test.go) to see a waiter settle and to choose when its time
	// runs out, without depending on the clock.
	timer func(time.Duration) (fired <-chan time.Time, stop func() bool)
}

// newTimer is Wait's timer unless a test replaces it.
func newTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Option configures Open.
type Option func(*config)

// WithSynchronous sets the durability of commits; see SyncFull and
// SyncNormal for the trade-off.
func WithSynchronous(s Synchronous) Option { return func(c *config) { c.sync = s } }

// WithBusyTimeout sets how long a connection waits for a lock held by
// another process on the same file before failing.
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// WithPollInterval sets how often Wait looks at the file for appends made by
// another process (appends through this Store wake it at once).
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.poll = d } }

// WithReadConns sets the size of the read pool.
func WithReadConns(n int) Option { return func(c *config) { c.readConns = n } }

// Page caches, per connection (SQLite's own default is 2 MiB). The read
// models share the file with the log: past a few hundred megabytes, a
// replay with 2 MiB read most of its documents' pages from the disk again
// (docs/performance.md, "Replay").
const (
	DefaultWriterCacheMiB = 64
	DefaultReaderCacheMiB = 16
)

// WithCacheMiB sets the page cache of the writer connection and of each
// read connection, in MiB.
func WithCacheMiB(writer, reader int) Option {
	return func(c *config) { c.writerCache, c.readerCache = writer, reader }
}

// DefaultCheckpointPages is the size of the write-ahead log, in pages of
// 4 KiB, past which a commit copies it back into the file (PRAGMA
// wal_autocheckpoint; SQLite's own default is 1,000, 4 MiB). A checkpoint
// writes the pages the log holds and syncs the file; the commit that
// crosses the size runs it and waits for it. A replay's commits each
// write a few thousand pages, so at 1,000 every commit ran a checkpoint
// and waited for its sync; at 16,384 (64 MiB) one commit in ten or so
// does, and a page written by several commits in between is copied once.
// studentfile.v1's documents written alone went from 0.58 to 0.81 of the
// log's raw scan at scale 1 (docs/performance.md, "Replay"). The cost is a
// write-ahead log of up to about 64 MiB beside the file, and a longer wait
// for the rarer commit that checkpoints.
const DefaultCheckpointPages = 16384

// WithCheckpointPages sets the write-ahead log's size, in pages, past
// which a commit checkpoints it; 0 turns automatic checkpoints off (the
// log then grows until something checkpoints it).
func WithCheckpointPages(n int) Option { return func(c *config) { c.checkpoint = n } }

// Store is the SQLite event store. Open it with Open; it is safe for
// concurrent use.
type Store struct {
	cfg config
	w   *sql.DB       // the one writer connection
	r   *sql.DB       // read-only pool
	wmu chan struct{} // the writer lock; a channel so that waiting honours ctx
	st  statements    // prepared once, on the writer and on the read pool

	group *groupcommit.Committer // queues appends and commits them in groups

	wakeMu sync.Mutex
	wake   chan struct{} // closed and replaced after every commit of events

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating it if needed) the store in the file at path and
// applies the pending migrations.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{
		sync:        SyncFull,
		busyTimeout: DefaultBusyTimeout,
		poll:        DefaultPollInterval,
		readConns:   max(4, runtime.GOMAXPROCS(0)),
		writerCache: DefaultWriterCacheMiB,
		readerCache: DefaultReaderCacheMiB,
		checkpoint:  DefaultCheckpointPages,
		timer:       newTimer,
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:"):
		return nil, fmt.Errorf("open sqlite store: path %q must name a file, without URI syntax", path)
	case cfg.sync != SyncFull && cfg.sync != SyncNormal:
		return nil, fmt.Errorf("open sqlite store: synchronous %q is neither FULL nor NORMAL", cfg.sync)
	case cfg.writerCache < 1 || cfg.readerCache < 1:
		return nil, fmt.Errorf("open sqlite store: page caches of %d and %d MiB are not both positive", cfg.writerCache, cfg.readerCache)
	case cfg.checkpoint < 0:
		return nil, fmt.Errorf("open sqlite store: checkpoint size of %d pages is negative", cfg.checkpoint)
	case cfg.busyTimeout < 0 || cfg.poll <= 0 || cfg.readConns < 1:
		return nil, fmt.Errorf("open sqlite store: busy timeout %s, poll interval %s and %d read connections are not all positive", cfg.busyTimeout, cfg.poll, cfg.readConns)
	}

	busy := strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10)
	wq := url.Values{}
	wq.Set("_busy_timeout", busy)
	wq.Set("_journal_mode", "WAL")
	wq.Set("_synchronous", string(cfg.sync))
	wq.Set("_foreign_keys", "1")
	wq.Set("_txlock", "immediate") // take the write lock at BEGIN: no upgrade deadlock, no SQLITE_BUSY mid-transaction
	wq.Set("_pragma", fmt.Sprintf("cache_size(-%d)", cfg.writerCache*1024))
	wq.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", cfg.checkpoint))
	// What is deleted or overwritten is zeroed in the file: a destroyed
	// subject key, the read models of an erased person (docs/privacy.md).
	wq.Add("_pragma", "secure_delete(1)")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, classifyOpen(err))
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{cfg: cfg, w: w, wmu: make(chan struct{}, 1), wake: make(chan struct{})}
	s.group = groupcommit.New((*groupWriter)(s), 1) // one: SQLite has one writer
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, classifyOpen(err))
	}
	if err := s.Migrate(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, classifyOpen(err))
	}

	rq := url.Values{}
	rq.Set("_busy_timeout", busy)
	rq.Set("_foreign_keys", "1")
	rq.Set("_query_only", "1")
	rq.Set("_pragma", fmt.Sprintf("cache_size(-%d)", cfg.readerCache*1024))
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, classifyOpen(err))
	}
	r.SetMaxOpenConns(cfg.readConns)
	r.SetMaxIdleConns(cfg.readConns)
	if err := r.PingContext(ctx); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, classifyOpen(err))
	}
	if s.st, err = prepare(ctx, w, r); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, classifyOpen(err))
	}
	s.r = r
	return s, nil
}

// Migrate applies the embedded migrations not yet recorded in
// schema_migrations, in order, each in its own transaction. Open calls it;
// running it again is a no-op.
func (s *Store) Migrate(ctx context.Context) error {
	all, err := migrations.For(migrations.SQLite)
	if err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	return migrate(ctx, s.w, all)
}

// MigrateTo applies to the database in the file at path the migrations up
// to version (inclusive) not applied yet, without opening a Store, which
// needs the current schema. The upgrade tests build their databases of
// each past schema version with it (migrations/testdata).
func MigrateTo(ctx context.Context, path string, version int) error {
	all, err := migrations.For(migrations.SQLite)
	if err != nil {
		return err
	}
	var upTo []migrations.Migration
	for _, m := range all {
		if m.Version <= version {
			upTo = append(upTo, m)
		}
	}
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(DefaultBusyTimeout.Milliseconds(), 10))
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db, upTo); err != nil {
		return err
	}
	return db.Close()
}

// migrate applies ms not yet recorded in schema_migrations through w, a
// pool of one connection that begins its transactions IMMEDIATE.
func migrate(ctx context.Context, w *sql.DB, ms []migrations.Migration) error {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`
	if _, err := w.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("migrate: %w", Classify(err))
	}
	for _, m := range ms {
		// Checked inside the transaction: two processes opening the same
		// new file apply each migration once.
		err := inTx(ctx, w, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UTC().Format(time.RFC3339Nano))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, Classify(err))
		}
	}
	return nil
}

// DB returns the read-only pool, for queries on read models kept in the same
// file. Writes through it fail; use WithTx.
func (s *Store) DB() *sql.DB { return s.r }

// WithTx runs fn in a write transaction (BEGIN IMMEDIATE) on the writer
// connection, serialized with appends, and commits it if fn returns nil (it
// rolls back otherwise). The projection runner uses it to store a read model
// and its checkpoint atomically in the same file as the events.
//
// fn must do all its reads and writes through tx, must not call the Store's
// methods (the writer is held: Append would wait forever), and must not write
// the events or streams tables: only Append does, keeping the hash chain.
// An outage is marked (Classify): the read models and the credentials
// written through WithTx see a full disk as domain.ErrStoreFull.
func (s *Store) WithTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	return Classify(s.inTx(ctx, fn))
}

// Close waits for the queued appends to commit, then closes the
// connections; waiters are woken. Appends after Close fail. Calling it
// again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.group.Close()
		s.broadcast()
		s.closeErr = errors.Join(s.st.close(), s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// lock takes the writer, or gives up when ctx is done.
func (s *Store) lock(ctx context.Context) error {
	select {
	case s.wmu <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlock() { <-s.wmu }

// inTx runs fn in a transaction on the writer; the caller holds the lock.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return inTx(ctx, s.w, fn)
}

// inTx runs fn in a transaction on db and commits it if fn returns nil.
func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

// ignoreDone drops the error of rolling back a transaction that database/sql
// already ended (it does when the context is cancelled).
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// broadcast wakes every Wait of this Store.
func (s *Store) broadcast() {
	s.wakeMu.Lock()
	close(s.wake)
	s.wake = make(chan struct{})
	s.wakeMu.Unlock()
}

func (s *Store) wakeChan() <-chan struct{} {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	return s.wake
}
