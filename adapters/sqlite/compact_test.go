package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

// TestTruncateLog: a serving store's compaction after an erasure waits for
// a reader on an older snapshot, appends meanwhile, then leaves no byte of
// a deleted row in the file or its write-ahead log.
func TestTruncateLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := mustOpenPath(t, path)
	defer s.Close()
	marker := "erased" + uuid.NewString()
	for _, q := range []string{
		`INSERT INTO rm_docs (ns, coll, key, doc) VALUES ('test.v1@1', 'c', 'k', '{"reason":"` + marker + `"}')`,
		`DELETE FROM rm_docs WHERE ns = 'test.v1@1'`,
	} {
		if err := s.WithTx(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, q); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if !holds(t, path+"-wal", marker) {
		t.Fatal("the write-ahead log does not hold the deleted row: the test proves nothing")
	}

	// A reader on the snapshot of before the compaction.
	db, err := sql.Open("sqlite", path+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reader, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- s.TruncateLog(ctx) }()
	// Appends go on while it waits for the reader.
	storetest.MustAppend(t, s, storetest.NewStream("during"), domain.NoStream(), storetest.NewEvents(2))
	select {
	case err := <-done:
		t.Fatalf("the log was truncated under a reader's snapshot: %v", err)
	default:
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() != 0 {
		t.Errorf("the write-ahead log holds %d bytes", st.Size())
	}
	for _, f := range []string{path, path + "-wal"} {
		if holds(t, f, marker) {
			t.Errorf("%s holds the deleted row", filepath.Base(f))
		}
	}
}

// holds reports whether file holds text.
func holds(t *testing.T, file, text string) bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, []byte(text))
}
