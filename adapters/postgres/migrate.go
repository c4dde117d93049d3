package postgres

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/migrations"
)

// migrateLock is the advisory lock key (per database) that serializes
// Migrate across processes: two nodes starting together apply each
// migration once, the second waiting for the first.
const migrateLock int64 = 0x6c65646765720001 // "ledger", 1

// Migrate applies the Postgres migrations not applied yet, in order, each
// in its own transaction with its row in schema_migrations, so that a
// failed step leaves the steps before it applied and itself not at all.
// It then refuses (ErrAheadOfServer) a log no reader could read: every
// program that opens the store to serve or change it migrates first.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.MigrateTo(ctx, math.MaxInt); err != nil {
		return err
	}
	return checkPositions(ctx, s.pool)
}

// MigrateTo is Migrate stopping after version (inclusive): the upgrade
// tests build their databases of each past schema version with it
// (migrations/testdata).
func (s *Store) MigrateTo(ctx context.Context, version int) error {
	ms, err := migrations.For(migrations.Postgres)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		if m.Version > version {
			break
		}
		if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return apply(ctx, tx, m) }); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, Classify(err))
		}
	}
	return nil
}

func apply(ctx context.Context, tx pgx.Tx, m migrations.Migration) error {
	// Held until the transaction ends, so the check below and the step are
	// atomic with respect to other migrators.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
		return err
	}
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
		return err
	}
	if done {
		return nil
	}
	// Without arguments pgx uses the simple protocol, which runs a file of
	// several statements.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
	return err
}
