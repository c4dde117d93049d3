package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Rows per multi-row statement of AppendBatch: 8 parameters an event, far
// below SQLite's limit of 32,766 parameters.
const (
	batchLookup = 500 // ids or stream names per lookup
	batchEvents = 256 // events per insert
	batchHeads  = 500 // heads per upsert
)

// AppendBatch appends many streams' events in one write transaction, all
// or nothing: the directory import writes thousands of appends at once
// this way. Each append is checked as Append checks it, in order, against
// the heads as the appends before it left them (expected version, a retry
// of events already stored, an event id stored elsewhere); if one fails,
// none is stored and its error is returned. The heads and the ids are
// read by a few multi-row lookups, the events inserted with their chain
// hashes and the heads moved by multi-row statements, and the waiters
// woken once. It returns each append's result.
func (s *Store) AppendBatch(ctx context.Context, appends []commands.StreamAppend) ([]domain.AppendResult, error) {
	if len(appends) == 0 {
		return nil, nil
	}
	for i, a := range appends {
		if err := checkAppend(a.Stream, a.Events); err != nil {
			return nil, batchError(i, err)
		}
	}
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("append a batch: %w", err)
	}
	defer s.unlock()
	var out []domain.AppendResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = appendBatch(ctx, tx, appends)
		return err
	})
	if err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			return nil, err
		}
		return nil, fmt.Errorf("append a batch: %w", Classify(mapConstraint(err, appends[0].Stream)))
	}
	s.broadcast()
	return out, nil
}

// batchError names the append of a batch that failed a check.
func batchError(i int, err error) error {
	return fmt.Errorf("append %d of the batch: %w", i, err)
}

// batchHead is a stream's head during a batch.
type batchHead struct {
	version uint64
	hash    []byte
	moved   bool
}

// batchRow is an event a batch inserts.
type batchRow struct {
	uid                 uuid.UUID
	id                  string
	stream              string
	version             uint64
	typ, data, meta, at string
	hash                []byte
}

// appendBatch runs AppendBatch's checks and writes in tx.
func appendBatch(ctx context.Context, tx *sql.Tx, appends []commands.StreamAppend) ([]domain.AppendResult, error) {
	var (
		names []string
		ids   []string
	)
	heads := make(map[string]*batchHead)
	for _, a := range appends {
		if heads[a.Stream] == nil {
			heads[a.Stream] = &batchHead{}
			names = append(names, a.Stream)
		}
		for _, e := range a.Events {
			ids = append(ids, e.ID.String())
		}
	}
	if err := lookup(ctx, tx, `SELECT stream, version, hash FROM streams WHERE stream IN `, names, func(rows *sql.Rows) error {
		var (
			name string
			h    batchHead
		)
		if err := rows.Scan(&name, &h.version, &h.hash); err != nil {
			return err
		}
		*heads[name] = h
		return nil
	}); err != nil {
		return nil, err
	}
	// stored holds the events already in the log, then those the batch
	// inserts (position -1 until they are).
	byID := make(map[uuid.UUID]stored)
	if err := lookup(ctx, tx, `SELECT id, stream, version, position FROM events WHERE id IN `, ids, func(rows *sql.Rows) error {
		var (
			id string
			sd stored
		)
		if err := rows.Scan(&id, &sd.stream, &sd.version, &sd.position); err != nil {
			return err
		}
		u, err := uuid.Parse(id)
		if err != nil {
			return fmt.Errorf("event id %q: %w", id, err)
		}
		byID[u] = sd
		return nil
	}); err != nil {
		return nil, err
	}

	now := time.Now().UTC()
	recordedAt := now.Format(time.RFC3339Nano)
	out := make([]domain.AppendResult, len(appends))
	last := make([]uuid.UUID, len(appends)) // each append's last event
	var rows []batchRow
	for i, a := range appends {
		last[i] = a.Events[len(a.Events)-1].ID
		h := heads[a.Stream]
		res, replayed, err := replayedIn(a.Stream, a.Events, byID)
		if err != nil {
			return nil, batchError(i, err)
		}
		if replayed {
			out[i] = res
			continue
		}
		if !a.Expected.Matches(h.version) {
			return nil, batchError(i, domain.Errorf(domain.ErrVersionConflict, "%s: expected %s, at %d", a.Stream, a.Expected, h.version))
		}
		for _, e := range a.Events {
			if at, dup := byID[e.ID]; dup {
				return nil, batchError(i, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: event %s is in %s", a.Stream, e.ID, at.stream))
			}
		}
		for _, e := range a.Events {
			h.version++
			meta, err := storedMetadata(e, now)
			if err != nil {
				return nil, err
			}
			hash := domain.ChainHash(h.hash, e.ID, a.Stream, h.version, e.Type, e.Data, meta)
			h.hash, h.moved = hash, true
			rows = append(rows, batchRow{uid: e.ID, id: e.ID.String(), stream: a.Stream, version: h.version, typ: e.Type,
				data: string(e.Data), meta: string(meta), at: recordedAt, hash: hash})
			byID[e.ID] = stored{stream: a.Stream, version: h.version, position: -1}
		}
		out[i].Version = h.version
	}
	if err := insertRows(ctx, tx, rows, byID); err != nil {
		return nil, err
	}
	if err := moveHeads(ctx, tx, names, heads); err != nil {
		return nil, err
	}
	for i := range out {
		sd := byID[last[i]]
		if sd.position < 0 {
			return nil, fmt.Errorf("event %s: no position after the insert", last[i])
		}
		out[i].Version, out[i].Position = sd.version, domain.Position{Seq: uint64(sd.position)}
	}
	return out, nil
}

// replayedIn reports whether events are stored (or inserted earlier in the
// batch) contiguously and in order in stream: a retry of that append. Any
// other overlap is a duplicate. The position is filled in by the caller.
func replayedIn(stream string, events []domain.Envelope, byID map[uuid.UUID]stored) (domain.AppendResult, bool, error) {
	first, ok := byID[events[0].ID]
	if !ok {
		return domain.AppendResult{}, false, nil
	}
	if first.stream != stream {
		return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: event %s is in %s", stream, events[0].ID, first.stream)
	}
	for i, e := range events {
		at, ok := byID[e.ID]
		if !ok || at.stream != stream || at.version != first.version+uint64(i) {
			return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: events partly stored already", stream)
		}
	}
	return domain.AppendResult{}, true, nil
}

// lookup runs query (ending in "IN ") over keys, batchLookup at a time.
func lookup(ctx context.Context, tx *sql.Tx, query string, keys []string, scan func(*sql.Rows) error) error {
	for len(keys) > 0 {
		n := min(len(keys), batchLookup)
		args := make([]any, n)
		for i, k := range keys[:n] {
			args[i] = k
		}
		rows, err := tx.QueryContext(ctx, query+"("+placeholders(n, 1)+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// insertRows inserts rows, batchEvents a statement, and records their
// positions in byID. The writer is held and the rows of one statement take
// consecutive positions (AUTOINCREMENT, one writer), so the last inserted
// position gives every row's.
func insertRows(ctx context.Context, tx *sql.Tx, rows []batchRow, byID map[uuid.UUID]stored) error {
	const insert = `INSERT INTO events (id, stream, version, type, data, metadata, recorded_at, hash) VALUES `
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for len(rows) > 0 {
		n := min(len(rows), batchEvents)
		args := make([]any, 0, 8*n)
		for _, r := range rows[:n] {
			args = append(args, r.id, r.stream, r.version, r.typ, r.data, r.meta, r.at, r.hash)
		}
		var (
			res sql.Result
			err error
		)
		if n == batchEvents {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insert+placeholders(n, 8)); err != nil {
					return err
				}
			}
			res, err = full.ExecContext(ctx, args...)
		} else {
			res, err = tx.ExecContext(ctx, insert+placeholders(n, 8), args...)
		}
		if err != nil {
			return err
		}
		lastPos, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for j, r := range rows[:n] {
			sd := byID[r.uid]
			sd.position = lastPos - int64(n-1-j)
			byID[r.uid] = sd
		}
		rows = rows[n:]
	}
	return nil
}

// moveHeads writes the heads the batch moved, batchHeads a statement.
func moveHeads(ctx context.Context, tx *sql.Tx, names []string, heads map[string]*batchHead) error {
	var moved []string
	for _, name := range names {
		if heads[name].moved {
			moved = append(moved, name)
		}
	}
	for len(moved) > 0 {
		n := min(len(moved), batchHeads)
		args := make([]any, 0, 3*n)
		for _, name := range moved[:n] {
			h := heads[name]
			args = append(args, name, h.version, h.hash)
		}
		q := `INSERT INTO streams (stream, version, hash) VALUES ` + placeholders(n, 3) +
			` ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		moved = moved[n:]
	}
	return nil
}

// placeholders returns n groups of cols parameters: "(?, ?), (?, ?)", or
// "?, ?" when cols is 1.
func placeholders(n, cols int) string {
	one := strings.TrimSuffix(strings.Repeat("?, ", cols), ", ")
	if cols == 1 {
		return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
	}
	return strings.TrimSuffix(strings.Repeat("("+one+"), ", n), ", ")
}
