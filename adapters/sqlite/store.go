package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/schoollife/ledger/adapters/groupcommit"
	"github.com/schoollife/ledger/domain"
)

// Append implements commands.EventStore. In one write transaction it checks
// whether the events are already stored (a retried append returns the
// original result), then the expected version, then inserts the events with
// their chain hashes and bumps the stream's row. Data must be JSON; it is
// stored byte for byte.
//
// Concurrent appends share that transaction (adapters/groupcommit); Append returns
// once it has committed. If ctx ends while the append is still queued, it
// is withdrawn and ctx's error returned; once its transaction is running,
// Append waits for the real outcome.
func (s *Store) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	if err := checkAppend(stream, events); err != nil {
		return domain.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return domain.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	r := groupcommit.NewRequest(stream, expected, events)
	if !s.group.Enqueue(r) {
		return domain.AppendResult{}, fmt.Errorf("append %s: %w", stream, errClosed)
	}
	res, err := r.Await(ctx)
	return res, Classify(err)
}

var errClosed = errors.New("sqlite store: closed")

// groupWriter is the store as its committer sees it (groupcommit.Writer).
type groupWriter Store

// WriteGroup runs group in one write transaction and sets the outcome of
// each of its appends.
func (w *groupWriter) WriteGroup(group []*groupcommit.Request) { (*Store)(w).commitGroup(group) }

// commitGroup runs group in one write transaction and sets the outcome of
// each of its appends.
func (s *Store) commitGroup(group []*groupcommit.Request) {
	// The group outlives the context of any one of its appends: a caller
	// that gives up must not cancel the others' commit.
	ctx := context.Background()
	if err := s.lock(ctx); err != nil {
		for _, r := range group {
			r.Err = fmt.Errorf("append %s: %w", r.Stream, err)
		}
		return
	}
	defer s.unlock()

	wrote, err := s.runGroup(ctx, group)
	var rolledBack groupRolledBack
	switch {
	case err == nil:
	case errors.As(err, &rolledBack):
		// Something the checks do not foresee failed (an I/O error, a
		// constraint broken by a writer outside the store) and the whole
		// transaction is gone: each append tries again alone and gets its
		// own outcome.
		wrote = false
		for _, r := range group {
			r.Result, r.Err = s.appendLocked(ctx, r.Stream, r.Expected, r.Events)
			wrote = wrote || r.Err == nil
		}
	default:
		for _, r := range group {
			if r.Err == nil {
				r.Result, r.Err = domain.AppendResult{}, fmt.Errorf("append %s: %w", r.Stream, err)
			}
		}
		wrote = false
	}
	if wrote {
		s.broadcast()
	}
}

// groupRolledBack wraps an error after which the group's transaction is
// known to be rolled back.
type groupRolledBack struct{ err error }

func (e groupRolledBack) Error() string { return e.err.Error() }
func (e groupRolledBack) Unwrap() error { return e.err }

// runGroup runs the appends of group, in queue order, in one transaction;
// the caller holds the writer. Each append's checks come before its writes,
// so one that fails a check (a domain error, set on it) has written nothing
// and the others carry on. Any other error rolls everything back and is
// returned wrapped in groupRolledBack; a failed commit is returned as is.
func (s *Store) runGroup(ctx context.Context, group []*groupcommit.Request) (wrote bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, groupRolledBack{err}
	}
	st := s.st.in(ctx, tx)
	for _, r := range group {
		r.Result, r.Wrote, r.Err = st.append(ctx, r.Stream, r.Expected, r.Events)
		var de *domain.Error
		if r.Err != nil && !errors.As(r.Err, &de) {
			err := r.Err
			for _, r := range group {
				r.Result, r.Err, r.Wrote = domain.AppendResult{}, nil, false
			}
			return false, groupRolledBack{errors.Join(err, ignoreDone(tx.Rollback()))}
		}
		wrote = wrote || r.Wrote
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return wrote, nil
}

// appendLocked appends in a transaction of its own; the caller holds the
// writer.
func (s *Store) appendLocked(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	var res domain.AppendResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, _, err = s.st.in(ctx, tx).append(ctx, stream, expected, events)
		return err
	})
	if err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			return domain.AppendResult{}, err
		}
		return domain.AppendResult{}, fmt.Errorf("append %s: %w", stream, mapConstraint(err, stream))
	}
	return res, nil
}

// checkAppend rejects what no store could append.
func checkAppend(stream string, events []domain.Envelope) error {
	if stream == "" {
		return domain.Errorf(domain.ErrInvalid, "append: no stream name")
	}
	if len(events) == 0 {
		return domain.Errorf(domain.ErrInvalid, "append to %s: no events", stream)
	}
	seen := make(map[uuid.UUID]bool, len(events))
	for _, e := range events {
		if seen[e.ID] {
			return domain.Errorf(domain.ErrDuplicateEvent, "event %s twice in one append to %s", e.ID, stream)
		}
		seen[e.ID] = true
		if e.Type == "" {
			return domain.Errorf(domain.ErrInvalid, "append to %s: event %s has no type", stream, e.ID)
		}
		if !json.Valid(e.Data) {
			return domain.Errorf(domain.ErrInvalid, "append to %s: event %s data is not JSON", stream, e.ID)
		}
	}
	return nil
}

// statements are the store's prepared statements: parsing costs more than
// running them. The writer's are prepared on its one connection; the
// reads of the log on the read pool, which prepares them again on each
// connection it opens (parsing the read of a stream took an eighth of the
// CPU of 64 writers' commands).
type statements struct {
	eventByID, streamHead, insertEvent, upsertStream *sql.Stmt // writer
	readStream, readAll                              *sql.Stmt // read pool
}

func prepare(ctx context.Context, w, r *sql.DB) (statements, error) {
	var st statements
	for _, p := range []struct {
		db  *sql.DB
		dst **sql.Stmt
		sql string
	}{
		{w, &st.eventByID, `SELECT stream, version, position FROM events WHERE id = ?`},
		{w, &st.streamHead, `SELECT version, hash FROM streams WHERE stream = ?`},
		{w, &st.insertEvent, `INSERT INTO events (id, stream, version, type, data, metadata, recorded_at, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{w, &st.upsertStream, `INSERT INTO streams (stream, version, hash) VALUES (?, ?, ?)
			ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash`},
		{r, &st.readStream, selectRecord + ` WHERE stream = ? AND version > ? ORDER BY version`},
		{r, &st.readAll, selectRecord + ` WHERE position > ? ORDER BY position LIMIT ?`},
	} {
		stmt, err := p.db.PrepareContext(ctx, p.sql)
		if err != nil {
			return statements{}, errors.Join(fmt.Errorf("prepare: %w", err), st.close())
		}
		*p.dst = stmt
	}
	return st, nil
}

func (st statements) close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{st.eventByID, st.streamHead, st.insertEvent, st.upsertStream, st.readStream, st.readAll} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// txStatements are the writer's statements bound to one transaction.
type txStatements struct {
	eventByID, streamHead, insertEvent, upsertStream *sql.Stmt
}

// in binds the writer's statements to tx, once for all the appends that
// tx holds.
func (st statements) in(ctx context.Context, tx *sql.Tx) txStatements {
	return txStatements{
		eventByID:    tx.StmtContext(ctx, st.eventByID),
		streamHead:   tx.StmtContext(ctx, st.streamHead),
		insertEvent:  tx.StmtContext(ctx, st.insertEvent),
		upsertStream: tx.StmtContext(ctx, st.upsertStream),
	}
}

// append runs one append in the transaction: the idempotency check, then
// the expected version, then the writes. A domain error comes before any
// write: an append that fails a check leaves the transaction as it found
// it.
//
// An append of one event, the common case, looks its id up only when it
// has to. If the version check fails, the lookup decides between a retry
// of a stored append and a conflict. If it passes, the event is inserted
// at once, and only a unique violation on its id sends it to the lookup:
// SQLite backs out the failed statement alone, not the transaction, and
// with one row that statement was the append's only write. An append of
// several events looks its ids up first, since a duplicate found at its
// third row would leave the first two written.
func (st txStatements) append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (res domain.AppendResult, wrote bool, err error) {
	if len(events) > 1 {
		res, replayed, err := st.replay(ctx, stream, events)
		if err != nil || replayed {
			return res, false, err
		}
	}
	current, prev, err := st.head(ctx, stream)
	if err != nil {
		return domain.AppendResult{}, false, err
	}
	if !expected.Matches(current) {
		if len(events) == 1 {
			res, replayed, err := st.replay(ctx, stream, events)
			if err != nil || replayed {
				return res, false, err
			}
		}
		return domain.AppendResult{}, false, domain.Errorf(domain.ErrVersionConflict, "%s: expected %s, at %d", stream, expected, current)
	}
	res, err = st.insert(ctx, stream, current, prev, events)
	if err != nil && len(events) == 1 && isUniqueID(err) {
		if res, replayed, rerr := st.replay(ctx, stream, events); rerr != nil || replayed {
			return res, false, rerr
		}
		// The lookup found nothing: the violation stands as it is.
	}
	return res, err == nil, err
}

// uniqueViolation returns err as SQLite's unique violation, if it is one.
func uniqueViolation(err error) (*sqlite.Error, bool) {
	var se *sqlite.Error
	return se, errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// isUniqueID reports whether err is a unique violation on an event id.
func isUniqueID(err error) bool {
	se, ok := uniqueViolation(err)
	return ok && strings.Contains(se.Error(), "events.id")
}

// stored is where an event already is.
type stored struct {
	stream   string
	version  uint64
	position int64
}

// replay reports whether events are already stored, in order and contiguous,
// in stream, and if so the result of the append that stored them. Any other
// overlap with stored events is a duplicate.
func (st txStatements) replay(ctx context.Context, stream string, events []domain.Envelope) (domain.AppendResult, bool, error) {
	var (
		last  stored
		found int
	)
	for i, e := range events {
		var sd stored
		err := st.eventByID.QueryRowContext(ctx, e.ID.String()).Scan(&sd.stream, &sd.version, &sd.position)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if found > 0 {
				return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: events partly stored already", stream)
			}
			continue
		case err != nil:
			return domain.AppendResult{}, false, err
		case found < i:
			return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: events partly stored already", stream)
		case sd.stream != stream:
			return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: event %s is in %s", stream, e.ID, sd.stream)
		case i > 0 && sd.version != last.version+1:
			return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: events stored already in another order", stream)
		}
		found++
		last = sd
	}
	if found == 0 {
		return domain.AppendResult{}, false, nil
	}
	return domain.AppendResult{Version: last.version, Position: domain.Position{Seq: uint64(last.position)}}, true, nil
}

// head returns the stream's version and the hash of its last event (0 and
// nil for a new stream).
func (st txStatements) head(ctx context.Context, stream string) (uint64, []byte, error) {
	var (
		current uint64
		prev    []byte
	)
	err := st.streamHead.QueryRowContext(ctx, stream).Scan(&current, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, nil, err
	}
	return current, prev, nil
}

// insert appends events after the stream's head (current, whose last hash
// is prev), chaining their hashes, and moves the head.
func (st txStatements) insert(ctx context.Context, stream string, current uint64, prev []byte, events []domain.Envelope) (domain.AppendResult, error) {
	now := time.Now().UTC()
	recordedAt := now.Format(time.RFC3339Nano)
	var position int64
	for _, e := range events {
		current++
		meta, err := storedMetadata(e, now)
		if err != nil {
			return domain.AppendResult{}, err
		}
		hash := domain.ChainHash(prev, e.ID, stream, current, e.Type, e.Data, meta)
		r, err := st.insertEvent.ExecContext(ctx, e.ID.String(), stream, current, e.Type, string(e.Data), string(meta), recordedAt, hash)
		if err != nil {
			return domain.AppendResult{}, err
		}
		if position, err = r.LastInsertId(); err != nil {
			return domain.AppendResult{}, err
		}
		prev = hash
	}
	if _, err := st.upsertStream.ExecContext(ctx, stream, current, prev); err != nil {
		return domain.AppendResult{}, err
	}
	return domain.AppendResult{Version: current, Position: domain.Position{Seq: uint64(position)}}, nil
}

// mapConstraint turns a unique violation into the domain error it means. The
// checks in Append run under the write lock, so this only happens if the file
// was written behind the store's back.
func mapConstraint(err error, stream string) error {
	switch _, unique := uniqueViolation(err); {
	case !unique:
		return err
	case isUniqueID(err):
		return domain.Errorf(domain.ErrDuplicateEvent, "append to %s: %v", stream, err)
	}
	return domain.Errorf(domain.ErrVersionConflict, "append to %s: %v", stream, err)
}

const selectRecord = `SELECT position, id, stream, version, type, data, metadata FROM events`

// ReadStream implements commands.EventStore.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64) ([]domain.Record, error) {
	rows, err := s.st.readStream.QueryContext(ctx, stream, clamp(from))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, Classify(err))
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, Classify(err))
	}
	return recs, nil
}

// ReadAll implements projections.Log. A limit of zero or less reads to the
// end. Writers are serialized, so no event can still commit before one
// already readable.
func (s *Store) ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	if after.Tx != 0 {
		// Not one of ours (ours have Tx 0), and after all of them.
		return nil, nil
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.st.readAll.QueryContext(ctx, clamp(after.Seq), limit)
	if err != nil {
		return nil, fmt.Errorf("read all after %v: %w", after, Classify(err))
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("read all after %v: %w", after, Classify(err))
	}
	return recs, nil
}

func scanRecords(rows *sql.Rows) ([]domain.Record, error) {
	defer rows.Close()
	var out []domain.Record
	for rows.Next() {
		var (
			r        domain.Record
			position int64
			id       string
			meta     []byte
		)
		if err := rows.Scan(&position, &id, &r.Stream, &r.Version, &r.Type, &r.Data, &meta); err != nil {
			return nil, err
		}
		var err error
		if r.ID, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("event at %d: id %q: %w", position, id, err)
		}
		if err := json.Unmarshal(meta, &r.Metadata); err != nil {
			return nil, fmt.Errorf("event at %d: metadata: %w", position, err)
		}
		r.Position = domain.Position{Seq: uint64(position)}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Wait implements projections.Log. Appends through this Store wake it at
// once; appends by another process on the same file are seen by polling the
// head of the log every poll interval. It returns after about a second
// anyway.
func (s *Store) Wait(ctx context.Context, after domain.Position) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Take the channel before reading the head: a commit after the read
	// closes this very channel.
	wake := s.wakeChan()
	if ahead, err := s.ahead(ctx, after); ahead || err != nil {
		return err
	}
	timeout, stopTimeout := s.cfg.timer(maxWait)
	defer stopTimeout()
	var stopPoll func() bool
	defer func() { stopPoll() }()
	for {
		var poll <-chan time.Time
		poll, stopPoll = s.cfg.timer(s.cfg.poll)
		select {
		case <-wake:
			return nil
		case <-timeout:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-poll:
			if ahead, err := s.ahead(ctx, after); ahead || err != nil {
				return err
			}
		}
	}
}

// ahead reports whether the log holds an event after `after`.
func (s *Store) ahead(ctx context.Context, after domain.Position) (bool, error) {
	var head int64
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&head); err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("wait after %v: %w", after, err)
	}
	return after.Less(domain.Position{Seq: uint64(head)}), nil
}

// clamp fits a uint64 into SQLite's signed integers.
func clamp(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// storedMetadata encodes e's metadata as the log stores it (and its hash
// covers): stamped now when it has no time, in UTC, to the microsecond, as
// it reads back.
func storedMetadata(e domain.Envelope, now time.Time) ([]byte, error) {
	md := e.Metadata
	if md.Time.IsZero() {
		md.Time = now
	}
	md.Time = md.Time.UTC().Truncate(time.Microsecond)
	meta, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("encode metadata of %s: %w", e.ID, err)
	}
	return meta, nil
}
