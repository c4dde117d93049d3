package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PurgeBus deletes the messages of the bus tables of this database
// (watermill_*, adapters/bus) created more than olderThan ago: they carry the
// payloads of events as they were read, personal fields in clear. The bus
// is a live channel (history is read from the log), so a message older
// than a node's poll is delivered already. It returns how many it deleted.
func (s *Store) PurgeBus(ctx context.Context, olderThan time.Duration) (int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT tablename FROM pg_tables
		WHERE schemaname = current_schema() AND tablename LIKE 'watermill\_%' AND tablename NOT LIKE 'watermill\_offsets\_%'`)
	if err != nil {
		return 0, fmt.Errorf("purge bus: %w", Classify(err))
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("purge bus: %w", Classify(err))
	}
	var n int64
	for _, t := range tables {
		tag, err := s.pool.Exec(ctx, `DELETE FROM `+pgx.Identifier{t}.Sanitize()+` WHERE created_at < LOCALTIMESTAMP - make_interval(secs => $1)`, olderThan.Seconds())
		if err != nil {
			return n, fmt.Errorf("purge bus %s: %w", t, Classify(err))
		}
		n += tag.RowsAffected()
	}
	return n, nil
}

// Compact rewrites (VACUUM FULL) every table of the ledger's schema but
// the log's own (events, streams, seals), so that the bytes of deleted or
// updated rows (read models rebuilt after an erasure, a destroyed key,
// purged bus messages) leave the table files. Each table is locked while
// it is rewritten. The server's write-ahead log (pg_wal) and its backups
// keep those bytes until they are recycled: see docs/privacy.md.
func (s *Store) Compact(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT tablename FROM pg_tables
		WHERE schemaname = current_schema() AND tablename NOT IN ('events', 'streams', 'seals', 'schema_migrations')
		ORDER BY tablename`)
	if err != nil {
		return nil, fmt.Errorf("compact: %w", Classify(err))
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("compact: %w", Classify(err))
	}
	for _, t := range tables {
		if _, err := s.pool.Exec(ctx, `VACUUM FULL `+pgx.Identifier{t}.Sanitize()); err != nil {
			return nil, fmt.Errorf("compact %s: %w", t, Classify(err))
		}
	}
	return tables, nil
}
