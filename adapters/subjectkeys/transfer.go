package subjectkeys

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Row is a row of the subject_keys table as a re-sealed copy carries it
// from one store to another: a destroyed key travels as its destruction
// (Key nil, DestroyedAt set), so that the person stays erased.
type Row struct {
	Subject   uuid.UUID
	Key       []byte
	CreatedAt int64 // Unix milliseconds
	// DestroyedAt is 0 while the key lives.
	DestroyedAt int64
}

// Rows calls fn with every row of the table, in subject order.
func (s *SQL) Rows(ctx context.Context, fn func(Row) error) error {
	rows, err := s.read.QueryContext(ctx, `SELECT subject, key, created_at, destroyed_at FROM subject_keys ORDER BY subject`)
	if err != nil {
		return fmt.Errorf("read the subjects' keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id        string
			r         Row
			destroyed sql.NullInt64
		)
		if err := rows.Scan(&id, &r.Key, &r.CreatedAt, &destroyed); err != nil {
			return fmt.Errorf("read the subjects' keys: %w", err)
		}
		if r.Subject, err = uuid.Parse(id); err != nil {
			return fmt.Errorf("read the subjects' keys: subject %q: %w", id, err)
		}
		if r.Key != nil && len(r.Key) != KeySize {
			return fmt.Errorf("read the key of %s: %d bytes, want %d", r.Subject, len(r.Key), KeySize)
		}
		r.DestroyedAt = destroyed.Int64
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the subjects' keys: %w", err)
	}
	return nil
}

// Put stores rows in one transaction. A subject that has a row already
// keeps its key, unless the row put is a destruction: a destroyed key
// stays destroyed wherever it is copied.
func (s *SQL) Put(ctx context.Context, rows []Row) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(rows); start += keysChunk {
			chunk := rows[start:min(start+keysChunk, len(rows))]
			var q strings.Builder
			q.WriteString(`INSERT INTO subject_keys (subject, key, created_at, destroyed_at) VALUES `)
			args := make([]any, 0, 4*len(chunk))
			for i, r := range chunk {
				if (r.Key == nil) != (r.DestroyedAt != 0) {
					return fmt.Errorf("key of %s: a key, or its destruction", r.Subject)
				}
				if i > 0 {
					q.WriteString(", ")
				}
				fmt.Fprintf(&q, "($%d, $%d, $%d, $%d)", 4*i+1, 4*i+2, 4*i+3, 4*i+4)
				var destroyed any
				if r.DestroyedAt != 0 {
					destroyed = r.DestroyedAt
				}
				args = append(args, r.Subject.String(), r.Key, r.CreatedAt, destroyed)
			}
			q.WriteString(` ON CONFLICT (subject) DO UPDATE SET
				key = CASE WHEN excluded.key IS NULL THEN NULL ELSE subject_keys.key END,
				destroyed_at = CASE WHEN excluded.key IS NULL THEN COALESCE(subject_keys.destroyed_at, excluded.destroyed_at) ELSE subject_keys.destroyed_at END`)
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %d subjects' keys: %w", len(rows), err)
	}
	return nil
}

// ScopedRow is a row of the subject_key_scopes table (keys of a category
// and period, or of a record) as a re-sealed copy carries it: a destroyed
// key travels as its destruction.
type ScopedRow struct {
	ID, Subject uuid.UUID
	// Scope is "category" or "record"; Category, Establishment, Period
	// and Record say which (empty when not of the scope).
	Scope, Category, Establishment, Period, Record string
	Key                                            []byte
	CreatedAt                                      int64 // Unix milliseconds
	// DestroyedAt is 0 while the key lives.
	DestroyedAt int64
}

// ScopedRows calls fn with every scoped key's row, in id order.
func (s *SQL) ScopedRows(ctx context.Context, fn func(ScopedRow) error) error {
	rows, err := s.read.QueryContext(ctx, `SELECT id, subject, scope, category, establishment, period, record, key, created_at, destroyed_at
		FROM subject_key_scopes ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read the scoped keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, subject string
			r           ScopedRow
			destroyed   sql.NullInt64
		)
		if err := rows.Scan(&id, &subject, &r.Scope, &r.Category, &r.Establishment, &r.Period, &r.Record, &r.Key, &r.CreatedAt, &destroyed); err != nil {
			return fmt.Errorf("read the scoped keys: %w", err)
		}
		if r.ID, err = uuid.Parse(id); err != nil {
			return fmt.Errorf("read the scoped keys: id %q: %w", id, err)
		}
		if r.Subject, err = uuid.Parse(subject); err != nil {
			return fmt.Errorf("read the scoped key %s: subject %q: %w", id, subject, err)
		}
		if r.Key != nil && len(r.Key) != KeySize {
			return fmt.Errorf("read the scoped key %s: %d bytes, want %d", id, len(r.Key), KeySize)
		}
		r.DestroyedAt = destroyed.Int64
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the scoped keys: %w", err)
	}
	return nil
}

// PutScoped stores scoped keys' rows in one transaction, as Put does: a
// key present already stays, unless the row put is a destruction.
func (s *SQL) PutScoped(ctx context.Context, rows []ScopedRow) error {
	const cols = 10
	err := s.write(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(rows); start += keysChunk {
			chunk := rows[start:min(start+keysChunk, len(rows))]
			var q strings.Builder
			q.WriteString(`INSERT INTO subject_key_scopes (id, subject, scope, category, establishment, period, record, key, created_at, destroyed_at) VALUES `)
			args := make([]any, 0, cols*len(chunk))
			for i, r := range chunk {
				if (r.Key == nil) != (r.DestroyedAt != 0) {
					return fmt.Errorf("scoped key %s: a key, or its destruction", r.ID)
				}
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(")
				for j := range cols {
					if j > 0 {
						q.WriteString(", ")
					}
					fmt.Fprintf(&q, "$%d", cols*i+j+1)
				}
				q.WriteString(")")
				var destroyed any
				if r.DestroyedAt != 0 {
					destroyed = r.DestroyedAt
				}
				args = append(args, r.ID.String(), r.Subject.String(), r.Scope, r.Category, r.Establishment, r.Period, r.Record, r.Key, r.CreatedAt, destroyed)
			}
			q.WriteString(` ON CONFLICT (id) DO UPDATE SET
				key = CASE WHEN excluded.key IS NULL THEN NULL ELSE subject_key_scopes.key END,
				destroyed_at = CASE WHEN excluded.key IS NULL THEN COALESCE(subject_key_scopes.destroyed_at, excluded.destroyed_at) ELSE subject_key_scopes.destroyed_at END`)
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %d scoped keys: %w", len(rows), err)
	}
	return nil
}
