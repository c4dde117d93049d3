package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/adapters/tamper"
	"github.com/schoollife/ledger/domain"
)

// sealLock is the advisory lock key (per database) that serializes Seal
// across processes, so that two sealers never number a seal twice.
const sealLock int64 = 0x6c65646765720002 // "ledger", 2

// Seal seals every event not sealed yet: it appends to the seals table one
// seal over the events after the last seal, in global (tx_id, seq) order
// (see tamper.SealHash and migrations/postgres/0002_seals.sql). Like
// ReadAll it only takes events of transactions older than every running
// one, so no event can later commit inside a sealed range. It returns the
// seal, or ok false when there was nothing new to seal.
//
// Seal does not check what it seals: `ledger verify --seal` runs Verify
// first and seals only an intact log; a server sealing on a schedule keeps
// the window in which a whole stream could vanish unnoticed short.
func (s *Store) Seal(ctx context.Context) (seal tamper.Seal, ok bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, sealLock); err != nil {
			return err
		}
		var (
			prev   tamper.Seal
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
		h := tamper.NewSealHash(prev.Hash, prev.Seq+1)
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
		seal = tamper.Seal{Seq: prev.Seq + 1, UpTo: last, Count: h.Count()}
		seal.Hash = h.Sum(last)
		ok = true
		return tx.QueryRow(ctx, `INSERT INTO seals (seq, up_to_tx, up_to_seq, count, hash) VALUES ($1, $2::text::xid8, $3, $4, $5) RETURNING created_at`,
			seal.Seq, strconv.FormatUint(last.Tx, 10), last.Seq, seal.Count, seal.Hash).Scan(&seal.CreatedAt)
	})
	if err != nil {
		return tamper.Seal{}, false, fmt.Errorf("seal: %w", err)
	}
	return seal, ok, nil
}

// Verify checks the stored history for tampering (tamper.Check): every
// stream's hash chain in version order and its row in streams, then every
// seal against the events it covers, all in one repeatable-read
// transaction (one snapshot). A tampered log is not an error: the report
// names what it found. The error is for failing to read, and
// ErrAheadOfServer for a log restored where no reader can read it.
func (s *Store) Verify(ctx context.Context) (tamper.VerifyReport, error) {
	var report tamper.VerifyReport
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := checkPositions(ctx, tx); err != nil {
			return err
		}
		var err error
		report, err = tamper.Check(ctx, verifySource{tx})
		return err
	})
	if err != nil {
		return tamper.VerifyReport{}, fmt.Errorf("verify: %w", err)
	}
	return report, nil
}

// verifySource reads the tables for tamper.Check in tx's snapshot.
type verifySource struct{ tx pgx.Tx }

var _ tamper.Source = verifySource{}

// each runs query and calls scan on each row.
func (src verifySource) each(ctx context.Context, query string, scan func(pgx.Rows) error) error {
	rows, err := src.tx.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (src verifySource) Heads(ctx context.Context, fn func(string, tamper.StreamHead) error) error {
	return src.each(ctx, `SELECT stream, version, hash FROM streams`, func(rows pgx.Rows) error {
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

// Events reads data and metadata, which are json, as ::text: it gives back
// the exact bytes stored, which the chain hashed.
func (src verifySource) Events(ctx context.Context, fn func(tamper.StoredEvent) error) error {
	return src.each(ctx, `SELECT tx_id::text AS tx_text, seq, id, stream, version, type, data::text, metadata::text, hash
FROM events ORDER BY events.stream, events.version`, func(rows pgx.Rows) error {
		var (
			e          tamper.StoredEvent
			txt        string
			data, meta string
			err        error
		)
		if err := rows.Scan(&txt, &e.Position.Seq, &e.ID, &e.Stream, &e.Version, &e.Type, &data, &meta, &e.Hash); err != nil {
			return err
		}
		if e.Position.Tx, err = strconv.ParseUint(txt, 10, 64); err != nil {
			return fmt.Errorf("tx_id %q: %w", txt, err)
		}
		e.Data, e.Metadata = []byte(data), []byte(meta)
		return fn(e)
	})
}

func (src verifySource) Seals(ctx context.Context, fn func(tamper.Seal) error) error {
	return src.each(ctx, `SELECT seq, up_to_tx::text AS up_text, up_to_seq, count, hash, created_at FROM seals ORDER BY seals.seq`, func(rows pgx.Rows) error {
		var (
			sl  tamper.Seal
			txt string
			err error
		)
		if err := rows.Scan(&sl.Seq, &txt, &sl.UpTo.Seq, &sl.Count, &sl.Hash, &sl.CreatedAt); err != nil {
			return err
		}
		if sl.UpTo.Tx, err = strconv.ParseUint(txt, 10, 64); err != nil {
			return fmt.Errorf("seal %d: up_to_tx %q: %w", sl.Seq, txt, err)
		}
		return fn(sl)
	})
}

func (src verifySource) Log(ctx context.Context, fn func(domain.Position, []byte) error) error {
	return src.each(ctx, `SELECT tx_id::text AS tx_text, seq, hash FROM events ORDER BY events.tx_id, events.seq`, func(rows pgx.Rows) error {
		var (
			pos domain.Position
			txt string
			h   []byte
			err error
		)
		if err := rows.Scan(&txt, &pos.Seq, &h); err != nil {
			return err
		}
		if pos.Tx, err = strconv.ParseUint(txt, 10, 64); err != nil {
			return fmt.Errorf("tx_id %q: %w", txt, err)
		}
		return fn(pos, h)
	})
}
