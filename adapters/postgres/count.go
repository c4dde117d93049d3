package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/schoollife/ledger/adapters/groupcommit"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/migrations"
)

// CountEvents returns the number of events in the log (for progress).
func (s *Store) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// countAfterSQL counts the events after a position ($1 tx id as text, $2
// seq; see afterTxSQL), up to $3: committed ones still held back by an
// older transaction included, since a reader has them to apply too.
const countAfterSQL = `SELECT count(*) FROM (SELECT 1 FROM events
WHERE (tx_id, seq) > (` + afterTxSQL + `, $2) LIMIT $3) behind`

// CountAfter returns the number of events after `after`, counting no
// further than limit: how far a projection is behind, at a bounded cost.
func (s *Store) CountAfter(ctx context.Context, after domain.Position, limit int) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, countAfterSQL, strconv.FormatUint(after.Tx, 10), seqArg(after.Seq), limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count events after %s: %w", after, Classify(err))
	}
	return n, nil
}

// SchemaVersion returns the last migration applied to the database and
// the last this binary knows: readiness checks that they agree.
func (s *Store) SchemaVersion(ctx context.Context) (applied, known int, err error) {
	all, err := migrations.For(migrations.Postgres)
	if err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	if len(all) == 0 {
		return 0, 0, errors.New("schema version: no migrations")
	}
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", Classify(err))
	}
	return applied, all[len(all)-1].Version, nil
}

// ObserveGroups makes o be told of every group of appends committed (the
// metrics of `serve`).
func (s *Store) ObserveGroups(o groupcommit.Observer) { s.group.Observe(o) }
