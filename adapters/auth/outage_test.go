package auth_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/sqlite/sqlitetest"
	"github.com/schoollife/ledger/domain"
)

// MustSQLiteStore opens a SQLite event store in a fresh file, closed when
// the test ends, and a service on it (cfg as the tests' defaults).
func MustSQLiteStore(t *testing.T, cfg auth.Config) (*sqlite.Store, *auth.Service) {
	t.Helper()
	es, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = es.Close() })
	s, err := auth.NewSQLite(es.DB(), es.WithTx, withDefaults(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return es, s
}

// storedSessions counts the account's rows in auth_sessions.
func storedSessions(t *testing.T, es *sqlite.Store, account uuid.UUID) int {
	t.Helper()
	var n int
	if err := es.DB().QueryRow(`SELECT count(*) FROM auth_sessions WHERE account = $1`, account).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSignInOnFullDisk: with the disk full, a sign-in still opens a
// session, kept on this node; it signs in, slides and signs out like any
// other, and is saved to the database at a use once space is back.
func TestSignInOnFullDisk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := NewClock()
	es, s := MustSQLiteStore(t, auth.Config{Now: clock.Now})
	jean := uuid.New()
	MustSetPassword(t, s, jean, "jean", "correct horse battery")
	free := sqlitetest.MustFill(t, es)

	if got, err := s.Authenticate(ctx, "jean", "correct horse battery", "192.0.2.1"); err != nil || got != jean {
		t.Fatalf("authenticate on a full disk: %s, %v", got, err)
	}
	token, ends := MustNewSession(t, s, jean, auth.KindSession)
	if n := storedSessions(t, es, jean); n != 0 {
		t.Fatalf("%d sessions stored on a full disk", n)
	}
	if want := clock.Now().Add(auth.DefaultSessionMax); !ends.Equal(want.UTC().Truncate(time.Millisecond)) {
		t.Errorf("session ends %s, want %s", ends, want)
	}
	clock.Advance(time.Hour)
	got, expires, err := s.ResolveSession(ctx, token)
	if err != nil || got != jean {
		t.Fatalf("resolve a session kept in memory: %s, %v", got, err)
	}
	if want := clock.Now().Add(auth.DefaultSessionIdle); !expires.Equal(want.UTC().Truncate(time.Millisecond)) {
		t.Errorf("expires %s, want %s (slid, in memory)", expires, want)
	}

	// Signed out on this node, it ends.
	other, _ := MustNewSession(t, s, jean, auth.KindSession)
	if err := s.Revoke(ctx, other); err != nil {
		t.Fatalf("sign out on a full disk: %v", err)
	}
	if _, err := s.Resolve(ctx, other); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("after sign-out: %v, want ErrUnauthenticated", err)
	}

	// Space is back: the next use (past the retry period) stores it.
	free()
	clock.Advance(time.Minute)
	if got, err := s.Resolve(ctx, token); err != nil || got != jean {
		t.Fatalf("resolve once space is back: %s, %v", got, err)
	}
	if n := storedSessions(t, es, jean); n != 1 {
		t.Fatalf("%d sessions stored once space is back, want 1", n)
	}
	// Another node (service) on the database now knows it.
	peer, err := auth.NewSQLite(es.DB(), es.WithTx, withDefaults(auth.Config{Now: clock.Now}))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if got, err := peer.Resolve(ctx, token); err != nil || got != jean {
		t.Errorf("resolve on another node: %s, %v", got, err)
	}
}

// TestFullDiskSessionEndsWithPasswordReset: a session kept in memory ends
// when the account's password is reset, even from another node that
// cannot reach it, and is never saved after that.
func TestFullDiskSessionEndsWithPasswordReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := NewClock()
	es, s := MustSQLiteStore(t, auth.Config{Now: clock.Now})
	jean := uuid.New()
	MustSetPassword(t, s, jean, "jean", "correct horse battery")
	free := sqlitetest.MustFill(t, es)
	token, _ := MustNewSession(t, s, jean, auth.KindSession)
	free()

	peer, err := auth.NewSQLite(es.DB(), es.WithTx, withDefaults(auth.Config{Now: clock.Now}))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	clock.Advance(time.Second)
	MustSetPassword(t, peer, jean, "jean", "a brand new password")
	clock.Advance(time.Minute)
	if _, err := s.Resolve(ctx, token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("after a reset on another node: %v, want ErrUnauthenticated", err)
	}
	if n := storedSessions(t, es, jean); n != 0 {
		t.Errorf("%d sessions stored after the reset", n)
	}
}

// TestSessionsDuringOutage: while the database cannot be reached, the
// sessions this node opened or resolved go on signing in, as the
// database last said; a token it never saw fails with the outage, not as
// unauthenticated. Once the database is back, it decides again.
func TestSessionsDuringOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	proxy, dsn := pgtest.MustProxy(t, pgtest.MustDatabase(t))
	es, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = es.Close() })
	if err := es.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := auth.NewPostgres(es.Pool(), withDefaults(auth.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	peer, err := auth.NewPostgres(es.Pool(), withDefaults(auth.Config{})) // another node
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	jean := uuid.New()
	MustSetPassword(t, s, jean, "jean", "correct horse battery")
	opened, _ := MustNewSession(t, s, jean, auth.KindSession)
	seen, _ := MustNewSession(t, peer, jean, auth.KindToken)
	if _, err := s.Resolve(ctx, seen); err != nil {
		t.Fatal(err)
	}
	unseen, _ := MustNewSession(t, peer, jean, auth.KindToken)

	proxy.Cut()
	for name, token := range map[string]string{"opened here": opened, "resolved here": seen} {
		if got, err := s.Resolve(ctx, token); err != nil || got != jean {
			t.Errorf("%s, during the outage: %s, %v", name, got, err)
		}
	}
	if _, err := s.Resolve(ctx, unseen); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("a token never seen here, during the outage: %v, want ErrUnavailable", err)
	}
	if _, err := s.Authenticate(ctx, "jean", "correct horse battery", "192.0.2.1"); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("authenticate during the outage: %v, want ErrUnavailable", err)
	}

	proxy.Restore()
	if err := peer.Revoke(ctx, seen); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(ctx, seen); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("revoked on another node, the database back: %v, want ErrUnauthenticated", err)
	}
	if got, err := s.Resolve(ctx, unseen); err != nil || got != jean {
		t.Errorf("once the database is back: %s, %v", got, err)
	}
}

// TestSlideBacksOffDuringOutage: with the database locked by another
// process past the busy timeout, a session still resolves though its end
// cannot move, and the next uses do not try again for a while: reads
// neither wait for the writer nor log each a failure.
func TestSlideBacksOffDuringOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	es, err := sqlite.Open(ctx, path, sqlite.WithBusyTimeout(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = es.Close() })
	clock := NewClock()
	var logs syncBuffer
	s, err := auth.NewSQLite(es.DB(), es.WithTx, withDefaults(auth.Config{Now: clock.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	jean := uuid.New()
	token, _ := MustNewSession(t, s, jean, auth.KindSession)

	other, err := sql.Open("sqlite", path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil) // another process holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	clock.Advance(time.Hour) // far enough for the end to move
	for range 3 {
		clock.Advance(time.Second)
		if got, err := s.Resolve(ctx, token); err != nil || got != jean {
			t.Fatalf("resolve with the database locked: %s, %v", got, err)
		}
	}
	if n := strings.Count(logs.String(), "session end not moved"); n != 1 {
		t.Errorf("%d failed slides logged, want 1:\n%s", n, logs.String())
	}
}
