package sqlite

import (
	"context"
	"fmt"
	"time"
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
	for _, q := range []string{`PRAGMA secure_delete = ON`, `VACUUM`} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("compact: %s: %w", q, Classify(err))
		}
	}
	return s.truncateLog(ctx)
}

// TruncateLog copies the write-ahead log into the database file and
// truncates the log to nothing, so that no earlier image of a page (one
// that held what was since deleted) stays in it. It is the compaction of
// a serving store after an erasure: the writer runs with secure_delete,
// so that what the erasure deleted is zeroed in the file already, and only
// the log keeps old images; appends wait only while the log is copied,
// not while the whole file is rewritten, as with Compact.
func (s *Store) TruncateLog(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	return s.truncateLog(ctx)
}

// truncateLog checkpoints and truncates the write-ahead log, the writer
// lock held. A reader on an older snapshot makes the checkpoint stop short
// (busy, which is no error): it is tried again until readers moved on.
func (s *Store) truncateLog(ctx context.Context) error {
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var busy, logged, copied int
		if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &copied); err != nil {
			return fmt.Errorf("compact: wal_checkpoint: %w", Classify(err))
		}
		if busy == 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("compact: the write-ahead log is still read: %w", ctx.Err())
		case <-t.C:
		}
	}
}
