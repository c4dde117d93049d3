package readstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/migrations"
)

// TestSQLiteInMemoryLocks: a database without a file keeps its locks as
// leases in the database.
func TestSQLiteInMemoryLocks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection, one database
	defer db.Close()
	all, err := migrations.For(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if _, err := db.ExecContext(ctx, m.SQL); err != nil {
			t.Fatalf("migration %s: %v", m.Name, err)
		}
	}
	write := func(ctx context.Context, fn func(*sql.Tx) error) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return errors.Join(err, tx.Rollback())
		}
		return tx.Commit()
	}
	s, err := readstore.NewSQLite(db, write, readstore.WithLease(time.Hour, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	leases := func() int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM rm_leases WHERE name = 'lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	_, release, ok, err := s.TryAcquire(ctx, "lock")
	if err != nil || !ok {
		t.Fatalf("acquire: %v, %v", ok, err)
	}
	if n := leases(); n != 1 {
		t.Errorf("%d leases while held, want 1", n)
	}
	if _, _, ok, err := s.TryAcquire(ctx, "lock"); ok || err != nil {
		t.Fatalf("acquired twice: %v, %v", ok, err)
	}
	release()
	if n := leases(); n != 0 {
		t.Errorf("%d leases after release, want 0", n)
	}
	_, release, ok, err = s.TryAcquire(ctx, "lock")
	if err != nil || !ok {
		t.Fatalf("acquire after release: %v, %v", ok, err)
	}
	release()
}
