package postgres

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/domain"
)

// TestClassify: the errors of a server out of reach, out of connection
// slots, shutting down or out of disk are outages; the errors of a wrong
// query, a wrong database or a caller giving up are not. Most are the
// driver's own, produced against the server.
func TestClassify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.MustDatabase(t)
	_, proxied := pgtest.MustProxy(t, dsn)

	connect := func(t *testing.T, dsn string) (*pgx.Conn, error) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return pgx.Connect(cctx, dsn)
	}
	mustConnect := func(t *testing.T, dsn string) *pgx.Conn {
		t.Helper()
		c, err := connect(t, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	query := func(c *pgx.Conn, sql string) error {
		_, err := c.Exec(ctx, sql)
		return err
	}

	for _, tc := range []struct {
		name string
		err  func(t *testing.T) error
		want error // domain.ErrUnavailable, domain.ErrStoreFull, or nil for none
	}{
		{"nil", func(*testing.T) error { return nil }, nil},
		{"connection refused", func(t *testing.T) error {
			p, refused := pgtest.MustProxy(t, dsn)
			p.Cut()
			_, err := connect(t, refused)
			return err
		}, domain.ErrUnavailable},
		{"connection dropped", func(t *testing.T) error {
			p, through := pgtest.MustProxy(t, dsn)
			c := mustConnect(t, through)
			p.Cut()
			return query(c, `SELECT 1`)
		}, domain.ErrUnavailable},
		{"terminated by an administrator (57P01)", func(t *testing.T) error {
			c := mustConnect(t, dsn)
			var pid uint32
			if err := c.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				t.Fatal(err)
			}
			admin := mustConnect(t, dsn)
			if err := query(admin, fmt.Sprintf(`SELECT pg_terminate_backend(%d)`, pid)); err != nil {
				t.Fatal(err)
			}
			return query(c, `SELECT 1`)
		}, domain.ErrUnavailable},
		{"too many connections (53300)", func(t *testing.T) error {
			role := mustRole(t, mustConnect(t, dsn), "CONNECTION LIMIT 0")
			u, _ := url.Parse(dsn)
			u.User = url.User(role)
			_, err := connect(t, u.String())
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "53300" {
				t.Fatalf("connect as a role without connections: %v, want SQLSTATE 53300", err)
			}
			return err
		}, domain.ErrUnavailable},
		{"disk full (53100)", func(*testing.T) error {
			return fmt.Errorf("append x: %w", &pgconn.PgError{Severity: "ERROR", Code: "53100", Message: "could not extend file"})
		}, domain.ErrStoreFull},
		{"broken connection (database/sql)", func(*testing.T) error {
			return fmt.Errorf("resolve token: %w", driver.ErrBadConn)
		}, domain.ErrUnavailable},
		{"starting up (57P03)", func(*testing.T) error {
			return &pgconn.PgError{Severity: "FATAL", Code: "57P03", Message: "the database system is starting up"}
		}, domain.ErrUnavailable},
		{"unknown database (3D000)", func(t *testing.T) error {
			u, _ := url.Parse(proxied)
			u.Path = "/no_such_database_" + rand.Text()
			_, err := connect(t, u.String())
			return err
		}, nil},
		{"syntax error", func(t *testing.T) error { return query(mustConnect(t, proxied), `SELEKT 1`) }, nil},
		{"unique violation", func(t *testing.T) error {
			c := mustConnect(t, proxied)
			return query(c, `CREATE TEMP TABLE u (k int PRIMARY KEY); INSERT INTO u VALUES (1), (1)`)
		}, nil},
		{"cancelled", func(t *testing.T) error {
			c := mustConnect(t, proxied)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := c.Exec(cctx, `SELECT 1`)
			return err
		}, nil},
		{"caller's deadline", func(t *testing.T) error {
			c := mustConnect(t, proxied)
			cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			_, err := c.Exec(cctx, `SELECT pg_sleep(60)`)
			return err
		}, nil},
		{"already a domain error", func(*testing.T) error {
			return domain.Errorf(domain.ErrVersionConflict, "x")
		}, domain.ErrVersionConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cause := tc.err(t)
			t.Logf("cause: %v", cause)
			got := Classify(cause)
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
			if again := Classify(got); again != got {
				t.Errorf("classified twice: %v", again)
			}
		})
	}
}

// mustRole creates a login role with options, dropped when the test ends,
// and returns its name.
func mustRole(t *testing.T, admin *pgx.Conn, options string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	role := "ledger_test_role_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(context.Background(), `CREATE ROLE `+role+` LOGIN `+options); err != nil {
		t.Skipf("cannot create a role to test with (%v): run as a role with CREATEROLE", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin.Config().ConnString())
		if err != nil {
			t.Errorf("drop role %s: %v", role, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP ROLE IF EXISTS `+role); err != nil {
			t.Errorf("drop role %s: %v", role, err)
		}
	})
	return role
}

// TestStoreOutage: the store's appends and reads fail as outages while
// the server is out of reach, and work again once it is back, on the same
// Store: nothing to reopen.
func TestStoreOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	proxy, dsn := pgtest.MustProxy(t, pgtest.MustDatabase(t))
	s := MustOpen(t, dsn)
	t.Cleanup(func() { s.Close() })
	mustAppend(t, s, "ledger.outage-1", domain.NoStream(), newEvents(1))

	proxy.Cut()
	_, err := s.Append(ctx, "ledger.outage-1", domain.Exact(1), newEvents(1))
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("append while the server is out of reach: %v, want ErrUnavailable", err)
	}
	if _, err := s.ReadStream(ctx, "ledger.outage-1", 0); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("read a stream: %v, want ErrUnavailable", err)
	}
	if _, err := s.ReadAll(ctx, domain.Start, 10); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("read the log: %v, want ErrUnavailable", err)
	}
	if _, err := Open(ctx, dsn); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("open: %v, want ErrUnavailable", err)
	}

	proxy.Restore()
	mustAppend(t, s, "ledger.outage-1", domain.Exact(1), newEvents(1))
	if recs, err := s.ReadStream(ctx, "ledger.outage-1", 0); err != nil || len(recs) != 2 {
		t.Errorf("after the outage: %d events, %v; want 2", len(recs), err)
	}
}

// TestPoolExhausted: a read that finds no free connection of the pool
// before its deadline is an outage; a read whose caller has already given
// up is not.
func TestPoolExhausted(t *testing.T) {
	t.Parallel()
	s := MustOpen(t, pgtest.MustDatabase(t), WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = 1 }))
	t.Cleanup(func() { s.Close() })
	held, err := s.Pool().Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.ReadStream(ctx, "ledger.exhausted-1", 0); !errors.Is(err, domain.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read with every connection busy: %v, want ErrUnavailable", err)
	}
	if _, err := s.ReadAll(ctx, domain.Start, 1); domain.IsUnavailable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read after the deadline: %v, want the deadline alone", err)
	}
	held.Release()
	if _, err := s.ReadStream(context.Background(), "ledger.exhausted-1", 0); err != nil {
		t.Errorf("read once a connection is free: %v", err)
	}
}
