package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// sealLock is the advisory lock key (per database) that serializes Seal
// across processes, so that two sealers never number a seal twice.
const sealLock int64 = 0x6c65646765720002 // "ledger", 2

// Seal seals every event not sealed yet: it appends to the seals table one
// seal over the events after the last seal, in global (tx_id, seq) order
// (see projections.SealHash and migrations/postgres/0002_seals.sql). Like
// ReadAll it only takes events of transactions older than every running
// one, so no event can later commit inside a sealed range. It returns the
// seal, or ok false when there was nothing new to seal.
//
// Seal does not check what it seals: `ledger verify --seal` runs Verify
// first and seals only an intact log; a server sealing on a schedule keeps
// the window in which a whole stream could vanish unnoticed short.
func (s *Store) Seal(ctx context.Context) (seal projections.Seal, ok bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, sealLock); err != nil {
			return err
		}
		var (
			prev   projections.Seal
			upText = "0"
		)
		err := tx.QueryRow(ctx, `SELECT seq, up_to_tx::text, up_to_seq, hash FROM seals ORDER BY seq DESC LIMIT 1`).
			Scan(&prev.Seq, &upText, &prev.UpTo.Seq, &prev.Hash)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT tx_id::text AS tx_text, seq, hash FROM events
WHERE (tx_id, seq) > ($1::text::xid8, $2)
  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY events.tx_id, events.seq`, upText, prev.UpTo.Seq)
		if err != nil {
			return err
		}
		h := projections.NewSealHash(prev.Hash, prev.Seq+1)
		var last domain.Position
		for rows.Next() {
			var (
				txt string
				eh  []byte
			)
			if err := rows.Scan(&txt, &last.Seq, &eh); err != nil {
				rows.Close()
				return err
			}
			if last.Tx, err = strconv.ParseUint(txt, 10, 64); err != nil {
				rows.Close()
				return fmt.Errorf("tx_id %q: %w", txt, err)
			}
			h.Add(last, eh)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if h.Count() == 0 {
			return nil
		}
		seal = projections.Seal{Seq: prev.Seq + 1, UpTo: last, Count: h.Count()}
		seal.Hash = h.Sum(last)
		ok = true
		return tx.QueryRow(ctx, `INSERT INTO seals (seq, up_to_tx, up_to_seq, count, hash) VALUES ($1, $2::text::xid8, $3, $4, $5) RETURNING created_at`,
			seal.Seq, strconv.FormatUint(last.Tx, 10), last.Seq, seal.Count, seal.Hash).Scan(&seal.CreatedAt)
	})
	if err != nil {
		return projections.Seal{}, false, fmt.Errorf("seal: %w", err)
	}
	return seal, ok, nil
}

// Verify checks the stored history for tampering: every stream's hash
// chain in version order and its row in streams, then every seal against
// the events it covers, all in one repeatable-read transaction (one
// snapshot). A tampered log is not an error: the report names what it
// found. The error is for failing to read.
func (s *Store) Verify(ctx context.Context) (projections.VerifyReport, error) {
	var report projections.VerifyReport
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		v := projections.NewVerifier()
		if err := verifyStreams(ctx, tx, v); err != nil {
			return fmt.Errorf("streams: %w", err)
		}
		if err := verifySeals(ctx, tx, v); err != nil {
			return fmt.Errorf("seals: %w", err)
		}
		report = v.Report()
		return nil
	})
	if err != nil {
		return projections.VerifyReport{}, fmt.Errorf("verify: %w", err)
	}
	return report, nil
}

func verifyStreams(ctx context.Context, tx pgx.Tx, v *projections.Verifier) error {
	heads := map[string]projections.StreamHead{}
	rows, err := tx.Query(ctx, `SELECT stream, version, hash FROM streams`)
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
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	// data and metadata are json: ::text gives back the exact bytes stored,
	// which the chain hashed.
	rows, err = tx.Query(ctx, `SELECT tx_id::text AS tx_text, seq, id, stream, version, type, data::text, metadata::text, hash
FROM events ORDER BY events.stream, events.version`)
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
			e          projections.StoredEvent
			txt        string
			data, meta string
		)
		if err := rows.Scan(&txt, &e.Position.Seq, &e.ID, &e.Stream, &e.Version, &e.Type, &data, &meta, &e.Hash); err != nil {
			return err
		}
		if e.Position.Tx, err = strconv.ParseUint(txt, 10, 64); err != nil {
			return fmt.Errorf("tx_id %q: %w", txt, err)
		}
		e.Data, e.Metadata = []byte(data), []byte(meta)
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

func verifySeals(ctx context.Context, tx pgx.Tx, v *projections.Verifier) error {
	var seals []projections.Seal
	rows, err := tx.Query(ctx, `SELECT seq, up_to_tx::text AS up_text, up_to_seq, count, hash, created_at FROM seals ORDER BY seals.seq`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			sl  projections.Seal
			txt string
		)
		if err := rows.Scan(&sl.Seq, &txt, &sl.UpTo.Seq, &sl.Count, &sl.Hash, &sl.CreatedAt); err != nil {
			rows.Close()
			return err
		}
		if sl.UpTo.Tx, err = strconv.ParseUint(txt, 10, 64); err != nil {
			rows.Close()
			return fmt.Errorf("seal %d: up_to_tx %q: %w", sl.Seq, txt, err)
		}
		seals = append(seals, sl)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	v.Seals(seals)

	rows, err = tx.Query(ctx, `SELECT tx_id::text AS tx_text, seq, hash FROM events ORDER BY events.tx_id, events.seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			pos domain.Position
			txt string
			h   []byte
		)
		if err := rows.Scan(&txt, &pos.Seq, &h); err != nil {
			return err
		}
		if pos.Tx, err = strconv.ParseUint(txt, 10, 64); err != nil {
			return fmt.Errorf("tx_id %q: %w", txt, err)
		}
		v.Global(pos, h)
	}
	return rows.Err()
}
