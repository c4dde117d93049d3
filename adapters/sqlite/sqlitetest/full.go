// Package sqlitetest helps tests put a SQLite store in the states its
// adapters must survive.
package sqlitetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// Writer is a store whose one writer connection runs transactions, and
// marks a full disk as domain.ErrStoreFull: adapters/sqlite's Store.
type Writer interface {
	WithTx(ctx context.Context, fn func(*sql.Tx) error) error
}

// fullTables are the tables whose inserts a full disk refuses: the log,
// the sessions and the read models.
var fullTables = []string{"events", "auth_sessions", "rm_docs"}

// MustFill makes the store's disk full, as its writer connection sees it,
// and returns what frees it again. The file may not grow (PRAGMA
// max_page_count at its size, its free pages used up by a filler table),
// and every insert into the log, the sessions or the read models needs new
// pages (a TEMP trigger writes a large blob before it), so each fails
// with SQLITE_FULL as on a full disk. Reads are untouched. Only the
// writer connection is limited, and only until free is called or the
// store closes.
func MustFill(t testing.TB, w Writer) (free func()) {
	t.Helper()
	ctx := context.Background()
	exec := func(query string) error {
		return w.WithTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, query)
			return err
		})
	}
	if err := exec(`CREATE TABLE IF NOT EXISTS sqlitetest_filler (b BLOB)`); err != nil {
		t.Fatalf("sqlitetest: %v", err)
	}
	err := w.WithTx(ctx, func(tx *sql.Tx) error {
		var pages, limit int
		if err := tx.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)).Scan(&limit)
	})
	if err != nil {
		t.Fatalf("sqlitetest: limit the file: %v", err)
	}
	// Inserts of about a page each take the free pages until none is left.
	for i := 0; ; i++ {
		if err := exec(`INSERT INTO sqlitetest_filler VALUES (zeroblob(3000))`); err != nil {
			if !errors.Is(err, domain.ErrStoreFull) {
				t.Fatalf("sqlitetest: fill: %v, want the store full", err)
			}
			break
		}
		if i > 1_000_000 {
			t.Fatal("sqlitetest: the file never filled up")
		}
	}
	for _, table := range fullTables {
		err := exec(fmt.Sprintf(`CREATE TEMP TRIGGER sqlitetest_full_%[1]s BEFORE INSERT ON main.%[1]s
BEGIN INSERT INTO main.sqlitetest_filler VALUES (zeroblob(20000)); END`, table))
		if err != nil {
			t.Fatalf("sqlitetest: trigger on %s: %v", table, err)
		}
	}
	return func() {
		t.Helper()
		for _, table := range fullTables {
			if err := exec(`DROP TRIGGER IF EXISTS temp.sqlitetest_full_` + table); err != nil {
				t.Fatalf("sqlitetest: free: %v", err)
			}
		}
		err := w.WithTx(ctx, func(tx *sql.Tx) error {
			var limit int
			return tx.QueryRowContext(ctx, `PRAGMA max_page_count = 1073741823`).Scan(&limit)
		})
		if err != nil {
			t.Fatalf("sqlitetest: free: %v", err)
		}
	}
}
