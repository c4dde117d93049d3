// Package pgtest gives tests a fresh PostgreSQL database of their own, and
// a proxy to it that can cut the server off and bring it back (Proxy).
//
// The server is the one in LEDGER_TEST_POSTGRES (a pgx connection string to
// any database the user may CREATE DATABASE from), by default
// postgres://root@127.0.0.1:5432/postgres, then the local unix socket. When
// no server answers the test is skipped, unless CI=true, where it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable that points the tests at a server.
const EnvDSN = "LEDGER_TEST_POSTGRES"

// defaults are tried in order when EnvDSN is not set.
var defaults = []string{
	"postgres://root@127.0.0.1:5432/postgres?sslmode=disable",
	"host=/var/run/postgresql user=root dbname=postgres",
}

// MustDatabase creates a database for this test alone, drops it when the
// test ends, and returns a connection string to it.
func MustDatabase(t testing.TB) string {
	t.Helper()
	// Generous: tests of several packages create databases at once, on a
	// machine that may be busy.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, dsn := mustConnect(ctx, t)
	defer admin.Close(context.Background())

	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "ledger_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// FORCE: a test that failed half-way may have left connections open.
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(dsn, name)
}

// mustConnect connects to the configured server, or skips (fails on CI).
func mustConnect(ctx context.Context, t testing.TB) (*pgx.Conn, string) {
	t.Helper()
	candidates := defaults
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		candidates = []string{dsn}
	}
	var errs []string
	for _, dsn := range candidates {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		conn, err := pgx.Connect(cctx, dsn)
		cancel()
		if err == nil {
			return conn, dsn
		}
		errs = append(errs, err.Error())
	}
	msg := "pgtest: no PostgreSQL server (" + strings.Join(errs, "; ") + "); start PostgreSQL or set " + EnvDSN + " to a connection string such as postgres://user@host:5432/postgres"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return nil, ""
}

// withDatabase returns dsn pointed at database name, in dsn's own syntax.
func withDatabase(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	// Keyword/value form: a later keyword wins.
	return dsn + " dbname=" + name
}
