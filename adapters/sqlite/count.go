package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/schoollife/ledger/adapters/groupcommit"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/migrations"
)

// CountEvents returns the number of events in the log (for progress).
func (s *Store) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// CountAfter returns the number of events after `after`, counting no
// further than limit: how far a projection is behind, at a bounded cost.
func (s *Store) CountAfter(ctx context.Context, after domain.Position, limit int) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM events WHERE position > ? LIMIT ?)`,
		clamp(after.Seq), limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count events after %s: %w", after, Classify(err))
	}
	return n, nil
}

// SchemaVersion returns the last migration applied to the database and
// the last this binary knows: readiness checks that they agree.
func (s *Store) SchemaVersion(ctx context.Context) (applied, known int, err error) {
	all, err := migrations.For(migrations.SQLite)
	if err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	if len(all) == 0 {
		return 0, 0, errors.New("schema version: no migrations")
	}
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", Classify(err))
	}
	return applied, all[len(all)-1].Version, nil
}

// ObserveGroups makes o be told of every group of appends committed (the
// metrics of `serve`).
func (s *Store) ObserveGroups(o groupcommit.Observer) { s.group.Observe(o) }
