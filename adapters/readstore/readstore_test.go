package readstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/adapters/readstore/docstoretest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	docstoretest.Run(t, func(t *testing.T) docstoretest.Store {
		s, _ := MustSQLite(t)
		return s
	})
}

func TestSQLiteFile(t *testing.T) {
	t.Parallel()
	docstoretest.Run(t, func(t *testing.T) docstoretest.Store {
		return MustOpenSQLite(t, filepath.Join(t.TempDir(), "readmodels.db"))
	})
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	docstoretest.Run(t, func(t *testing.T) docstoretest.Store {
		s, _ := MustPostgres(t)
		return s
	})
}

// MustSQLite returns a read store in the file of a fresh SQLite event
// store, both closed when the test ends.
func MustSQLite(t testing.TB, opts ...readstore.Option) (*readstore.Store, *sqlite.Store) {
	t.Helper()
	es, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := readstore.NewSQLite(es.DB(), es.WithTx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := errors.Join(s.Close(), es.Close()); err != nil {
			t.Error(err)
		}
	})
	return s, es
}

// MustOpenSQLite opens a read-model file, closed when the test ends.
func MustOpenSQLite(t testing.TB, path string, opts ...readstore.Option) *readstore.Store {
	t.Helper()
	s, err := readstore.OpenSQLite(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// MustPostgres returns a read store on a fresh, migrated database, and
// that database's DSN.
func MustPostgres(t testing.TB, opts ...readstore.Option) (*readstore.Store, string) {
	t.Helper()
	dsn := pgtest.MustDatabase(t)
	return MustPostgresOn(t, dsn, opts...), dsn
}

// MustPostgresOn opens an event store on dsn (its own pool), migrates it
// and returns a read store sharing its pool; all closed when the test ends.
func MustPostgresOn(t testing.TB, dsn string, opts ...readstore.Option) *readstore.Store {
	t.Helper()
	ctx := context.Background()
	es, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := es.Migrate(ctx); err != nil {
		_ = es.Close()
		t.Fatal(err)
	}
	s := readstore.NewPostgres(es.Pool(), opts...)
	t.Cleanup(func() {
		// Locks first: closing the pool waits for the connection that
		// holds them.
		if err := errors.Join(s.Close(), es.Close()); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestCheckpointOnlyAdvances: a second runner that applied the same batch
// (it lost its lock without noticing) cannot commit it.
func TestCheckpointOnlyAdvances(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, s *readstore.Store) {
		ctx := context.Background()
		ns := "p.v1@1"
		docstoretest.MustUpdate(t, s, ns, func(tx projections.DocTx) error {
			if err := tx.Put(ctx, []projections.Doc{docstoretest.Doc("c", "k", 1)}); err != nil {
				return err
			}
			return tx.SetCheckpoint(ctx, domain.Position{Tx: 3, Seq: 5})
		})
		for _, pos := range []domain.Position{{Tx: 3, Seq: 5}, {Tx: 3, Seq: 4}, {Tx: 2, Seq: 9}, {}} {
			err := s.Update(ctx, ns, func(tx projections.DocTx) error {
				if err := tx.Put(ctx, []projections.Doc{docstoretest.Doc("c", "k", 2)}); err != nil {
					return err
				}
				return tx.SetCheckpoint(ctx, pos)
			})
			if !errors.Is(err, readstore.ErrStaleCheckpoint) {
				t.Errorf("checkpoint back to %v: %v, want ErrStaleCheckpoint", pos, err)
			}
		}
		var n int
		if _, err := projections.GetJSON(ctx, s.Reader(ns), "c", "k", &n); err != nil || n != 1 {
			t.Errorf("document = %d, %v; want the first batch's 1", n, err)
		}
		docstoretest.MustUpdate(t, s, ns, func(tx projections.DocTx) error {
			return tx.SetCheckpoint(ctx, domain.Position{Tx: 4, Seq: 1})
		})
	})
}

func TestPutRejectsNonJSON(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, s *readstore.Store) {
		ctx := context.Background()
		for _, bad := range []string{"", "{", "not json", `{"a":1}x`} {
			err := s.Update(ctx, "p.v1@1", func(tx projections.DocTx) error {
				return tx.Put(ctx, []projections.Doc{{Coll: "c", Key: "k", Value: []byte(bad)}})
			})
			if err == nil {
				t.Errorf("put %q succeeded", bad)
			}
		}
		if _, ok, err := s.Reader("p.v1@1").Get(ctx, "c", "k"); ok || err != nil {
			t.Errorf("get after rejected puts: ok %v, %v", ok, err)
		}
	})
}

func forEachStore(t *testing.T, fn func(t *testing.T, s *readstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, _ := MustSQLite(t)
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		s, _ := MustPostgres(t)
		fn(t, s)
	})
}

// TestPostgresLockAcrossNodes: two stores with their own pools on one
// database (two `ledger serve` nodes) exclude each other; when the holder's
// session ends, its context ends and the other node takes over.
func TestPostgresLockAcrossNodes(t *testing.T) {
	t.Parallel()
	a, dsn := MustPostgres(t, readstore.WithPingEvery(50*time.Millisecond))
	b := MustPostgresOn(t, dsn)
	ctx := context.Background()
	name := projector.LockName("count.v1")

	held, release, ok, err := a.TryAcquire(ctx, name)
	if err != nil || !ok {
		t.Fatalf("a: acquire: %v, %v", ok, err)
	}
	defer release()
	if _, _, ok, err := b.TryAcquire(ctx, name); ok || err != nil {
		t.Fatalf("b acquired a lock a holds: %v, %v", ok, err)
	}
	// Held by a second name on the same session.
	held2, release2, ok, err := a.TryAcquire(ctx, projector.LockName("other.v1"))
	if err != nil || !ok {
		t.Fatalf("a: acquire a second lock: %v, %v", ok, err)
	}
	defer release2()

	// Kill a's session, as a crash or a network failure would.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tag, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil || tag.RowsAffected() == 0 {
		t.Fatalf("terminate the lock holder: %v, %v", tag, err)
	}
	for _, h := range []context.Context{held, held2} {
		select {
		case <-h.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the held context outlived its session")
		}
	}
	// b takes over (the server frees the locks once the backend is gone).
	docstoretest.MustEventuallyAcquire(t, b, name, "b never took over")()
	// a works again with a new session.
	_, releaseA, ok, err := a.TryAcquire(ctx, name)
	if err != nil || !ok {
		t.Fatalf("a: acquire after the session ended: %v, %v", ok, err)
	}
	releaseA()
}

// TestPostgresLockReturnsConnection: the lock connection goes back to the
// pool once no lock is held, and a pool of one connection is enough for
// locks and documents alike.
func TestPostgresLockReturnsConnection(t *testing.T) {
	t.Parallel()
	dsn := pgtest.MustDatabase(t)
	ctx := context.Background()
	MustPostgresOn(t, dsn) // migrates
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := readstore.NewPostgres(pool)
	defer s.Close()
	var releases []func()
	for _, name := range []string{"a", "b", "c", "d"} {
		_, release, ok, err := s.TryAcquire(ctx, name)
		if err != nil || !ok {
			t.Fatalf("acquire %s: %v, %v", name, ok, err)
		}
		releases = append(releases, release)
	}
	if got := pool.Stat().AcquiredConns(); got != 1 {
		t.Errorf("%d connections held for 4 locks, want 1", got)
	}
	docstoretest.MustPut(t, s, "p.v1@1", docstoretest.Doc("c", "k", 1))
	for _, r := range releases {
		r()
	}
	if got := pool.Stat().AcquiredConns(); got != 0 {
		t.Errorf("%d connections held after releasing every lock", got)
	}
	// Nothing leaked into the pooled session.
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d advisory locks left, %v", n, err)
	}
}

// TestPostgresKeysCompareAsBytes: whatever the database's locale, names
// and keys use the "C" collation (the test server's default, C.UTF-8, would
// hide a missing COLLATE from the contract's ordering test).
func TestPostgresKeysCompareAsBytes(t *testing.T) {
	t.Parallel()
	_, dsn := MustPostgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name, column_name, coalesce(collation_name, '')
FROM information_schema.columns
WHERE table_name LIKE 'rm\_%' AND data_type = 'text'`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var table, column, collation string
		if err := rows.Scan(&table, &column, &collation); err != nil {
			t.Fatal(err)
		}
		n++
		if collation != "C" {
			t.Errorf("%s.%s collates as %q, want C", table, column, collation)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("%d text columns in the rm_ tables, want 5", n)
	}
}

// TestSQLiteGetManyKeysNotUTF8: SQLite keys are any bytes; those that JSON
// cannot carry are read one by one, with the same result.
func TestSQLiteGetManyKeysNotUTF8(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := MustSQLite(t)
	keys := []string{"ok", "\xff\xfe", "a\xc3"}
	var docs []projections.Doc
	for _, k := range keys {
		docs = append(docs, projections.Doc{Coll: "c", Key: k, Value: []byte(`{"k":1}`)})
	}
	if err := s.Update(ctx, "p.v1@1", func(tx projections.DocTx) error { return tx.Put(ctx, docs) }); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, "p.v1@1", func(tx projections.DocTx) error {
		got := map[string]bool{}
		err := tx.(projections.DocMultiGetter).GetMany(ctx, "c", append(keys, "\xff"), func(k string, _ []byte) error {
			got[k] = true
			return nil
		})
		if len(got) != len(keys) {
			t.Errorf("got %v, want %q", got, keys)
		}
		for _, k := range keys {
			if !got[k] {
				t.Errorf("%q not given", k)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPostgresMigrationEncodesOldRows: rows written before documents and
// keys were encoded (U+FFFF in a document, 0x01 in a key) read back as
// they were written once migration 0101 has run.
func TestPostgresMigrationEncodesOldRows(t *testing.T) {
	t.Parallel()
	s, dsn := MustPostgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// As the store wrote them before: stored as they were.
	old := map[string]string{
		"a\x01":         `{"s": "x\uffffy"}`,
		"a\x01\x02":     `{"s": "\uffff0"}`,
		"plain":         `{"s": "plain"}`,
		"b\x01\x01\x01": `{"s": "\uffff\uffff"}`,
	}
	for k, doc := range old {
		if _, err := conn.Exec(ctx, `INSERT INTO rm_docs (ns, coll, key, doc) VALUES ('p.v1@1', 'c', $1, $2)`, k, doc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `DELETE FROM schema_migrations WHERE version = 101`); err != nil {
		t.Fatal(err)
	}
	es, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	if err := es.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var keys []string
	err = s.Reader("p.v1@1").Scan(ctx, "c", "", "", func(k string, doc []byte) error {
		keys = append(keys, k)
		var got, want any
		if err := errors.Join(json.Unmarshal(doc, &got), json.Unmarshal([]byte(old[k]), &want)); err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%+q = %+q, want %+q", k, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(maps.Keys(old)); !slices.Equal(keys, want) {
		t.Errorf("keys %+q, want %+q", keys, want)
	}
}
