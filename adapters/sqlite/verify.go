package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Seal seals every event not sealed yet: it appends to the seals table one
// seal over the events after the last seal, in position order (see
// projections.SealHash and migrations/sqlite/0002_seals.sql). It returns
// the seal, or ok false when there was nothing new to seal. It runs under
// the writer lock, so no append interleaves.
//
// Seal does not check what it seals: `ledger verify --seal` runs Verify
// first and seals only an intact log; a server sealing on a schedule keeps
// the window in which a whole stream could vanish unnoticed short.
func (s *Store) Seal(ctx context.Context) (seal projections.Seal, ok bool, err error) {
	if err := s.lock(ctx); err != nil {
		return seal, false, fmt.Errorf("seal: %w", err)
	}
	defer s.unlock()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			prev projections.Seal
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
		h := projections.NewSealHash(prev.Hash, prev.Seq+1)
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
		seal = projections.Seal{
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
		return projections.Seal{}, false, fmt.Errorf("seal: %w", err)
	}
	return seal, ok, nil
}

// Verify checks the stored history for tampering: every stream's hash
// chain in version order and its row in streams, then every seal against
// the events it covers, all in one read transaction (one snapshot). A
// tampered log is not an error: the report names what it found. The error
// is for failing to read.
func (s *Store) Verify(ctx context.Context) (projections.VerifyReport, error) {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return projections.VerifyReport{}, fmt.Errorf("verify: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // read only: nothing to keep
	v := projections.NewVerifier()
	if err := verifyStreams(ctx, tx, v); err != nil {
		return projections.VerifyReport{}, fmt.Errorf("verify streams: %w", err)
	}
	if err := verifySeals(ctx, tx, v); err != nil {
		return projections.VerifyReport{}, fmt.Errorf("verify seals: %w", err)
	}
	return v.Report(), nil
}

func verifyStreams(ctx context.Context, tx *sql.Tx, v *projections.Verifier) error {
	heads := map[string]projections.StreamHead{}
	rows, err := tx.QueryContext(ctx, `SELECT stream, version, hash FROM streams`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			name string
			h    projections.StreamHead
		)
		if err := rows.Scan(&name, &h.Version, &h.Hash); err != nil {
			rows.Close()
			return err
		}
		heads[name] = h
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = tx.QueryContext(ctx, `SELECT position, id, stream, version, type, data, metadata, hash FROM events ORDER BY stream, version`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		stream string
		evs    []projections.StoredEvent
	)
	flush := func() {
		if len(evs) == 0 {
			return
		}
		if h, ok := heads[stream]; ok {
			v.Stream(stream, evs, &h)
			delete(heads, stream)
		} else {
			v.Stream(stream, evs, nil)
		}
		evs = evs[:0]
	}
	for rows.Next() {
		var (
			e        projections.StoredEvent
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
		if e.Stream != stream {
			flush()
			stream = e.Stream
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	flush()
	for name, h := range heads {
		v.OrphanHead(name, h)
	}
	return nil
}

func verifySeals(ctx context.Context, tx *sql.Tx, v *projections.Verifier) error {
	var seals []projections.Seal
	rows, err := tx.QueryContext(ctx, `SELECT seq, up_to, count, hash, created_at FROM seals ORDER BY seq`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			sl      projections.Seal
			upTo    int64
			created string
		)
		if err := rows.Scan(&sl.Seq, &upTo, &sl.Count, &sl.Hash, &created); err != nil {
			rows.Close()
			return err
		}
		sl.UpTo = domain.Position{Seq: uint64(upTo)}
		sl.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		seals = append(seals, sl)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	v.Seals(seals)

	rows, err = tx.QueryContext(ctx, `SELECT position, hash FROM events ORDER BY position`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			position int64
			h        []byte
		)
		if err := rows.Scan(&position, &h); err != nil {
			return err
		}
		v.Global(domain.Position{Seq: uint64(position)}, h)
	}
	return rows.Err()
}
