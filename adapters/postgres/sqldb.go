package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// SQLDB opens a database/sql handle over pool, for the stores that keep
// their tables in the event store's database through database/sql (read
// models, credentials, the subjects' keys), and returns it with the
// function that runs fn in one transaction on it: committed when fn
// returns nil, rolled back otherwise. Closing the handle leaves the pool
// open.
func SQLDB(pool *pgxpool.Pool) (*sql.DB, func(ctx context.Context, fn func(*sql.Tx) error) error) {
	db := stdlib.OpenDBFromPool(pool)
	return db, func(ctx context.Context, fn func(*sql.Tx) error) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			// database/sql already ended the transaction when the context
			// was cancelled: that rollback's error says nothing.
			if rb := tx.Rollback(); rb != nil && !errors.Is(rb, sql.ErrTxDone) {
				return errors.Join(err, rb)
			}
			return err
		}
		return tx.Commit()
	}
}
