package auth_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/sqlite"
)

// TestDeleteSessionsEndedBefore: the sessions that ended before the day
// go, the others stay.
func TestDeleteSessionsEndedBefore(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Date(2025, 12, 7, 0, 0, 0, 0, time.UTC)
	for i, end := range []time.Time{cutoff.AddDate(0, -1, 0), cutoff.Add(-time.Millisecond), cutoff, cutoff.AddDate(0, 6, 0)} {
		err := s.WithTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO auth_sessions (token_hash, account, kind, created_at, expires_at, ends_at)
				VALUES ($1, 'a', 'session', $2, $3, $3)`, []byte{byte(i)}, end.Add(-time.Hour).UnixMilli(), end.UnixMilli())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := auth.DeleteSessionsEndedBefore(ctx, s.WithTx, cutoff)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want 2", n, err)
	}
	var left int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM auth_sessions`).Scan(&left); err != nil || left != 2 {
		t.Fatalf("%d left, %v", left, err)
	}
}
