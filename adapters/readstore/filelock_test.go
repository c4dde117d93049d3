//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package readstore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/projections/projector"
)

// TestSQLiteLockFreedWhenHolderDies: a process killed while it holds a
// lock frees it at once. Both sides would use hour-long leases, so the
// lock can only be free because the kernel released it.
func TestSQLiteLockFreedWhenHolderDies(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := MustOpenSQLite(t, path, readstore.WithLease(time.Hour, time.Minute)) // migrates before the holder opens it
	name := projector.LockName("count.v1")
	ctx := context.Background()

	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), envHolderDB+"="+path, envHolderLock+"="+name)
	var stderr bytes.Buffer
	holder.Stderr = &stderr
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	t.Cleanup(func() {
		_ = stdin.Close()
		if !waited {
			_ = holder.Process.Kill()
			_ = holder.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "held\n" {
		_ = holder.Wait()
		waited = true
		t.Fatalf("holder said %q, %v; stderr:\n%s", line, err, stderr.String())
	}

	if _, _, ok, err := s.TryAcquire(ctx, name); ok || err != nil {
		t.Fatalf("acquired a lock another process holds: %v, %v", ok, err)
	}
	if err := holder.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = holder.Wait()
	waited = true
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("holder ended with %v, want killed; stderr:\n%s", err, stderr.String())
	}
	// The kernel closes a process's files before its parent can reap it:
	// once Wait returns, the lock is free. No retry, no expiry to wait for.
	held, release, ok, err := s.TryAcquire(ctx, name)
	if err != nil || !ok {
		t.Fatalf("acquire after the holder was killed: %v, %v", ok, err)
	}
	defer release()
	if held.Err() != nil {
		t.Fatal("the lock's context ended at once")
	}
	mustNoLeases(t, path)
}

// mustNoLeases checks that the file at path has no lease rows: its locks
// are the kernel's.
func mustNoLeases(t *testing.T, path string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.DB().QueryRow(`SELECT count(*) FROM rm_leases`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d leases in the file, %v; want none", n, err)
	}
}

// TestSQLiteLocksAcrossStores: stores on one file (a `ledger rebuild`
// beside a `ledger serve`, here in one process) exclude each other;
// releasing or closing lets the others in at once.
func TestSQLiteLocksAcrossStores(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	a, _ := MustSQLiteAt(t, path)
	b := MustOpenSQLite(t, path)
	c, err := readstore.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	name := projector.LockName("élèves/absences.v1")

	heldA, releaseA, ok, err := a.TryAcquire(ctx, name)
	if err != nil || !ok {
		t.Fatalf("a: acquire: %v, %v", ok, err)
	}
	for _, s := range []*readstore.Store{b, c} {
		if _, _, ok, err := s.TryAcquire(ctx, name); ok || err != nil {
			t.Fatalf("acquired a lock a holds: %v, %v", ok, err)
		}
	}
	releaseA()
	if heldA.Err() == nil {
		t.Error("release left the held context running")
	}
	heldC, _, ok, err := c.TryAcquire(ctx, name)
	if err != nil || !ok {
		t.Fatalf("c: acquire after a released: %v, %v", ok, err)
	}
	if _, _, ok, err := a.TryAcquire(ctx, name); ok || err != nil {
		t.Fatalf("a acquired a lock c holds: %v, %v", ok, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if heldC.Err() == nil {
		t.Error("Close left the held context running")
	}
	if _, _, _, err := c.TryAcquire(ctx, name); err == nil {
		t.Error("a closed store acquired a lock")
	}
	_, releaseB, ok, err := b.TryAcquire(ctx, name)
	if err != nil || !ok {
		t.Fatalf("b: acquire after c closed: %v, %v", ok, err)
	}
	releaseB()
	mustNoLeases(t, path)
	if files, err := os.ReadDir(path + ".locks"); err != nil || len(files) != 1 {
		t.Errorf("lock directory holds %d files, %v; want 1", len(files), err)
	}
}

// MustSQLiteAt returns a read store in the file of a SQLite event store at
// path, both closed when the test ends.
func MustSQLiteAt(t testing.TB, path string) (*readstore.Store, *sqlite.Store) {
	t.Helper()
	es, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := readstore.NewSQLite(es.DB(), es.WithTx)
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

// TestSQLiteLockNames: names that differ only by what a file name cannot
// hold get locks of their own, all in the lock directory.
func TestSQLiteLockNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := MustOpenSQLite(t, filepath.Join(dir, "ledger.db"))
	names := []string{
		"a", "A", "a.b", "a/b", "a%2fb", "a\\b", "a:b", ".", "..", "../escape", "/abs", "",
		"élève", "e\u0301le\u0300ve", "a\x00b", "a b", "a~b",
		strings.Repeat("é", 200), strings.Repeat("é", 199) + "e", strings.Repeat("a", 300), strings.Repeat("a", 299) + "b",
	}
	ctx := context.Background()
	for _, name := range names {
		_, release, ok, err := s.TryAcquire(ctx, name)
		if err != nil || !ok {
			t.Fatalf("acquire %q with the others held: %v, %v", name, ok, err)
		}
		defer release()
	}
	files, err := os.ReadDir(filepath.Join(dir, "ledger.db.locks"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(names) {
		t.Errorf("%d lock files for %d names", len(files), len(names))
	}
	// Nothing escaped: the database's directory holds the database and
	// the lock directory only.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	if want := []string{"ledger.db", "ledger.db-shm", "ledger.db-wal", "ledger.db.locks"}; !slices.Equal(got, want) {
		t.Errorf("database directory holds %q, want %q", got, want)
	}
}
