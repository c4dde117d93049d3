package subjectkeys

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schoollife/ledger/adapters/postgres"
)

// SQL is a Store on the subject_keys (person keys) and subject_key_scopes
// (scoped keys) tables of the event store's database (migrations
// 0300_subject_keys and 0310_subject_key_scopes, SQLite and Postgres). A destroyed key's
// row keeps the subject and the time of its destruction, its key set to
// NULL: on SQLite the store's writer runs with secure_delete, so that the
// old bytes are zeroed in the file (the write-ahead log keeps them until
// its next checkpoint: `ledger privacy erase` truncates it).
type SQL struct {
	read  *sql.DB
	write func(ctx context.Context, fn func(*sql.Tx) error) error
	now   func() time.Time
	close func() error
}

// NewSQLite returns a store on a SQLite database: read runs queries, write
// runs fn in a write transaction. With adapters/sqlite, pass the event
// store's DB and WithTx: the table is in the events' file and its writes
// are serialized with appends.
func NewSQLite(read *sql.DB, write func(ctx context.Context, fn func(*sql.Tx) error) error) *SQL {
	return &SQL{read: read, write: write, now: time.Now, close: func() error { return nil }}
}

// NewPostgres returns a store on pool, which it shares with the event
// store (adapters/postgres exposes Pool). Close leaves the pool open.
func NewPostgres(pool *pgxpool.Pool) *SQL {
	db, write := postgres.SQLDB(pool)
	return &SQL{read: db, write: write, now: time.Now, close: db.Close}
}

// Close releases what the store opened (not the pool or database it was
// given).
func (s *SQL) Close() error { return s.close() }

// Key implements Store.
func (s *SQL) Key(ctx context.Context, subject uuid.UUID) ([]byte, error) {
	key, found, err := s.get(ctx, s.read, subject)
	switch {
	case err != nil:
		return nil, err
	case found && key == nil:
		return nil, ErrDestroyed
	case found:
		return key, nil
	}
	fresh, err := newKey()
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Another node may have created it since: the first one stays.
		if _, err := tx.ExecContext(ctx, `INSERT INTO subject_keys (subject, key, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (subject) DO NOTHING`, subject.String(), fresh, s.now().UnixMilli()); err != nil {
			return err
		}
		key, found, err = s.get(ctx, tx, subject)
		return err
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("create the key of %s: %w", subject, err)
	case !found:
		return nil, fmt.Errorf("create the key of %s: not found after insert", subject)
	case key == nil:
		return nil, ErrDestroyed
	}
	return key, nil
}

// Lookup implements Store.
func (s *SQL) Lookup(ctx context.Context, subject uuid.UUID) ([]byte, bool, error) {
	key, _, err := s.get(ctx, s.read, subject)
	if err != nil {
		return nil, false, err
	}
	return key, key != nil, nil
}

// Destroy implements Store: the person key and every scoped key of
// subject, in one transaction.
func (s *SQL) Destroy(ctx context.Context, subject uuid.UUID) error {
	now := s.now().UnixMilli()
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subject_keys (subject, key, created_at, destroyed_at) VALUES ($1, NULL, $2, $2)
			ON CONFLICT (subject) DO UPDATE SET key = NULL,
				destroyed_at = COALESCE(subject_keys.destroyed_at, excluded.destroyed_at)`, subject.String(), now)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subject_key_scopes SET key = NULL, destroyed_at = $2
			WHERE subject = $1 AND key IS NOT NULL`, subject.String(), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("destroy the key of %s: %w", subject, err)
	}
	return nil
}

// Destroyed returns when the key of subject was destroyed, false when it
// was not.
func (s *SQL) Destroyed(ctx context.Context, subject uuid.UUID) (time.Time, bool, error) {
	var at sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT destroyed_at FROM subject_keys WHERE subject = $1`, subject.String()).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("read the key of %s: %w", subject, err)
	}
	return time.UnixMilli(at.Int64).UTC(), at.Valid, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// get reads the row of subject: its key (nil once destroyed) and whether
// there is one.
func (s *SQL) get(ctx context.Context, q querier, subject uuid.UUID) ([]byte, bool, error) {
	var key []byte
	err := q.QueryRowContext(ctx, `SELECT key FROM subject_keys WHERE subject = $1`, subject.String()).Scan(&key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read the key of %s: %w", subject, err)
	}
	if key != nil && len(key) != KeySize {
		return nil, false, fmt.Errorf("read the key of %s: %d bytes, want %d", subject, len(key), KeySize)
	}
	return key, true, nil
}

// keysChunk bounds the subjects of one statement of Keys.
const keysChunk = 500

// Keys returns the keys of subjects, creating those they lack, in one
// transaction and a few multi-row statements: what an import that opens
// thousands of accounts needs instead of one transaction per key. A
// subject whose key was destroyed is left out of the result.
func (s *SQL) Keys(ctx context.Context, subjects []uuid.UUID) (map[uuid.UUID][]byte, error) {
	out := make(map[uuid.UUID][]byte, len(subjects))
	err := s.write(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(subjects); start += keysChunk {
			chunk := subjects[start:min(start+keysChunk, len(subjects))]
			now := s.now().UnixMilli()
			var ins strings.Builder
			ins.WriteString(`INSERT INTO subject_keys (subject, key, created_at) VALUES `)
			args := make([]any, 0, 3*len(chunk))
			for i, subject := range chunk {
				key, err := newKey()
				if err != nil {
					return err
				}
				if i > 0 {
					ins.WriteString(", ")
				}
				fmt.Fprintf(&ins, "($%d, $%d, $%d)", 3*i+1, 3*i+2, 3*i+3)
				args = append(args, subject.String(), key, now)
			}
			// Keys created before, by this node or another, stay.
			ins.WriteString(" ON CONFLICT (subject) DO NOTHING")
			if _, err := tx.ExecContext(ctx, ins.String(), args...); err != nil {
				return err
			}
			var sel strings.Builder
			sel.WriteString(`SELECT subject, key FROM subject_keys WHERE subject IN (`)
			ids := make([]any, len(chunk))
			for i, subject := range chunk {
				if i > 0 {
					sel.WriteString(", ")
				}
				fmt.Fprintf(&sel, "$%d", i+1)
				ids[i] = subject.String()
			}
			sel.WriteString(")")
			rows, err := tx.QueryContext(ctx, sel.String(), ids...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				var key []byte
				if err := rows.Scan(&id, &key); err != nil {
					return errors.Join(err, rows.Close())
				}
				u, err := uuid.Parse(id)
				if err != nil {
					return errors.Join(err, rows.Close())
				}
				if key != nil {
					out[u] = key
				}
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create the keys of %d subjects: %w", len(subjects), err)
	}
	return out, nil
}

var _ Store = (*SQL)(nil)

// ScopedKey implements Store.
func (s *SQL) ScopedKey(ctx context.Context, ref Ref) ([]byte, error) {
	_, key, found, err := s.getScoped(ctx, s.read, ref.ID)
	switch {
	case err != nil:
		return nil, err
	case found && key == nil:
		return nil, ErrDestroyed
	case found:
		return key, nil
	}
	fresh, err := newKey()
	if err != nil {
		return nil, err
	}
	erased := false
	err = s.write(ctx, func(tx *sql.Tx) error {
		// The person's own row, created with their key when they have
		// none, is locked until this transaction ends: an erasure (Destroy
		// writes that row first) waits for it, then destroys the key
		// created here; or it went first, and its destruction is read here.
		own, err := newKey()
		if err != nil {
			return err
		}
		var at sql.NullInt64
		err = tx.QueryRowContext(ctx, `INSERT INTO subject_keys (subject, key, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (subject) DO UPDATE SET subject = excluded.subject
			RETURNING destroyed_at`, ref.Subject.String(), own, s.now().UnixMilli()).Scan(&at)
		switch {
		case err != nil:
			return err
		case at.Valid:
			erased = true
			return nil
		}
		sc := ref.Scope
		record := ""
		if sc.Record != uuid.Nil {
			record = sc.Record.String()
		}
		// Another node may have created it since: the first one stays.
		if _, err := tx.ExecContext(ctx, `INSERT INTO subject_key_scopes
			(id, subject, scope, category, establishment, period, record, key, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			ref.ID.String(), ref.Subject.String(), string(sc.Kind), sc.Category, sc.Establishment, sc.Period, record,
			fresh, s.now().UnixMilli()); err != nil {
			return err
		}
		_, key, found, err = s.getScoped(ctx, tx, ref.ID)
		return err
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("create the key %s of %s: %w", ref.ID, ref.Subject, err)
	case erased:
		return nil, ErrDestroyed
	case !found:
		return nil, fmt.Errorf("create the key %s of %s: not found after insert", ref.ID, ref.Subject)
	case key == nil:
		return nil, ErrDestroyed
	}
	return key, nil
}

// LookupScoped implements Store.
func (s *SQL) LookupScoped(ctx context.Context, id uuid.UUID) (Ref, []byte, bool, error) {
	ref, key, _, err := s.getScoped(ctx, s.read, id)
	if err != nil {
		return Ref{}, nil, false, err
	}
	return ref, key, key != nil, nil
}

// DestroyScoped implements Store.
func (s *SQL) DestroyScoped(ctx context.Context, ref Ref) error {
	now := s.now().UnixMilli()
	sc := ref.Scope
	record := ""
	if sc.Record != uuid.Nil {
		record = sc.Record.String()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subject_key_scopes
			(id, subject, scope, category, establishment, period, record, key, created_at, destroyed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $8)
			ON CONFLICT (id) DO UPDATE SET key = NULL,
				destroyed_at = COALESCE(subject_key_scopes.destroyed_at, excluded.destroyed_at)`,
			ref.ID.String(), ref.Subject.String(), string(sc.Kind), sc.Category, sc.Establishment, sc.Period, record, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("destroy the key %s of %s: %w", ref.ID, ref.Subject, err)
	}
	return nil
}

// LivePeriods implements Store.
func (s *SQL) LivePeriods(ctx context.Context) ([]PeriodKeys, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT establishment, category, period, count(*) FROM subject_key_scopes
		WHERE scope = 'category' AND key IS NOT NULL
		GROUP BY establishment, category, period ORDER BY establishment, category, period`)
	if err != nil {
		return nil, fmt.Errorf("count the live keys: %w", err)
	}
	var out []PeriodKeys
	for rows.Next() {
		var p PeriodKeys
		if err := rows.Scan(&p.Establishment, &p.Category, &p.Period, &p.Keys); err != nil {
			return nil, errors.Join(err, rows.Close())
		}
		out = append(out, p)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("count the live keys: %w", err)
	}
	return out, nil
}

// DestroyPeriod implements Store.
func (s *SQL) DestroyPeriod(ctx context.Context, p PeriodKeys) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subject_key_scopes SET key = NULL, destroyed_at = $4
			WHERE scope = 'category' AND establishment = $1 AND category = $2 AND period = $3 AND key IS NOT NULL`,
			p.Establishment, p.Category, p.Period, s.now().UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("destroy the %s keys of %s for %s: %w", p.Category, p.Establishment, p.Period, err)
	}
	return int(n), nil
}

// getScoped reads the row of a scoped key: what it covers, its key (nil
// once destroyed) and whether there is one.
func (s *SQL) getScoped(ctx context.Context, q querier, id uuid.UUID) (Ref, []byte, bool, error) {
	var subject, kind, record string
	var ref Ref
	var key []byte
	err := q.QueryRowContext(ctx, `SELECT subject, scope, category, establishment, period, record, key
		FROM subject_key_scopes WHERE id = $1`, id.String()).
		Scan(&subject, &kind, &ref.Scope.Category, &ref.Scope.Establishment, &ref.Scope.Period, &record, &key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Ref{}, nil, false, nil
	case err != nil:
		return Ref{}, nil, false, fmt.Errorf("read the key %s: %w", id, err)
	}
	if key != nil && len(key) != KeySize {
		return Ref{}, nil, false, fmt.Errorf("read the key %s: %d bytes, want %d", id, len(key), KeySize)
	}
	ref.ID, ref.Scope.Kind = id, ScopeKind(kind)
	if ref.Subject, err = uuid.Parse(subject); err != nil {
		return Ref{}, nil, false, fmt.Errorf("read the key %s: subject: %w", id, err)
	}
	if record != "" {
		if ref.Scope.Record, err = uuid.Parse(record); err != nil {
			return Ref{}, nil, false, fmt.Errorf("read the key %s: record: %w", id, err)
		}
	}
	return ref, key, true, nil
}
