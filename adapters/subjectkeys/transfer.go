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
