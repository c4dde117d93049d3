package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

// acks records the events whose appends have returned, in order.
type acks struct {
	mu  sync.Mutex
	ids []uuid.UUID
}

func (a *acks) add(ids ...uuid.UUID) {
	a.mu.Lock()
	a.ids = append(a.ids, ids...)
	a.mu.Unlock()
}

func (a *acks) snapshot() []uuid.UUID {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]uuid.UUID(nil), a.ids...)
}

// mustIDs returns the ids of every event in the store file at path.
func mustIDs(t *testing.T, path string) map[uuid.UUID]bool {
	t.Helper()
	s := mustOpenPath(t, path)
	defer s.Close()
	recs, err := s.ReadAll(context.Background(), domain.Position{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[uuid.UUID]bool, len(recs))
	for _, r := range recs {
		out[r.ID] = true
	}
	return out
}

func mustOpenPath(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBackupDuringAppends: a backup taken while writers append holds every
// event acknowledged before it began and none committed after its
// snapshot, verifies, and restores to a store that serves. Writers are not
// held up: while the backup holds its snapshot, an append returns; a
// read-model row written in the same file is in the copy.
func TestBackupDuringAppends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "ledger.db")
	s := mustOpenPath(t, src)
	defer s.Close()
	for range 20 {
		storetest.MustAppend(t, s, storetest.NewStream("before"), domain.NoStream(), storetest.NewEvents(3))
	}
	if _, _, err := s.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	err := s.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO rm_docs (ns, coll, key, doc) VALUES ('test.v1@1', 'c', 'k', '{"n":1}')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// Writers append until the backup has returned.
	var done acks
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				evs := storetest.NewEvents(2)
				if _, err := s.Append(ctx, storetest.NewStream("writer"), domain.NoStream(), evs); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				done.add(storetest.IDs(evs)...)
			}
		}()
	}
	// Let the writers get going, so that appends are in flight when the
	// backup starts.
	deadline := time.Now().Add(time.Minute)
	for len(done.snapshot()) < 10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	before := done.snapshot()
	if len(before) < 10 {
		t.Fatalf("the writers acknowledged %d events in a minute", len(before))
	}

	// Appended while the backup holds its snapshot: they return (the
	// backup does not hold the writer), and are not in the copy.
	var during []uuid.UUID
	hook := sqlite.WithSnapshotHook(func() {
		actx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		evs := storetest.NewEvents(2)
		if _, err := s.Append(actx, storetest.NewStream("during"), domain.NoStream(), evs); err != nil {
			t.Errorf("append while the backup holds its snapshot: %v", err)
		}
		during = storetest.IDs(evs)
	})
	backup := filepath.Join(dir, "backups", "ledger-backup.db")
	if err := os.Mkdir(filepath.Dir(backup), 0o755); err != nil {
		t.Fatal(err)
	}
	rep, err := sqlite.Backup(ctx, src, backup, hook)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if !rep.Verify.OK() || rep.Verify.Events < 60+len(before) || rep.Verify.Seals != 1 || rep.Schema == 0 || rep.Bytes == 0 {
		t.Fatalf("backup report %+v", rep)
	}
	if len(during) != 2 {
		t.Fatal("the snapshot hook did not run")
	}
	// One file, nothing left beside it.
	entries, err := os.ReadDir(filepath.Dir(backup))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("backup directory holds %d entries, want the backup alone", len(entries))
	}

	restored := filepath.Join(dir, "restored.db")
	if _, err := sqlite.Restore(ctx, backup, restored, false); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	ids := mustIDs(t, restored)
	for _, id := range before {
		if !ids[id] {
			t.Fatalf("event %s, acknowledged before the backup began, is not in it", id)
		}
	}
	for _, id := range during {
		if ids[id] {
			t.Fatalf("event %s, committed after the snapshot, is in the backup", id)
		}
	}
	if len(ids) != rep.Verify.Events {
		t.Errorf("restored %d events, the backup reported %d", len(ids), rep.Verify.Events)
	}
	r := mustOpenPath(t, restored)
	defer r.Close()
	v, err := r.Verify(ctx)
	if err != nil || !v.OK() {
		t.Fatalf("restored store: %+v, %v", v, err)
	}
	var doc string
	if err := r.DB().QueryRowContext(ctx, `SELECT doc FROM rm_docs WHERE ns = 'test.v1@1'`).Scan(&doc); err != nil || doc != `{"n":1}` {
		t.Fatalf("read model in the copy: %q, %v", doc, err)
	}
	// The restored store takes appends after the last restored position.
	res := storetest.MustAppend(t, r, storetest.NewStream("after"), domain.NoStream(), storetest.NewEvents(1))
	if res.Position.Seq <= uint64(rep.LastPosition) {
		t.Errorf("append after restore at %s, not after the backup's last position %d", res.Position, rep.LastPosition)
	}
}

// TestRestoreRefuses: Restore leaves a target holding data alone unless
// forced, refuses one a store has open even when forced, and once free
// replaces it whole: what the old file had in its write-ahead log does not
// come back.
func TestRestoreRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	s := mustOpenPath(t, src)
	want := storetest.NewEvents(2)
	storetest.MustAppend(t, s, storetest.NewStream("kept"), domain.NoStream(), want)
	s.Close()
	backup := filepath.Join(dir, "backup.db")
	if _, err := sqlite.Backup(ctx, src, backup); err != nil {
		t.Fatal(err)
	}

	target := filepath.Join(dir, "target.db")
	old := mustOpenPath(t, target)
	// Small appends stay in the write-ahead log (checkpoints run past 64
	// MiB): the old file's events are there, not yet in the file.
	storetest.MustAppend(t, old, storetest.NewStream("old"), domain.NoStream(), storetest.NewEvents(3))

	if _, err := sqlite.Restore(ctx, backup, target, false); !errors.Is(err, sqlite.ErrNotEmpty) {
		t.Fatalf("restore over a ledger without force: %v, want ErrNotEmpty", err)
	}
	if _, err := sqlite.Restore(ctx, backup, target, true); !errors.Is(err, sqlite.ErrInUse) {
		t.Fatalf("restore over a ledger in use: %v, want ErrInUse", err)
	}
	if n := len(mustIDs(t, target)); n != 3 {
		t.Fatalf("the refused restores left %d events in the target, want its own 3", n)
	}
	old.Close()
	if _, err := sqlite.Restore(ctx, backup, target, true); err != nil {
		t.Fatalf("forced restore: %v", err)
	}
	ids := mustIDs(t, target)
	if len(ids) != 2 || !ids[want[0].ID] || !ids[want[1].ID] {
		t.Fatalf("restored target holds %v, want the backup's 2 events", ids)
	}
	// No temporary file is left in the directory.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".partial-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestBackupRefusesBrokenCopies: a log that does not verify gives no
// backup; a backup file edited afterwards, or written by a newer schema,
// is not restored and the target is left as it was.
func TestBackupRefusesBrokenCopies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	s := mustOpenPath(t, src)
	storetest.MustAppend(t, s, storetest.NewStream("a"), domain.NoStream(), storetest.NewEvents(3))
	s.Close()
	good := filepath.Join(dir, "good.db")
	if _, err := sqlite.Backup(ctx, src, good); err != nil {
		t.Fatal(err)
	}

	edit := func(t *testing.T, path, stmt string) {
		t.Helper()
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	copyFile := func(t *testing.T, from, to string) {
		t.Helper()
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("tampered source", func(t *testing.T) {
		tampered := filepath.Join(t.TempDir(), "src.db")
		copyFile(t, good, tampered)
		edit(t, tampered, `UPDATE events SET data = '{"n":99}' WHERE position = 2`)
		dst := filepath.Join(t.TempDir(), "backup.db")
		rep, err := sqlite.Backup(ctx, tampered, dst)
		if !errors.Is(err, sqlite.ErrBroken) || rep.Verify.OK() {
			t.Fatalf("backup of a tampered log: %+v, %v; want ErrBroken", rep, err)
		}
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a backup that does not verify left %s: %v", dst, err)
		}
	})
	for _, tc := range []struct{ name, stmt, want string }{
		{"tampered backup", `UPDATE events SET data = '{"n":99}' WHERE position = 2`, "does not verify"},
		{"newer schema", `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999999, '999999_future', '2030-01-01T00:00:00Z')`, "newer than this program's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "backup.db")
			copyFile(t, good, bad)
			edit(t, bad, tc.stmt)
			target := filepath.Join(t.TempDir(), "target.db")
			if err := os.WriteFile(target, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := sqlite.Restore(ctx, bad, target, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("restore: %v, want an error saying %q", err, tc.want)
			}
			if fi, err := os.Stat(target); err != nil || fi.Size() != 0 {
				t.Fatalf("the refused restore changed the target: %v", err)
			}
		})
	}
	t.Run("onto itself", func(t *testing.T) {
		if _, err := sqlite.Backup(ctx, good, good); err == nil || !strings.Contains(err.Error(), "same file") {
			t.Fatalf("backup onto its source: %v", err)
		}
		if _, err := sqlite.Restore(ctx, good, good, true); err == nil || !strings.Contains(err.Error(), "same file") {
			t.Fatalf("restore onto its backup: %v", err)
		}
	})
	t.Run("missing backup", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "target.db")
		if _, err := sqlite.Restore(ctx, filepath.Join(dir, "nothing.db"), target, false); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("restore of a missing file: %v", err)
		}
		if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a refused restore created %s", target)
		}
	})
}
