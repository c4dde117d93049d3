package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgdsn"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/projections"
)

// eventStore is what the scenarios need of a store.
type eventStore interface {
	commands.EventStore
	projections.Log
	Close() error
}

var (
	_ eventStore = (*sqlite.Store)(nil)
	_ eventStore = (*postgres.Store)(nil)
)

// benchStore is a store created for one scenario: a SQLite file in the
// run's work directory, or a Postgres database of its own.
type benchStore struct {
	kind string
	// path is the SQLite file; dsn the Postgres database.
	path, dsn string
	sqlite    *sqlite.Store
	pg        *postgres.Store
	docs      *readstore.Store
	// drop removes the file or database (unless --keep).
	drop func(ctx context.Context) error
	pool int // pool_max_conns on Postgres (0: pgx's default)
}

// store returns the open event store.
func (b *benchStore) store() eventStore {
	if b.sqlite != nil {
		return b.sqlite
	}
	return b.pg
}

// spec is the --store value of the ledger binary for this store.
func (b *benchStore) spec() string {
	if b.kind == storeSQLite {
		return "sqlite:" + b.path
	}
	return b.dsn
}

// freshStore creates an empty, migrated store of kind. SQLite options
// apply to the file's first opening (see reopen).
func (e *env) freshStore(ctx context.Context, kind, name string, sqliteOpts ...sqlite.Option) (*benchStore, error) {
	b := &benchStore{kind: kind}
	switch kind {
	case storeSQLite:
		dir, err := os.MkdirTemp(e.work, name+"-")
		if err != nil {
			return nil, err
		}
		b.path = filepath.Join(dir, "ledger.db")
		b.drop = func(context.Context) error {
			if e.cfg.Keep {
				return nil
			}
			return os.RemoveAll(dir)
		}
	case storePostgres:
		dsn, drop, err := e.createDatabase(ctx, name)
		if err != nil {
			return nil, err
		}
		b.dsn, b.drop = dsn, drop
	default:
		return nil, fmt.Errorf("store kind %q", kind)
	}
	b.pool = e.cfg.Pool
	if err := b.open(ctx, sqliteOpts...); err != nil {
		return nil, errors.Join(err, b.drop(context.WithoutCancel(ctx)))
	}
	return b, nil
}

// open opens (and migrates) the store and its read-model store.
func (b *benchStore) open(ctx context.Context, sqliteOpts ...sqlite.Option) error {
	switch b.kind {
	case storeSQLite:
		s, err := sqlite.Open(ctx, b.path, sqliteOpts...)
		if err != nil {
			return err
		}
		docs, err := readstore.NewSQLite(s.DB(), s.WithTx)
		if err != nil {
			return errors.Join(err, s.Close())
		}
		b.sqlite, b.docs = s, docs
	case storePostgres:
		s, err := postgres.Open(ctx, b.dsn, postgres.WithPoolConfig(func(c *pgxpool.Config) {
			if b.pool > 0 {
				c.MaxConns = int32(b.pool)
			}
		}))
		if err != nil {
			return err
		}
		if err := s.Migrate(ctx); err != nil {
			return errors.Join(err, s.Close())
		}
		b.pg, b.docs = s, readstore.NewPostgres(s.Pool())
	}
	return nil
}

// reopen closes the store and opens it again with other SQLite options
// (a history written with synchronous=NORMAL is read back with the
// default, FULL).
// checkpoint writes what the log holds to the data files on Postgres
// (CHECKPOINT: the tool's user must be allowed to). On SQLite, reopen
// does it: the last connection to close checkpoints the WAL.
func (b *benchStore) checkpoint(ctx context.Context) error {
	if b.pg == nil {
		return nil
	}
	_, err := b.pg.Pool().Exec(ctx, `CHECKPOINT`)
	return err
}

func (b *benchStore) reopen(ctx context.Context, sqliteOpts ...sqlite.Option) error {
	if err := b.closeStore(); err != nil {
		return err
	}
	return b.open(ctx, sqliteOpts...)
}

func (b *benchStore) closeStore() error {
	var errs []error
	if b.docs != nil {
		errs = append(errs, b.docs.Close())
		b.docs = nil
	}
	if b.sqlite != nil {
		errs = append(errs, b.sqlite.Close())
		b.sqlite = nil
	}
	if b.pg != nil {
		errs = append(errs, b.pg.Close())
		b.pg = nil
	}
	return errors.Join(errs...)
}

// Close closes the store and drops what it created.
func (b *benchStore) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return errors.Join(b.closeStore(), b.drop(ctx))
}

// createDatabase creates a database on the --postgres server and returns
// its connection string and what drops it.
func (e *env) createDatabase(ctx context.Context, name string) (string, func(context.Context) error, error) {
	admin, err := pgdsn.Connect(ctx, e.cfg.Postgres)
	if err != nil {
		return "", nil, fmt.Errorf("postgres server %s: %w", redact(e.cfg.Postgres), err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	db := "ledger_bench_" + name + "_" + hex.EncodeToString(rnd[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", db, err)
	}
	dsn, err := withDatabase(e.cfg.Postgres, db)
	if err != nil {
		return "", nil, err
	}
	drop := func(ctx context.Context) error {
		if e.cfg.Keep {
			return nil
		}
		conn, err := pgdsn.Connect(ctx, e.cfg.Postgres)
		if err != nil {
			return fmt.Errorf("drop database %s: %w", db, err)
		}
		defer conn.Close(ctx)
		// FORCE: a server or client that died may have left sessions.
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", db, err)
		}
		return nil
	}
	return dsn, drop, nil
}

// withDatabase points a postgres:// URL at database name, keeping its
// parameters (pool_max_conns...).
func withDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("--postgres must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// redact hides a password in a connection URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
