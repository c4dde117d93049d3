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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

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
}

// Option configures Open and New.
type Option func(*options)

type options struct {
	pool func(*pgxpool.Config)
	log  *slog.Logger
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

// Open connects to the database at dsn. The store owns the pool: Close
// closes it. Open does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := collect(opts)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN, password included.
		return nil, errors.New("open postgres: invalid connection string")
	}
	if o.pool != nil {
		o.pool(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	s := New(pool, opts...)
	s.ownPool = true
	return s, nil
}

// New returns a store on pool. The caller keeps ownership of the pool:
// Close stops the store's listener but leaves the pool open.
func New(pool *pgxpool.Pool, opts ...Option) *Store {
	o := collect(opts)
	return &Store{pool: pool, log: o.log, wake: make(chan struct{})}
}

func collect(opts []Option) options {
	o := options{log: slog.New(slog.DiscardHandler)}
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

// Close stops the listener, wakes every waiter and, if Open created the
// pool, closes it. Closing twice is harmless.
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
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// Append implements commands.EventStore. A version conflict is a
// domain.ErrVersionConflict, an event id stored elsewhere a
// domain.ErrDuplicateEvent, events that are not JSON a domain.ErrInvalid.
//
// If ctx ends while the commit is in flight the outcome is unknown; append
// the same events again: the ids make the retry a no-op if the first
// attempt went through.
func (s *Store) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
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

func validate(stream string, events []domain.Envelope) error {
	if len(events) == 0 {
		return domain.Errorf(domain.ErrInvalid, "append to %s: no events", stream)
	}
	for _, e := range events {
		// The json column would refuse it too, with a less helpful error.
		if !json.Valid(e.Data) {
			return domain.Errorf(domain.ErrInvalid, "append to %s: event %s: data is not JSON", stream, e.ID)
		}
	}
	return nil
}

// storedEvent is what the idempotency check needs of an event already stored.
type storedEvent struct {
	stream   string
	version  uint64
	position domain.Position
}

// appendTx appends events to stream inside tx, which it leaves open. It
// returns raw driver errors; callers map them with appendError.
func (s *Store) appendTx(ctx context.Context, tx pgx.Tx, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	ids := make([]uuid.UUID, len(events))
	needTime := false
	for i, e := range events {
		ids[i] = e.ID
		needTime = needTime || e.Metadata.Time.IsZero()
	}

	// First round trip. Make sure the stream's head row exists, lock it, then
	// look the ids up. Statements in a batch run in order, so the lookup
	// takes its snapshot after the lock is granted and sees every append to
	// this stream that committed while we queued for it. Inserting a
	// placeholder head (version 0) instead of inserting it after the checks
	// makes two creators of one stream queue on the same row instead of
	// racing on its primary key; the placeholder only survives if this
	// append commits, by then updated.
	var (
		current int64
		prev    []byte
		stored  = make(map[uuid.UUID]storedEvent, len(events))
		now     time.Time
	)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO streams (stream, version, hash) VALUES ($1, 0, '') ON CONFLICT (stream) DO NOTHING`, stream)
	b.Queue(`SELECT version, hash FROM streams WHERE stream = $1 FOR UPDATE`, stream).QueryRow(func(row pgx.Row) error {
		return row.Scan(&current, &prev)
	})
	b.Queue(`SELECT id, stream, version, tx_id::text, seq FROM events WHERE id = ANY($1)`, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				id  uuid.UUID
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
			stored[id] = e
		}
		return rows.Err()
	})
	if needTime {
		b.Queue(`SELECT now()`).QueryRow(func(row pgx.Row) error { return row.Scan(&now) })
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return domain.AppendResult{}, err
	}

	if res, done, err := replayed(stream, events, stored); done || err != nil {
		return res, err
	}
	if !expected.Matches(uint64(current)) {
		return domain.AppendResult{}, domain.Errorf(domain.ErrVersionConflict, "%s: expected %s, at %d", stream, expected, current)
	}
	if len(stored) > 0 {
		for _, e := range events {
			if at, dup := stored[e.ID]; dup {
				return domain.AppendResult{}, domain.Errorf(domain.ErrDuplicateEvent, "event %s is in %s", e.ID, at.stream)
			}
		}
	}
	if current == 0 {
		prev = nil
	}

	// Second round trip: the events, the new head, the notification.
	now = now.UTC().Truncate(time.Microsecond)
	var sql strings.Builder
	sql.WriteString(`INSERT INTO events (stream, id, version, type, data, metadata, recorded_at, hash) VALUES `)
	args := make([]any, 1, 1+7*len(events))
	args[0] = stream
	version := uint64(current)
	for i, e := range events {
		version++
		md := e.Metadata
		if md.Time.IsZero() {
			md.Time = now
		}
		mdJSON, err := json.Marshal(md)
		if err != nil {
			return domain.AppendResult{}, fmt.Errorf("event %s: metadata: %w", e.ID, err)
		}
		hash := domain.ChainHash(prev, e.ID, stream, version, e.Type, e.Data, mdJSON)
		prev = hash
		if i > 0 {
			sql.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&sql, "($1, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
		args = append(args, e.ID, int64(version), e.Type, e.Data, mdJSON, md.Time, hash)
	}
	sql.WriteString(` RETURNING tx_id::text, seq`)

	var last domain.Position
	b = &pgx.Batch{}
	b.Queue(sql.String(), args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				txt string
				seq uint64
			)
			if err := rows.Scan(&txt, &seq); err != nil {
				return err
			}
			t, err := strconv.ParseUint(txt, 10, 64)
			if err != nil {
				return fmt.Errorf("tx_id %q: %w", txt, err)
			}
			if p := (domain.Position{Tx: t, Seq: seq}); last.Less(p) {
				last = p
			}
		}
		return rows.Err()
	})
	b.Queue(`UPDATE streams SET version = $2, hash = $3 WHERE stream = $1 AND version = $4`, stream, int64(version), prev, current).Exec(func(tag pgconn.CommandTag) error {
		if tag.RowsAffected() != 1 {
			// Cannot happen while we hold the row lock; checked all the same.
			return domain.Errorf(domain.ErrVersionConflict, "%s: expected %s, head moved", stream, expected)
		}
		return nil
	})
	b.Queue(`SELECT pg_notify($1, '')`, channel)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return domain.AppendResult{}, err
	}
	return domain.AppendResult{Version: version, Position: last}, nil
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
	rows, err := s.pool.Query(ctx, `SELECT `+recordColumns+` FROM events WHERE stream = $1 AND version > $2 ORDER BY events.version`, stream, from)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	return recs, nil
}

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
const readAllSQL = `SELECT ` + recordColumns + ` FROM events
WHERE (tx_id, seq) > ($1::text::xid8, $2)
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
	rows, err := s.pool.Query(ctx, readAllSQL, strconv.FormatUint(after.Tx, 10), after.Seq, lim)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, err)
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, err)
	}
	return recs, nil
}
