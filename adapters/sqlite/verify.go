package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/tamper"
	"github.com/schoollife/ledger/domain"
)

// Seal seals every event not sealed yet: it appends to the seals table one
// seal over the events after the last seal, in position order (see
// tamper.SealHash and migrations/sqlite/0002_seals.sql). It returns
// the seal, or ok false when there was nothing new to seal. It runs under
// the writer lock, so no append interleaves.
//
// Seal does not check what it seals: `ledger verify --seal` runs Verify
// first and seals only an intact log; a server sealing on a schedule keeps
// the window in which a whole stream could vanish unnoticed short.
func (s *Store) Seal(ctx context.Context) (seal tamper.Seal, ok bool, err error) {
	if err := s.lock(ctx); err != nil {
		return seal, false, fmt.Errorf("seal: %w", err)
	}
	defer s.unlock()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			prev tamper.Seal
			upTo int64
		)
		err := tx.QueryRowContext(ctx, `SELECT seq, up_to, hash FROM seals ORDER BY seq DESC LIMIT 1`).Scan(&prev.Seq, &upTo, &prev.Hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT position, hash FROM events WHERE position > ? ORDER BY position`, upTo)
		if err != nil {
			return err
		}
		h := tamper.NewSealHash(prev.Hash, prev.Seq+1)
		var last int64
		for rows.Next() {
			var eh []byte
			if err := rows.Scan(&last, &eh); err != nil {
				rows.Close()
				return err
			}
			h.Add(domain.Position{Seq: uint64(last)}, eh)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if h.Count() == 0 {
			return nil
		}
		seal = tamper.Seal{
			Seq: prev.Seq + 1, UpTo: domain.Position{Seq: uint64(last)}, Count: h.Count(),
			CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
		}
		seal.Hash = h.Sum(seal.UpTo)
		ok = true
		_, err = tx.ExecContext(ctx, `INSERT INTO seals (seq, up_to, count, hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			seal.Seq, last, seal.Count, seal.Hash, seal.CreatedAt.Format(time.RFC3339Nano))
		return err
	})
	if err != nil {
		return tamper.Seal{}, false, fmt.Errorf("seal: %w", err)
	}
	return seal, ok, nil
}

// Verify checks the stored history for tampering (tamper.Check): every
// stream's hash chain in version order and its row in streams, then every
// seal against the events it covers, all in one read transaction (one
// snapshot). A tampered log is not an error: the report names what it
// found. The error is for failing to read.
func (s *Store) Verify(ctx context.Context) (tamper.VerifyReport, error) {
	return verifyDB(ctx, s.r)
}

// verifyDB is Verify on the database db reads (a store's read pool, or a
// copy Backup or Restore checks).
func verifyDB(ctx context.Context, db *sql.DB) (tamper.VerifyReport, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return tamper.VerifyReport{}, fmt.Errorf("verify: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // read only: nothing to keep
	report, err := tamper.Check(ctx, verifySource{tx})
	if err != nil {
		return tamper.VerifyReport{}, fmt.Errorf("verify: %w", err)
	}
	return report, nil
}

// verifySource reads the tables for tamper.Check in tx's snapshot.
type verifySource struct{ tx *sql.Tx }

var _ tamper.Source = verifySource{}

// each runs query and calls scan on each row.
func (src verifySource) each(ctx context.Context, query string, scan func(*sql.Rows) error) error {
	rows, err := src.tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

func (src verifySource) Heads(ctx context.Context, fn func(string, tamper.StreamHead) error) error {
	return src.each(ctx, `SELECT stream, version, hash FROM streams`, func(rows *sql.Rows) error {
		var (
			name string
			h    tamper.StreamHead
		)
		if err := rows.Scan(&name, &h.Version, &h.Hash); err != nil {
			return err
		}
		return fn(name, h)
	})
}

func (src verifySource) Events(ctx context.Context, fn func(tamper.StoredEvent) error) error {
	return src.each(ctx, `SELECT position, id, stream, version, type, data, metadata, hash FROM events ORDER BY stream, version`, func(rows *sql.Rows) error {
		var (
			e        tamper.StoredEvent
			position int64
			id       string
		)
		if err := rows.Scan(&position, &id, &e.Stream, &e.Version, &e.Type, &e.Data, &e.Metadata, &e.Hash); err != nil {
			return err
		}
		e.Position = domain.Position{Seq: uint64(position)}
		// An id edited into something that is not a uuid hashes as the nil
		// uuid: the chain then reports the event edited.
		e.ID, _ = uuid.Parse(id)
		return fn(e)
	})
}

func (src verifySource) Seals(ctx context.Context, fn func(tamper.Seal) error) error {
	return src.each(ctx, `SELECT seq, up_to, count, hash, created_at FROM seals ORDER BY seq`, func(rows *sql.Rows) error {
		var (
			sl      tamper.Seal
			upTo    int64
			created string
		)
		if err := rows.Scan(&sl.Seq, &upTo, &sl.Count, &sl.Hash, &created); err != nil {
			return err
		}
		sl.UpTo = domain.Position{Seq: uint64(upTo)}
		sl.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		return fn(sl)
	})
}

func (src verifySource) Log(ctx context.Context, fn func(domain.Position, []byte) error) error {
	return src.each(ctx, `SELECT position, hash FROM events ORDER BY position`, func(rows *sql.Rows) error {
		var (
			position int64
			h        []byte
		)
		if err := rows.Scan(&position, &h); err != nil {
			return err
		}
		return fn(domain.Position{Seq: uint64(position)}, h)
	})
}
