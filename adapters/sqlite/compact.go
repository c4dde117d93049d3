package sqlite

import (
	"context"
	"fmt"
)

// Compact rewrites the database file so that no byte of a deleted or
// overwritten row remains in it, nor in its write-ahead log: after an
// erasure (`ledger privacy erase`), the read models rebuilt with
// placeholders and the destroyed key leave no trace of what they held.
// The writer runs with secure_delete, which zeroes what is deleted;
// VACUUM rewrites every page; the checkpoint copies the log into the file
// and truncates the log to nothing. Appends wait meanwhile.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	for _, q := range []string{`PRAGMA secure_delete = ON`, `VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("compact: %s: %w", q, Classify(err))
		}
	}
	return nil
}
