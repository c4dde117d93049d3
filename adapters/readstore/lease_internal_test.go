package readstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/readstore/docstoretest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/projections/projector"
)

// The leases are the locks of platforms without flock(2), where the
// database is a file as here, and of databases in memory.

// mustLeases returns a lease locker over a SQLite event store opened on
// path (created and migrated if needed), with a lease of 2 s renewed every
// 200 ms: a loaded machine (the whole suite on 2 cores) can delay a
// renewal by several hundred milliseconds.
func mustLeases(t *testing.T, path string) (*leaseLocker, *sqlite.Store) {
	t.Helper()
	es, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	l := newLeaseLocker(es.WithTx, 2*time.Second, 200*time.Millisecond)
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
		if err := es.Close(); err != nil {
			t.Error(err)
		}
	})
	return l, es
}

// TestSQLiteLeaseAcrossProcesses: two lockers on one file (a `ledger
// rebuild` next to a `ledger serve`) see each other's locks.
func TestSQLiteLeaseAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	a, _ := mustLeases(t, path)
	b, _ := mustLeases(t, path)
	ctx := context.Background()
	name := projector.LockName("count.v1")

	held, release, ok, err := a.TryAcquire(ctx, name)
	if err != nil || !ok {
		t.Fatalf("a: acquire: %v, %v", ok, err)
	}
	// Held past the end of its first lease: b stays out only because a
	// renews it.
	mustRenewedPastFirstLease(t, path, name)
	if _, _, ok, err := b.TryAcquire(ctx, name); ok || err != nil {
		t.Fatalf("b acquired a lock a holds: %v, %v", ok, err)
	}
	if held.Err() != nil {
		t.Fatal("a lost a lock it renews")
	}
	release()
	_, releaseB, ok, err := b.TryAcquire(ctx, name)
	if err != nil || !ok {
		t.Fatalf("b: acquire after a released: %v, %v", ok, err)
	}
	releaseB()
}

// mustRenewedPastFirstLease watches the lease of name in the file at path
// until its holder has renewed it several times and the time it first ran
// to has passed, with the same holder throughout.
func mustRenewedPastFirstLease(t *testing.T, path, name string) {
	t.Helper()
	ctx := context.Background()
	watcher, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	lease := func() (holder string, expires int64) {
		t.Helper()
		if err := watcher.DB().QueryRowContext(ctx, `SELECT holder, expires_at FROM rm_leases WHERE name = $1`, name).Scan(&holder, &expires); err != nil {
			t.Fatalf("lease %s: %v", name, err)
		}
		return holder, expires
	}
	holder, first := lease()
	renewals, last := 0, first
	deadline := time.Now().Add(time.Minute)
	for renewals < 3 || time.Now().UnixMilli() <= first {
		if time.Now().After(deadline) {
			t.Fatalf("lease %s renewed %d times in a minute", name, renewals)
		}
		time.Sleep(50 * time.Millisecond)
		h, expires := lease()
		if h != holder {
			t.Fatalf("lease %s passed from %s to %s while held", name, holder, h)
		}
		if expires > last {
			renewals, last = renewals+1, expires
		}
	}
}

// TestSQLiteLeaseLost: a holder whose lease was taken over sees its
// context end; one that dies without releasing frees the lock when its
// lease expires.
func TestSQLiteLeaseLost(t *testing.T) {
	t.Parallel()
	l, es := mustLeases(t, filepath.Join(t.TempDir(), "ledger.db"))
	ctx := context.Background()
	held, release, ok, err := l.TryAcquire(ctx, "lock")
	if err != nil || !ok {
		t.Fatalf("acquire: %v, %v", ok, err)
	}
	defer release()
	// Another process takes the lease over, as if it had expired.
	err = es.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE rm_leases SET holder = 'someone else' WHERE name = 'lock'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-held.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the held context outlived the lease")
	}

	// A holder that died: its lease stays until it expires.
	expires := time.Now().Add(2 * time.Second).UnixMilli()
	err = es.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO rm_leases (name, holder, expires_at) VALUES ('dead', 'gone', $1)`, expires)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := l.TryAcquire(ctx, "dead"); ok || err != nil {
		t.Fatalf("acquired a lock whose lease runs: %v, %v", ok, err)
	}
	releaseDead := docstoretest.MustEventuallyAcquire(t, l, "dead", "acquire after the lease expired")
	if now := time.Now().UnixMilli(); now < expires {
		t.Fatalf("acquired %d ms before the dead holder's lease expired", expires-now)
	}
	releaseDead()
}
