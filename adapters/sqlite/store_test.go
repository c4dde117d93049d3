package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/migrations"
)

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) func(t *testing.T) storetest.Store {
		path := filepath.Join(t.TempDir(), "ledger.db")
		return func(t *testing.T) storetest.Store { return MustOpen(t, path) }
	})
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		opts           []sqlite.Option
		sync           int // PRAGMA synchronous: 1 NORMAL, 2 FULL
		writer, reader int // PRAGMA cache_size, KiB (negative)
		checkpoint     int // PRAGMA wal_autocheckpoint, pages
	}{
		{"Default", nil, 2, -sqlite.DefaultWriterCacheMiB * 1024, -sqlite.DefaultReaderCacheMiB * 1024, sqlite.DefaultCheckpointPages},
		{"Normal", []sqlite.Option{sqlite.WithSynchronous(sqlite.SyncNormal), sqlite.WithCacheMiB(8, 2), sqlite.WithCheckpointPages(1000)}, 1, -8192, -2048, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := MustOpenTemp(t, append(tc.opts, sqlite.WithBusyTimeout(3*time.Second))...)
			var (
				journal                                    string
				sync, fk, busy, cache, rdCache, checkpoint int
			)
			err := s.WithTx(context.Background(), func(tx *sql.Tx) error {
				for q, dst := range map[string]any{
					"PRAGMA journal_mode":       &journal,
					"PRAGMA synchronous":        &sync,
					"PRAGMA foreign_keys":       &fk,
					"PRAGMA busy_timeout":       &busy,
					"PRAGMA cache_size":         &cache,
					"PRAGMA wal_autocheckpoint": &checkpoint,
				} {
					if err := tx.QueryRow(q).Scan(dst); err != nil {
						return fmt.Errorf("%s: %w", q, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if journal != "wal" || sync != tc.sync || fk != 1 || busy != 3000 {
				t.Fatalf("writer runs journal_mode=%s synchronous=%d foreign_keys=%d busy_timeout=%d, want wal %d 1 3000", journal, sync, fk, busy, tc.sync)
			}
			if err := s.DB().QueryRow(`PRAGMA cache_size`).Scan(&rdCache); err != nil {
				t.Fatal(err)
			}
			if cache != tc.writer || rdCache != tc.reader {
				t.Fatalf("cache_size: writer %d, reader %d; want %d and %d", cache, rdCache, tc.writer, tc.reader)
			}
			if checkpoint != tc.checkpoint {
				t.Fatalf("writer runs wal_autocheckpoint=%d, want %d", checkpoint, tc.checkpoint)
			}
			storetest.MustAppend(t, s, storetest.NewStream("pragma"), domain.NoStream(), storetest.NewEvents(2))
		})
	}
}

// MustOpen opens the store at path; the caller closes it.
func MustOpen(t testing.TB, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return s
}

// MustOpenTemp opens a store in a fresh file, closed when the test ends.
func MustOpenTemp(t testing.TB, opts ...sqlite.Option) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := MustOpen(t, path, opts...)
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func TestHashChain(t *testing.T) {
	t.Parallel()
	s, _ := MustOpenTemp(t)
	stream := storetest.NewStream("chain")
	storetest.MustAppend(t, s, stream, domain.NoStream(), storetest.NewEvents(1))
	storetest.MustAppend(t, s, stream, domain.Exact(1), storetest.NewEvents(3))
	storetest.MustAppend(t, s, storetest.NewStream("chain-other"), domain.NoStream(), storetest.NewEvents(2))

	rows, err := s.DB().Query(`SELECT id, version, type, data, metadata, hash FROM events WHERE stream = ? ORDER BY version`, stream)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var prev []byte
	n := 0
	for rows.Next() {
		var (
			id                    string
			version               uint64
			typ                   string
			data, meta, hash, tmp []byte
		)
		if err := rows.Scan(&id, &version, &typ, &data, &meta, &hash); err != nil {
			t.Fatal(err)
		}
		n++
		if version != uint64(n) {
			t.Fatalf("row %d has version %d", n, version)
		}
		tmp = domain.ChainHash(prev, uuid.MustParse(id), stream, version, typ, data, meta)
		if !bytes.Equal(hash, tmp) {
			t.Fatalf("version %d: stored hash %x, ChainHash says %x", version, hash, tmp)
		}
		prev = hash
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("%d events in the stream, want 4", n)
	}

	var (
		version uint64
		head    []byte
	)
	if err := s.DB().QueryRow(`SELECT version, hash FROM streams WHERE stream = ?`, stream).Scan(&version, &head); err != nil {
		t.Fatal(err)
	}
	if version != 4 || !bytes.Equal(head, prev) {
		t.Fatalf("streams row holds version %d hash %x, want 4 %x", version, head, prev)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	want, err := migrations.For(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		s := MustOpen(t, path)
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate on open #%d: %v", i+1, err)
		}
		rows, err := s.DB().Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		var got []migrations.Migration
		for rows.Next() {
			var (
				m       migrations.Migration
				applied string
			)
			if err := rows.Scan(&m.Version, &m.Name, &applied); err != nil {
				t.Fatal(err)
			}
			if _, err := time.Parse(time.RFC3339Nano, applied); err != nil {
				t.Errorf("applied_at %q: %v", applied, err)
			}
			got = append(got, m)
		}
		rows.Close()
		if len(got) != len(want) {
			t.Fatalf("open #%d: schema_migrations holds %d rows, want %d", i+1, len(got), len(want))
		}
		for j := range got {
			if got[j].Version != want[j].Version || got[j].Name != want[j].Name {
				t.Fatalf("open #%d: migration %d recorded as %d %s, want %d %s", i+1, j, got[j].Version, got[j].Name, want[j].Version, want[j].Name)
			}
		}
		storetest.MustAppend(t, s, storetest.NewStream("migrate"), domain.NoStream(), storetest.NewEvents(1))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	const poll = 100 * time.Millisecond
	a, path := MustOpenTemp(t)
	timers := fakeTimers{armed: make(chan armedTimer, 64)}
	b := MustOpen(t, path, sqlite.WithPollInterval(poll), sqlite.WithTimers(timers.new))
	t.Cleanup(func() { _ = b.Close() })
	stream := storetest.NewStream("shared")

	first := storetest.MustAppend(t, a, stream, domain.NoStream(), storetest.NewEvents(1))
	if got := storetest.MustReadStream(t, b, stream, 0); len(got) != 1 || got[0].Position != first.Position {
		t.Fatalf("second store reads %d events of the first's append", len(got))
	}

	// b is woken by its poll, not by a's broadcast (another process's, for
	// all b knows), nor by Wait's one-second cap: b's timers fire only when
	// the test fires them. Once b has armed its cap and its first poll, it
	// has looked at the file and found nothing.
	done := make(chan error, 1)
	go func() { done <- b.Wait(context.Background(), first.Position) }()
	if timeout := timers.mustArm(t, done); timeout.d != sqlite.MaxWait {
		t.Fatalf("Wait armed %s first, want its cap (%s)", timeout.d, sqlite.MaxWait)
	}
	tick := timers.mustArm(t, done)
	if tick.d != poll {
		t.Fatalf("Wait polls every %s, want the poll interval (%s)", tick.d, poll)
	}
	second := storetest.MustAppend(t, a, stream, domain.Exact(1), storetest.NewEvents(1))
	tick.fire <- time.Now()
	if next, armed := timers.armedOrReturned(t, done); armed {
		t.Fatalf("second store did not see the first store's append at its poll (it armed a timer of %s again)", next.d)
	}
	if err := <-done; err != nil {
		t.Fatalf("Wait: %v", err)
	}
	recs, err := b.ReadAll(context.Background(), first.Position, 10)
	if err != nil || len(recs) != 1 || recs[0].Position != second.Position {
		t.Fatalf("second store reads %d events after the first (err %v), want the second append", len(recs), err)
	}

	// Writers of both stores are serialized by the file's lock and see each
	// other's versions.
	if _, err := b.Append(context.Background(), stream, domain.Exact(1), storetest.NewEvents(1)); !errors.Is(err, domain.ErrVersionConflict) {
		t.Fatalf("stale append through the second store: %v, want ErrVersionConflict", err)
	}
	third := storetest.MustAppend(t, b, stream, domain.Exact(2), storetest.NewEvents(1))
	if third.Version != 3 || !second.Position.Less(third.Position) {
		t.Fatalf("append through the second store landed at v%d %v", third.Version, third.Position)
	}
}

// TestWaitWokenByAppend: a reader waiting at the head is woken by an
// append of its own store, not by a timer: its timers never fire here, so
// only the wake can end its Wait.
func TestWaitWokenByAppend(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	timers := fakeTimers{armed: make(chan armedTimer, 64)}
	s := MustOpen(t, path, sqlite.WithTimers(timers.new))
	t.Cleanup(func() { _ = s.Close() })
	head := storetest.MustHead(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, head) }()
	if _, armed := timers.armedOrReturned(t, done); !armed {
		t.Fatalf("Wait at the head returned before anything was appended: %v", <-done)
	}
	storetest.MustAppend(t, s, storetest.NewStream("woken"), domain.NoStream(), storetest.NewEvents(1))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("an append did not wake the reader waiting at the head (its timers never fire)")
	}
}

// fakeTimers stand in for the timers of a store's Wait (sqlite.WithTimers):
// each timer armed is sent on armed and fires only when the test fires it.
type fakeTimers struct{ armed chan armedTimer }

type armedTimer struct {
	d    time.Duration
	fire chan time.Time // buffered: the test fires it once
}

func (f fakeTimers) new(d time.Duration) (<-chan time.Time, func() bool) {
	a := armedTimer{d: d, fire: make(chan time.Time, 1)}
	f.armed <- a
	return a.fire, func() bool { return true }
}

// armedOrReturned tells whether the waiter behind done arms a timer
// (returning it) or returns without arming one (leaving its error on done).
func (f fakeTimers) armedOrReturned(t *testing.T, done chan error) (armedTimer, bool) {
	t.Helper()
	select {
	case a := <-f.armed:
		return a, true
	case err := <-done:
		done <- err
		// A waiter arms its timer before it returns: if it did, it is here.
		select {
		case a := <-f.armed:
			return a, true
		default:
			return armedTimer{}, false
		}
	case <-time.After(time.Minute):
		t.Fatal("Wait neither armed a timer nor returned within a minute")
		return armedTimer{}, false
	}
}

// mustArm returns the next timer the waiter behind done arms, failing if
// it returns first.
func (f fakeTimers) mustArm(t *testing.T, done chan error) armedTimer {
	t.Helper()
	a, armed := f.armedOrReturned(t, done)
	if !armed {
		t.Fatalf("Wait returned (%v) without waiting", <-done)
	}
	return a
}

func TestWithTx(t *testing.T) {
	t.Parallel()
	s, _ := MustOpenTemp(t)
	ctx := context.Background()
	err := s.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = s.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints VALUES ('rolled-back', 1)`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx returned %v, want fn's error", err)
	}
	if err := s.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO checkpoints VALUES ('kept', 7)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var names []string
	rows, err := s.DB().QueryContext(ctx, `SELECT name FROM checkpoints`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if len(names) != 1 || names[0] != "kept" {
		t.Fatalf("checkpoints hold %v, want only the committed one", names)
	}
	if _, err := s.DB().ExecContext(ctx, `DELETE FROM checkpoints`); err == nil {
		t.Fatal("the read pool accepted a write")
	}
}

func TestAppendRejectsBadInput(t *testing.T) {
	t.Parallel()
	s, _ := MustOpenTemp(t)
	stream := storetest.NewStream("bad")
	notJSON := storetest.NewEvents(1)
	notJSON[0].Data = []byte("{not json")
	for name, events := range map[string][]domain.Envelope{"none": nil, "not JSON": notJSON} {
		if _, err := s.Append(context.Background(), stream, domain.AnyVersion(), events); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("append of %s: %v, want ErrInvalid", name, err)
		}
	}
	storetest.MustStreamLen(t, s, stream, 0)
}

// Options out of range are refused before the file is touched.
func TestOpenRefusesBadOptions(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]sqlite.Option{
		"negative checkpoint size": sqlite.WithCheckpointPages(-1),
		"no writer cache":          sqlite.WithCacheMiB(0, 16),
		"no read connection":       sqlite.WithReadConns(0),
		"synchronous OFF":          sqlite.WithSynchronous("OFF"),
	} {
		path := filepath.Join(t.TempDir(), "ledger.db")
		s, err := sqlite.Open(context.Background(), path, opt)
		if err == nil {
			s.Close()
			t.Errorf("%s: Open succeeded", name)
			continue
		}
		if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
			t.Errorf("%s: Open failed (%v) but created %s", name, err, path)
		}
	}
}
