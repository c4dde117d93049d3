// Package postgres is the production event store: PostgreSQL through pgx.
//
// Events live in the events table (migrations/postgres), one row per event,
// with the id of the transaction that wrote it (xid8). The head of every
// stream (its version and the hash of its last event) lives in streams; an
// append locks that row, checks the expected version, chains the hashes and
// inserts its events, all in one transaction, and notifies the
// ledger_events channel so that waiting readers wake up. Waiting needs a
// session of its own (LISTEN): behind PgBouncer, use session pooling.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/groupcommit"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

var (
	_ commands.EventStore = (*Store)(nil)
	_ projections.Log     = (*Store)(nil)
)

// channel is the LISTEN/NOTIFY channel every append notifies on commit.
const channel = "ledger_events"

// Store is the Postgres event store. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
	log     *slog.Logger

	mu        sync.Mutex
	wake      chan struct{} // closed and replaced on every notification
	closed    bool
	listening bool
	stop      context.CancelFunc // stops the listener
	stopped   chan struct{}      // closed when the listener has returned

	// newTimer arms the timer that ends a Wait with nothing to wake it.
	// Tests replace it to see a waiter settle and to choose when its time
	// runs out, without depending on the clock.
	newTimer func(time.Duration) (fired <-chan time.Time, stop func() bool)

	group *groupcommit.Committer // queues appends and commits them in groups
}

// Option configures Open and New.
type Option func(*options)

type options struct {
	pool       func(*pgxpool.Config)
	log        *slog.Logger
	committers int
}

// WithPoolConfig lets Open adjust the pool configuration parsed from the
// DSN (connection limits, tracer...) before connecting. New ignores it.
func WithPoolConfig(f func(*pgxpool.Config)) Option {
	return func(o *options) { o.pool = f }
}

// WithLogger sets where the store reports trouble it recovers from by
// itself, such as a dropped LISTEN connection. The default discards it.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// DefaultCommitters is how many groups may be in flight at once, each on a
// connection of its own. Two let one group's round trips overlap the
// other's WAL flush.
const DefaultCommitters = 2

// WithCommitters sets how many groups of appends may commit at once, each
// on a pooled connection of its own (DefaultCommitters by default). The
// pool needs room for them and for readers.
func WithCommitters(n int) Option {
	return func(o *options) { o.committers = n }
}

// DefaultMaxConns is the pool size Open gives a store whose connection
// string sets no pool_max_conns (pgx's own default is the number of CPUs,
// at least 4). A serving node holds one connection to LISTEN and uses up
// to DefaultCommitters to commit, one per projection and one for the
// forwarder while they catch up, besides its requests' reads: at the
// morning peak, 4 connections queued the roll calls behind the
// projections (docs/performance.md).
const DefaultMaxConns = 24

// Open connects to the database at dsn. The store owns the pool: Close
// closes it. Open does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := collect(opts)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN, password included.
		return nil, errors.New("open postgres: invalid connection string")
	}
	SessionDefaults(cfg)
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, DefaultMaxConns)
	}
	if o.pool != nil {
		o.pool(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", Classify(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", Classify(err))
	}
	s := New(pool, opts...)
	s.ownPool = true
	s.warnAutovacuum(ctx)
	return s, nil
}

// SessionDefaults sets two settings on every connection of cfg, unless
// the connection string chose them:
//
//   - plan_cache_mode force_custom_plan: each execution of a prepared
//     statement is planned for its parameters. pgx prepares and caches
//     every statement per connection. By default the server switches such
//     a statement to a generic plan after five runs, and keeps it until
//     the table's statistics change. A generic plan made while the
//     ledger's tables were nearly empty (a new database, or a server
//     without autovacuum, whose statistics never change) scans streams
//     and events sequentially; it stays so at millions of rows, and each
//     append then reads the whole streams table. Planning these short
//     statements costs a few microseconds each.
//   - max_parallel_workers_per_gather 0: no parallel plans. The store's
//     statements read a stream, a page of the log or a few rows by key.
//     Without statistics the planner takes a stream for 0.5 % of the log;
//     past a few million events it then reads a stream with two parallel
//     workers, started for each read: a command's read went from 0.3 ms
//     to 12 ms at 5·10^6 events.
//
// See docs/performance.md.
func SessionDefaults(cfg *pgxpool.Config) {
	for name, value := range map[string]string{
		"plan_cache_mode":                 "force_custom_plan",
		"max_parallel_workers_per_gather": "0",
	} {
		if _, ok := cfg.ConnConfig.RuntimeParams[name]; !ok {
			cfg.ConnConfig.RuntimeParams[name] = value
		}
	}
}

// warnAutovacuum logs a warning when the server runs without autovacuum:
// the streams table, updated by every append, then grows with dead rows
// that nothing removes, and the tables' statistics never follow their
// growth.
func (s *Store) warnAutovacuum(ctx context.Context) {
	var on string
	if err := s.pool.QueryRow(ctx, `SELECT current_setting('autovacuum')`).Scan(&on); err != nil {
		s.log.WarnContext(ctx, "could not read the autovacuum setting", "err", err)
		return
	}
	if on != "on" {
		s.log.WarnContext(ctx, "autovacuum is off on this server: the streams table will fill with dead rows and the planner's statistics will go stale; turn it on (autovacuum = on) or run VACUUM ANALYZE regularly")
	}
}

// New returns a store on pool. The caller keeps ownership of the pool:
// Close stops the store's listener but leaves the pool open.
func New(pool *pgxpool.Pool, opts ...Option) *Store {
	o := collect(opts)
	s := &Store{pool: pool, log: o.log, wake: make(chan struct{}), newTimer: newTimer}
	s.group = groupcommit.New((*groupWriter)(s), o.committers)
	return s
}

func collect(opts []Option) options {
	o := options{log: slog.New(slog.DiscardHandler), committers: DefaultCommitters}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Pool returns the store's connection pool, so that read models and their
// checkpoints can be written in the same database, in one transaction.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close stops the listener, wakes every waiter, waits for the queued
// appends to commit and, if Open created the pool, closes it. Appends after
// Close each run in a transaction of their own, as long as the pool is
// open. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.wake)
	stop, stopped := s.stop, s.stopped
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-stopped
	}
	s.group.Close()
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// Append implements commands.EventStore. A version conflict is a
// domain.ErrVersionConflict, an event id stored elsewhere a
// domain.ErrDuplicateEvent, events that are not JSON a domain.ErrInvalid.
//
// Concurrent appends are committed together (adapters/groupcommit); Append
// returns once the transaction holding this one has committed. If ctx ends
// while the append is still queued, it is withdrawn and ctx's error
// returned; once its transaction is running, Append waits for the real
// outcome. Should the connection fail during the commit, the outcome is
// unknown; append the same events again: the ids make the retry a no-op if
// the first attempt went through. An outage is marked (Classify), as it is
// by every read.
func (s *Store) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	if err := validate(stream, events); err != nil {
		return domain.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return domain.AppendResult{}, appendError(stream, err)
	}
	r := groupcommit.NewRequest(stream, expected, events)
	if !s.group.Enqueue(r) {
		// Closed: no committer any more, but the pool may still be open.
		res, err := s.appendAlone(ctx, stream, expected, events)
		return res, Classify(err)
	}
	res, err := r.Await(ctx)
	return res, Classify(err)
}

// appendAlone appends in a transaction of its own.
func (s *Store) appendAlone(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	tx, res, err := s.beginAppend(ctx, stream, expected, events)
	if err != nil {
		return domain.AppendResult{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return domain.AppendResult{}, appendError(stream, err)
	}
	return res, nil
}

// beginAppend runs the append in a new transaction and returns it open, for
// the caller to commit. On error the transaction is rolled back and the
// error is already mapped by appendError.
func (s *Store) beginAppend(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (pgx.Tx, domain.AppendResult, error) {
	if err := validate(stream, events); err != nil {
		return nil, domain.AppendResult{}, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, domain.AppendResult{}, appendError(stream, err)
	}
	res, err := s.appendTx(ctx, tx, stream, expected, events)
	if err != nil {
		// A rollback error adds nothing: the transaction is gone either way.
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, domain.AppendResult{}, appendError(stream, err)
	}
	return tx, res, nil
}

// validate rejects, before any database work, what no transaction could
// store: a group must not fail on one append's bad input.
func validate(stream string, events []domain.Envelope) error {
	if !validText(stream) {
		return domain.Errorf(domain.ErrInvalid, "append to %q: stream name is not UTF-8 text", stream)
	}
	if len(events) == 0 {
		return domain.Errorf(domain.ErrInvalid, "append to %s: no events", stream)
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for _, e := range events {
		if _, twice := seen[e.ID]; twice {
			return domain.Errorf(domain.ErrDuplicateEvent, "append to %s: event %s twice", stream, e.ID)
		}
		seen[e.ID] = struct{}{}
		if !validText(e.Type) {
			return domain.Errorf(domain.ErrInvalid, "append to %s: event %s: type is not UTF-8 text", stream, e.ID)
		}
		// The json column would refuse it too, with a less helpful error.
		// json.Valid lets invalid UTF-8 through; PostgreSQL text does not.
		if !json.Valid(e.Data) || !utf8.Valid(e.Data) {
			return domain.Errorf(domain.ErrInvalid, "append to %s: event %s: data is not JSON", stream, e.ID)
		}
	}
	return nil
}

// validText reports whether PostgreSQL accepts s as text.
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// storedEvent is what the idempotency check needs of an event already
// stored, or written earlier in the same group (position not known yet).
type storedEvent struct {
	stream   string
	version  uint64
	position domain.Position
}

// appendTx appends events to stream inside tx, which it leaves open. It
// returns raw driver errors; callers map them with appendError.
func (s *Store) appendTx(ctx context.Context, tx pgx.Tx, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	r := groupcommit.NewRequest(stream, expected, events)
	if err := runInTx(ctx, tx, []*groupcommit.Request{r}); err != nil {
		return domain.AppendResult{}, err
	}
	return r.Result, r.Err
}

// groupWriter is the store as the committers see it (groupcommit.Writer).
type groupWriter Store

// WriteGroup runs group in a transaction of its own and sets the outcome
// of each of its appends.
func (w *groupWriter) WriteGroup(group []*groupcommit.Request) { (*Store)(w).commitGroup(group) }

// commitGroup runs group in a transaction of its own and sets the outcome
// of each of its appends.
func (s *Store) commitGroup(group []*groupcommit.Request) {
	// The group outlives the context of any one of its appends: a caller
	// that gives up must not cancel the others' commit.
	ctx := context.Background()
	err := s.commitOwn(ctx, group)
	var nc notCommitted
	switch {
	case err == nil:
	case errors.As(err, &nc) && len(group) > 1:
		// Rolled back for a reason the checks in Go cannot foresee (an id
		// inserted concurrently by another process, a deadlock with one):
		// each append tries again alone and gets its own outcome.
		for _, r := range group {
			r.Result, r.Err = s.appendAlone(ctx, r.Stream, r.Expected, r.Events)
		}
	default:
		for _, r := range group {
			r.Result, r.Err = domain.AppendResult{}, appendError(r.Stream, err)
		}
	}
}

// notCommitted wraps an error after which the group's transaction is known
// to be rolled back.
type notCommitted struct{ err error }

func (e notCommitted) Error() string { return e.err.Error() }
func (e notCommitted) Unwrap() error { return e.err }

// commitOwn runs group on a connection of its own, BEGIN to COMMIT. An
// error wrapped in notCommitted means nothing of the group was stored; any
// other leaves the outcome unknown (the connection failed while
// committing).
func (s *Store) commitOwn(ctx context.Context, group []*groupcommit.Request) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return notCommitted{err}
	}
	// A connection left inside a transaction is destroyed by Release, not
	// reused.
	defer conn.Release()
	err = runOwnGroup(ctx, conn, group)
	var nc notCommitted
	if errors.As(err, &nc) {
		_, _ = conn.Exec(ctx, "ROLLBACK") // best effort; see Release above
	}
	return err
}

// querier is where a group runs: a pgx.Tx, or a pooled connection when the
// group brings its own BEGIN.
type querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// head is a stream's head row, locked: as read, then as the group's
// appends move it.
type head struct {
	read     uint64
	version  uint64
	hash     []byte
	advanced bool
}

// eventRows are the events a group inserts, column by column (unnest).
type eventRows struct {
	streams, types, data, metadata []string
	ids                            [][16]byte
	versions                       []int64
	recordedAt                     []time.Time
	hashes                         [][]byte
}

// A group runs in two round trips, whichever path holds its transaction
// (commitOwnGroup on the committers' connections, runInTx inside a caller's
// transaction).
//
// The first makes sure every stream's head row exists, locks them all in
// one order (so that two groups never deadlock on each other), then looks
// the ids up: statements in a batch run in order, so the lookup takes its
// snapshot after the locks are granted and sees every append to these
// streams that committed while we queued. Inserting a placeholder head
// (version 0) rather than after the checks makes two creators of one
// stream queue on the same row instead of racing on its primary key; a
// placeholder is deleted again unless an append of the group created the
// stream. Then the appends are checked and chained in Go, in queue order,
// each against the heads as the appends before it left them. The second
// round trip inserts the events of all the appends that passed, moves
// their heads and notifies once.

// groupRun is one group between its two round trips.
type groupRun struct {
	group     []*groupcommit.Request
	streams   []string // sorted, distinct
	ids       [][16]byte
	needTime  bool
	heads     map[string]*head
	stored    map[uuid.UUID]storedEvent
	now       time.Time
	rows      eventRows
	positions map[uuid.UUID]domain.Position
}

func newGroupRun(group []*groupcommit.Request) *groupRun {
	// Ids go to pgx as [16]byte: a uuid.UUID would be encoded through its
	// driver.Valuer, as text parsed back.
	g := &groupRun{
		group:   group,
		streams: make([]string, 0, len(group)),
		ids:     make([][16]byte, 0, len(group)),
	}
	for _, r := range group {
		g.streams = append(g.streams, r.Stream)
		for _, e := range r.Events {
			g.ids = append(g.ids, e.ID)
			g.needTime = g.needTime || e.Metadata.Time.IsZero()
		}
	}
	slices.Sort(g.streams)
	g.streams = slices.Compact(g.streams)
	g.heads = make(map[string]*head, len(g.streams))
	g.stored = make(map[uuid.UUID]storedEvent, len(g.ids))
	return g
}

// queueRead queues the first round trip: placeholder heads, the heads
// locked, the ids looked up, and the time when an event has none.
func (g *groupRun) queueRead(b *pgx.Batch) {
	b.Queue(`INSERT INTO streams (stream, version, hash) SELECT u.stream, 0, '' FROM unnest($1::text[]) AS u(stream) ORDER BY u.stream ON CONFLICT (stream) DO NOTHING`, g.streams)
	b.Queue(`SELECT stream, version, hash FROM streams WHERE stream = ANY($1::text[]) ORDER BY stream FOR UPDATE`, g.streams).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				name    string
				version int64
				hash    []byte
			)
			if err := rows.Scan(&name, &version, &hash); err != nil {
				return err
			}
			g.heads[name] = &head{read: uint64(version), version: uint64(version), hash: hash}
		}
		return rows.Err()
	})
	b.Queue(`SELECT id, stream, version, tx_id::text, seq FROM events WHERE id = ANY($1::uuid[])`, g.ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				id  [16]byte // not uuid.UUID: scanned through sql.Scanner, as text
				e   storedEvent
				txt string
			)
			if err := rows.Scan(&id, &e.stream, &e.version, &txt, &e.position.Seq); err != nil {
				return err
			}
			tx, err := strconv.ParseUint(txt, 10, 64)
			if err != nil {
				return fmt.Errorf("tx_id %q: %w", txt, err)
			}
			e.position.Tx = tx
			g.stored[uuid.UUID(id)] = e
		}
		return rows.Err()
	})
	if g.needTime {
		b.Queue(`SELECT now()`).QueryRow(func(row pgx.Row) error { return row.Scan(&g.now) })
	}
}

// headsFound checks that the first round trip read every head it locked.
func (g *groupRun) headsFound() error {
	for _, r := range g.group {
		if g.heads[r.Stream] == nil {
			return fmt.Errorf("head of %s not found after inserting it", r.Stream)
		}
	}
	return nil
}

// plan checks the appends in queue order and chains those that pass. A
// failed check is the append's own outcome; a returned error is the
// group's.
func (g *groupRun) plan() error {
	g.now = g.now.UTC().Truncate(time.Microsecond)
	for _, r := range g.group {
		if err := plan(r, g.heads[r.Stream], g.stored, g.now, &g.rows); err != nil {
			return err
		}
	}
	return nil
}

// queueWrite queues the second round trip, the group's writes, and
// reports whether there is anything to write: when every append failed or
// was a retry, it queues nothing.
func (g *groupRun) queueWrite(b *pgx.Batch) bool {
	if len(g.rows.ids) == 0 {
		return false
	}
	var (
		moved                    []string
		movedVersions, movedFrom []int64
		movedHashes              [][]byte
		placeholders             []string
	)
	for _, name := range g.streams {
		switch h := g.heads[name]; {
		case h.advanced:
			moved = append(moved, name)
			movedVersions = append(movedVersions, int64(h.version))
			movedHashes = append(movedHashes, h.hash)
			movedFrom = append(movedFrom, int64(h.read))
		case h.read == 0:
			placeholders = append(placeholders, name)
		}
	}
	g.positions = make(map[uuid.UUID]domain.Position, len(g.rows.ids))
	rows := &g.rows
	b.Queue(`INSERT INTO events (stream, id, version, type, data, metadata, recorded_at, hash)
SELECT u.stream, u.id, u.version, u.type, u.data::json, u.metadata::json, u.recorded_at, u.hash
FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bytea[])
  AS u(stream, id, version, type, data, metadata, recorded_at, hash)
RETURNING id, tx_id::text, seq`,
		rows.streams, rows.ids, rows.versions, rows.types, rows.data, rows.metadata, rows.recordedAt, rows.hashes,
	).Query(func(res pgx.Rows) error {
		for res.Next() {
			var (
				id  [16]byte
				txt string
				p   domain.Position
			)
			if err := res.Scan(&id, &txt, &p.Seq); err != nil {
				return err
			}
			t, err := strconv.ParseUint(txt, 10, 64)
			if err != nil {
				return fmt.Errorf("tx_id %q: %w", txt, err)
			}
			p.Tx = t
			g.positions[uuid.UUID(id)] = p
		}
		return res.Err()
	})
	// Every head must move from where it was read. That cannot fail
	// while we hold the row locks; it is checked all the same, by the
	// server, so that a failure (division by zero) aborts the
	// transaction before any COMMIT queued after it.
	b.Queue(`WITH moved AS (
  UPDATE streams AS s SET version = u.version, hash = u.hash
  FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bigint[]) AS u(stream, version, hash, old)
  WHERE s.stream = u.stream AND s.version = u.old
  RETURNING 1
)
SELECT 1 / (count(*) = $5)::int FROM moved`, moved, movedVersions, movedHashes, movedFrom, len(moved))
	if len(placeholders) > 0 {
		b.Queue(`DELETE FROM streams WHERE stream = ANY($1::text[]) AND version = 0`, placeholders)
	}
	b.Queue(`SELECT pg_notify($1, '')`, channel)
	return true
}

// settle gives each append that wrote its position, once the writes have
// run.
func (g *groupRun) settle() error {
	for _, r := range g.group {
		if r.Err != nil {
			continue
		}
		last := r.Events[len(r.Events)-1].ID
		if p, ok := g.positions[last]; ok {
			r.Result.Position = p
		} else if r.Result.Position.IsZero() {
			// A retry of an append made earlier in this very group.
			return fmt.Errorf("event %s: position not returned", last)
		}
	}
	return nil
}

// runOwnGroup runs group on q, a connection outside any transaction,
// BEGIN to COMMIT: it commits if any append wrote and rolls back
// otherwise. An error wrapped in notCommitted means the transaction surely
// did not commit; any other leaves the outcome unknown. Each append's own
// outcome (result, domain error, wrote) is set on it; a returned error is
// the group's. Any server error before COMMIT makes the server skip it.
func runOwnGroup(ctx context.Context, q querier, group []*groupcommit.Request) error {
	g := newGroupRun(group)
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	g.queueRead(b)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return notCommitted{err} // no COMMIT was sent
	}
	if err := g.headsFound(); err != nil {
		return err
	}
	if err := g.plan(); err != nil {
		return notCommitted{err}
	}
	b = &pgx.Batch{}
	if g.queueWrite(b) {
		b.Queue(`COMMIT`)
	} else {
		// Nothing to keep (every append failed or was a retry): a
		// rollback also drops the placeholder heads, and costs no WAL
		// flush.
		b.Queue(`ROLLBACK`)
	}
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			// A statement or the COMMIT itself failed on the server:
			// the transaction is aborted.
			return notCommitted{err}
		}
		// The connection failed, or reading a result did after the
		// server had run the COMMIT: the outcome is unknown.
		return err
	}
	return g.settle()
}

// runInTx runs group inside tx, which it leaves open for the caller to
// commit or roll back (placeholder heads included, when nothing was
// written). It returns raw driver errors. Each append's own outcome is set
// on it; a returned error is the group's.
func runInTx(ctx context.Context, tx pgx.Tx, group []*groupcommit.Request) error {
	g := newGroupRun(group)
	b := &pgx.Batch{}
	g.queueRead(b)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	if err := g.headsFound(); err != nil {
		return err
	}
	if err := g.plan(); err != nil {
		return err
	}
	b = &pgx.Batch{}
	if g.queueWrite(b) {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	return g.settle()
}

// plan checks one append of a group against its stream's head h and the
// events stored or written so far (stored), and if it passes adds its rows,
// moves h and records its events in stored. A failed check is the
// append's own error, set on r; a returned error is the group's.
func plan(r *groupcommit.Request, h *head, stored map[uuid.UUID]storedEvent, now time.Time, rows *eventRows) error {
	r.Result, r.Err, r.Wrote = domain.AppendResult{}, nil, false
	if res, done, err := replayed(r.Stream, r.Events, stored); done || err != nil {
		r.Result, r.Err = res, err
		return nil
	}
	if !r.Expected.Matches(h.version) {
		r.Err = domain.Errorf(domain.ErrVersionConflict, "%s: expected %s, at %d", r.Stream, r.Expected, h.version)
		return nil
	}
	for _, e := range r.Events {
		if at, dup := stored[e.ID]; dup {
			r.Err = domain.Errorf(domain.ErrDuplicateEvent, "event %s is in %s", e.ID, at.stream)
			return nil
		}
	}
	prev := h.hash
	if h.version == 0 {
		prev = nil
	}
	version := h.version
	for _, e := range r.Events {
		version++
		md := e.Metadata
		if md.Time.IsZero() {
			md.Time = now
		}
		mdJSON, err := json.Marshal(md)
		if err != nil {
			return fmt.Errorf("event %s: metadata: %w", e.ID, err)
		}
		hash := domain.ChainHash(prev, e.ID, r.Stream, version, e.Type, e.Data, mdJSON)
		prev = hash
		rows.streams = append(rows.streams, r.Stream)
		rows.ids = append(rows.ids, e.ID)
		rows.versions = append(rows.versions, int64(version))
		rows.types = append(rows.types, e.Type)
		rows.data = append(rows.data, string(e.Data))
		rows.metadata = append(rows.metadata, string(mdJSON))
		rows.recordedAt = append(rows.recordedAt, md.Time)
		rows.hashes = append(rows.hashes, hash)
		stored[e.ID] = storedEvent{stream: r.Stream, version: version}
	}
	h.version, h.hash, h.advanced = version, prev, true
	r.Result.Version = version
	r.Wrote = true
	return nil
}

// replayed reports whether events are already stored, contiguously and in
// order, in stream; if so it returns the result of that first append.
func replayed(stream string, events []domain.Envelope, stored map[uuid.UUID]storedEvent) (domain.AppendResult, bool, error) {
	first, ok := stored[events[0].ID]
	if !ok {
		return domain.AppendResult{}, false, nil
	}
	if first.stream != stream {
		return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "event %s is in %s", events[0].ID, first.stream)
	}
	var last storedEvent
	for i, e := range events {
		at, ok := stored[e.ID]
		if !ok || at.stream != stream || at.version != first.version+uint64(i) {
			return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "events partly stored in %s", stream)
		}
		last = at
	}
	return domain.AppendResult{Version: last.version, Position: last.position}, true, nil
}

// appendError maps a driver error to the store's errors. Domain errors
// pass through unchanged so that errors.Is sees them without unwrapping.
func appendError(stream string, err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505" && (pe.ConstraintName == "events_stream_version_key" || pe.ConstraintName == "streams_pkey"):
			return domain.Errorf(domain.ErrVersionConflict, "%s: written concurrently", stream)
		case pe.Code == "23505" && pe.ConstraintName == "events_id_key":
			return domain.Errorf(domain.ErrDuplicateEvent, "append to %s: %s", stream, pe.Detail)
		case pe.Code == "22P02" || pe.Code == "22032": // invalid text representation, invalid json text
			return domain.Errorf(domain.ErrInvalid, "append to %s: %s", stream, pe.Message)
		}
	}
	return fmt.Errorf("append %s: %w", stream, err)
}

// recordColumns are the columns scanRecords reads, in order. The
// transaction id is read as text (pgx has no xid8 type) under another name:
// called tx_id, the text would shadow the column in ORDER BY and sort
// "1000" before "998".
const recordColumns = `tx_id::text AS tx_text, seq, id, stream, version, type, data, metadata`

func scanRecords(rows pgx.Rows) ([]domain.Record, error) {
	defer rows.Close()
	var out []domain.Record
	for rows.Next() {
		var (
			r   domain.Record
			txt string
			md  []byte
		)
		if err := rows.Scan(&txt, &r.Position.Seq, &r.ID, &r.Stream, &r.Version, &r.Type, &r.Data, &md); err != nil {
			return nil, err
		}
		tx, err := strconv.ParseUint(txt, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("event %s: tx_id %q: %w", r.ID, txt, err)
		}
		r.Position.Tx = tx
		if err := json.Unmarshal(md, &r.Metadata); err != nil {
			return nil, fmt.Errorf("event %s: metadata: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReadStream implements commands.EventStore.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64) ([]domain.Record, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	defer conn.Release()
	rows, err := conn.Query(ctx, `SELECT `+recordColumns+` FROM events WHERE stream = $1 AND version > $2 ORDER BY events.version`, stream, from)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, Classify(err))
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, Classify(err))
	}
	return recs, nil
}

// afterTxSQL is the transaction id of the position ($1, $2) readers
// start after. The store hands out positions with a transaction id; a
// bare number (tx 0, seq N > 0: the form of SQLite's positions, or a
// client's guess in ?after=) would otherwise order before every event
// and replay the whole log. It is read as the sequence number it names:
// the position of the event with seq N, or, when no visible event has it
// (one past the head), the largest transaction id, after which nothing
// lies.
const afterTxSQL = `CASE WHEN $1::text = '0' AND $2::bigint > 0
  THEN COALESCE((SELECT a.tx_id FROM events a WHERE a.seq = $2::bigint), '18446744073709551615'::xid8)
  ELSE $1::text::xid8 END`

// seqArg is a position's seq as the bigint column takes it: one above the
// largest bigint still lies after every row.
func seqArg(seq uint64) int64 { return int64(min(seq, math.MaxInt64)) }

// readAllSQL reads the global log after a position.
//
// Sequence numbers are taken when rows are inserted but become visible when
// their transaction commits, in another order: a reader that read up to
// seq 12 and checkpointed it would skip seq 11 committed a moment later.
// So the log is ordered by (writing transaction id, seq) and a reader only
// sees events of transactions older than the oldest one still running
// (pg_snapshot_xmin of its own snapshot): those are all finished, and any
// transaction that has not finished, or has not started, has or will get a
// larger id, hence a larger position. What is returned is therefore final;
// nothing can later appear before it. The price: a transaction that stays
// open anywhere on the server (any database, not only appends) holds back
// every event written after it began, until it ends. Keep transactions
// short.
//
// A position is ($1 tx id as text, $2 seq); see afterTxSQL.
const readAllSQL = `SELECT ` + recordColumns + ` FROM events
WHERE (tx_id, seq) > (` + afterTxSQL + `, $2)
  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY events.tx_id, events.seq
LIMIT $3`

// ReadAll implements projections.Log: up to limit events after `after`, in
// (transaction id, seq) order, never an event that a still-running
// transaction could precede (see readAllSQL). limit <= 0 means no limit.
func (s *Store) ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	var lim any
	if limit > 0 {
		lim = limit
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, err)
	}
	defer conn.Release()
	rows, err := conn.Query(ctx, readAllSQL, strconv.FormatUint(after.Tx, 10), seqArg(after.Seq), lim)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, Classify(err))
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, Classify(err))
	}
	return recs, nil
}
