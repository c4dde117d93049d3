package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/sqlite/sqlitetest"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

// TestClassify: SQLite's full, I/O, lock, read-only and cannot-open errors
// are outages, a full disk its own kind; a broken constraint or a wrong
// query is not. Every error is SQLite's own.
func TestClassify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	raw := func(t *testing.T, path, params string) *sql.DB {
		t.Helper()
		db, err := sql.Open("sqlite", path+params)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	for _, tc := range []struct {
		name string
		err  func(t *testing.T) error
		want error // domain.ErrUnavailable, domain.ErrStoreFull, or nil for none
	}{
		{"nil", func(*testing.T) error { return nil }, nil},
		{"full (SQLITE_FULL)", func(t *testing.T) error {
			s, _ := MustOpenTemp(t)
			sqlitetest.MustFill(t, s)
			_, err := s.DB().ExecContext(ctx, `SELECT 1`) // reads still work
			if err != nil {
				t.Fatal(err)
			}
			var cause error // as the driver gives it, before WithTx marks it
			_ = s.WithTx(ctx, func(tx *sql.Tx) error {
				_, cause = tx.ExecContext(ctx, `INSERT INTO rm_docs (ns, coll, key, doc) VALUES ('n', 'c', 'k', '{}')`)
				return cause
			})
			return cause
		}, domain.ErrStoreFull},
		{"locked past the busy timeout (SQLITE_BUSY)", func(t *testing.T) error {
			path := filepath.Join(t.TempDir(), "busy.db")
			db := raw(t, path, "?_txlock=immediate")
			if _, err := db.ExecContext(ctx, `CREATE TABLE t (x)`); err != nil {
				t.Fatal(err)
			}
			tx, err := db.BeginTx(ctx, nil) // holds the write lock
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			_, err = raw(t, path, "?_busy_timeout=10").ExecContext(ctx, `INSERT INTO t VALUES (1)`)
			return err
		}, domain.ErrUnavailable},
		{"read-only (SQLITE_READONLY)", func(t *testing.T) error {
			path := filepath.Join(t.TempDir(), "ro.db")
			if _, err := raw(t, path, "").ExecContext(ctx, `CREATE TABLE t (x)`); err != nil {
				t.Fatal(err)
			}
			_, err := raw(t, "file:"+path, "?mode=ro").ExecContext(ctx, `INSERT INTO t VALUES (1)`)
			return err
		}, domain.ErrUnavailable},
		{"cannot open (SQLITE_CANTOPEN)", func(t *testing.T) error {
			return raw(t, filepath.Join(t.TempDir(), "no-such-dir", "x.db"), "").PingContext(ctx)
		}, domain.ErrUnavailable},
		{"unique constraint", func(t *testing.T) error {
			db := raw(t, filepath.Join(t.TempDir(), "u.db"), "")
			_, err := db.ExecContext(ctx, `CREATE TABLE u (k PRIMARY KEY); INSERT INTO u VALUES (1); INSERT INTO u VALUES (1)`)
			return err
		}, nil},
		{"syntax error", func(t *testing.T) error {
			_, err := raw(t, filepath.Join(t.TempDir(), "s.db"), "").ExecContext(ctx, `SELEKT 1`)
			return err
		}, nil},
		{"already a domain error", func(*testing.T) error {
			return fmt.Errorf("x: %w", domain.Errorf(domain.ErrVersionConflict, "x"))
		}, domain.ErrVersionConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cause := tc.err(t)
			t.Logf("cause: %v", cause)
			got := sqlite.Classify(cause)
			if tc.want == nil {
				if got != cause || domain.IsUnavailable(got) {
					t.Errorf("Classify(%v) = %v, want it unchanged", cause, got)
				}
				return
			}
			if !errors.Is(got, tc.want) {
				t.Errorf("Classify(%v) = %v, want %v", cause, got, tc.want)
			}
			if cause != nil && !errors.Is(got, cause) {
				t.Errorf("Classify(%v) lost its cause", cause)
			}
			if again := sqlite.Classify(got); again != got {
				t.Errorf("classified twice: %v", again)
			}
		})
	}
}

// TestOpenMissingDirectory: a file that cannot be opened at start is a
// configuration error, not an outage to wait for.
func TestOpenMissingDirectory(t *testing.T) {
	t.Parallel()
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "no-such-dir", "ledger.db"))
	if err == nil || domain.IsUnavailable(err) {
		t.Fatalf("open in a missing directory: %v, want an error that is no outage", err)
	}
}

// TestFullDisk: with the disk full, appends fail as domain.ErrStoreFull
// while the log still reads; once space is freed, the same store appends
// again.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := MustOpenTemp(t)
	stream := storetest.NewStream("full")
	storetest.MustAppend(t, s, stream, domain.NoStream(), storetest.NewEvents(1))

	free := sqlitetest.MustFill(t, s)
	if _, err := s.Append(ctx, stream, domain.Exact(1), storetest.NewEvents(1)); !errors.Is(err, domain.ErrStoreFull) {
		t.Fatalf("append on a full disk: %v, want ErrStoreFull", err)
	}
	if recs, err := s.ReadStream(ctx, stream, 0); err != nil || len(recs) != 1 {
		t.Errorf("read on a full disk: %d events, %v; want 1", len(recs), err)
	}
	if recs, err := s.ReadAll(ctx, domain.Start, 0); err != nil || len(recs) != 1 {
		t.Errorf("read the log on a full disk: %d events, %v; want 1", len(recs), err)
	}

	free()
	storetest.MustAppend(t, s, stream, domain.Exact(1), storetest.NewEvents(1))
}

// TestBusyPastTimeout: a write lock held by another process past the busy
// timeout is an outage of the store's writes.
func TestBusyPastTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := MustOpenTemp(t, sqlite.WithBusyTimeout(10*time.Millisecond))
	other, err := sql.Open("sqlite", path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stream := storetest.NewStream("busy")
	_, err = s.Append(ctx, stream, domain.NoStream(), storetest.NewEvents(1))
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("append while another process writes: %v, want ErrUnavailable", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	storetest.MustAppend(t, s, stream, domain.NoStream(), storetest.NewEvents(1))
}
