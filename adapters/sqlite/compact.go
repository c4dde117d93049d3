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
// the log keeps old images. A passive checkpoint first copies the bulk of
// the log beside the writers; then each attempt at truncating holds the
// appends for no longer than truncateWait, until no reader is left on an
// older snapshot: appends go on between attempts.
func (s *Store) TruncateLog(ctx context.Context) error {
	if _, err := s.r.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		return fmt.Errorf("compact: wal_checkpoint: %w", Classify(err))
	}
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("compact: %w", Classify(err))
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, truncateWait.Milliseconds())); err != nil {
		return fmt.Errorf("compact: busy_timeout: %w", Classify(err))
	}
	// The connection goes back to the pool: with its usual patience.
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, s.cfg.busyTimeout.Milliseconds()))
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		if err := s.lock(ctx); err != nil {
			return err
		}
		var busy, logged, copied int
		err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &copied)
		s.unlock()
		switch {
		case err != nil:
			return fmt.Errorf("compact: wal_checkpoint: %w", Classify(err))
		case busy == 0:
			return nil
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("compact: the write-ahead log is still read: %w", err)
		}
	}
}

// truncateWait bounds how long an attempt at truncating the write-ahead
// log waits for readers, the appends held.
const truncateWait = 50 * time.Millisecond

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
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("compact: the write-ahead log is still read: %w", err)
		}
	}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
