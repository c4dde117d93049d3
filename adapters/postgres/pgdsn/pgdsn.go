// Package pgdsn reads the ledger's Postgres connection strings for plain
// connections: one pgx.Conn, or a database/sql pool over pgx.
//
// The ledger's URLs may carry pgxpool's parameters (pool_max_conns,
// pool_min_conns, ..., documented in the README): they configure a pool,
// not the server. pgx.ParseConfig keeps any parameter it does not know as
// a run-time setting to send to the server, which then refuses the
// connection ("unrecognized configuration parameter"). Every connection
// that is not a pgxpool.Pool is configured here, so that no component
// sends them. pgxpool.ParseConfig itself removes them from the
// connection's configuration: a pool's connections are safe already.
package pgdsn

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ConnConfig parses dsn as pgx.ParseConfig does, without the pool's
// parameters.
func ConnConfig(dsn string) (*pgx.ConnConfig, error) {
	// pgxpool knows its parameters and strips them; what is left is the
	// connection's configuration, parsed by pgx.ParseConfig.
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return pc.ConnConfig, nil
}

// Connect opens one connection to dsn, without the pool's parameters.
func Connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cc, err := ConnConfig(dsn)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cc)
}
