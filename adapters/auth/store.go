package auth

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/schoollife/ledger/adapters/postgres"
	sqlitestore "github.com/schoollife/ledger/adapters/sqlite"
)

// dialect is what differs between SQLite and Postgres: the queries
// themselves are the same ($n placeholders, ON CONFLICT, integer times).
type dialect struct {
	// unique reports whether err is a unique constraint violation.
	unique func(err error) bool
	// outage marks the database's outages (its store adapter's Classify).
	outage func(err error) error
}

// NewSQLite returns a service on a SQLite database: read runs queries (a
// pool, read-only is fine), write runs fn in a write transaction and
// commits it if fn returns nil. With adapters/sqlite, pass the event
// store's DB and WithTx: the tables are in the events' file, created by
// its migrations, and writes are serialized with appends.
func NewSQLite(read *sql.DB, write func(ctx context.Context, fn func(*sql.Tx) error) error, cfg Config) (*Service, error) {
	return newService(read, write, dialect{unique: sqliteUnique, outage: sqlitestore.Classify}, cfg)
}

func sqliteUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// NewPostgres returns a service on pool, which it shares (with the event
// store: adapters/postgres exposes Pool, and its migrations create the
// tables). Close leaves the pool open.
func NewPostgres(pool *pgxpool.Pool, cfg Config) (*Service, error) {
	db, write := postgres.SQLDB(pool)
	s, err := newService(db, write, dialect{unique: pgUnique, outage: postgres.Classify}, cfg)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s.closeDB = db.Close
	return s, nil
}

func pgUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
