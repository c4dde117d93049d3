package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// ErrAheadOfServer: the log holds events of transactions the server has
// not reached yet. Positions are (writing transaction id, seq), and
// readers see only events of transactions older than the oldest one
// running (readAllSQL): an event whose transaction id lies ahead of the
// server's counter is invisible to every reader, and events appended now
// would sort before it. It happens when a logical dump (pg_dump) of the
// log is restored into another cluster whose counter is behind the one
// that wrote it: see docs/operations.md, "Postgres: restore".
var ErrAheadOfServer = errors.New("the log's positions lie ahead of the server's transaction counter")

// rowQuerier is what checkPositions reads through: the pool or a
// transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// checkPositions returns ErrAheadOfServer when the newest event's
// transaction id is not below the server's next one (pg_snapshot_xmax:
// every id at or past it is yet to be handed out). It reads one index
// entry.
func checkPositions(ctx context.Context, q rowQuerier) error {
	var last, next string
	err := q.QueryRow(ctx, `SELECT coalesce((SELECT tx_id FROM events ORDER BY tx_id DESC LIMIT 1), '0'::xid8)::text,
  pg_snapshot_xmax(pg_current_snapshot())::text`).Scan(&last, &next)
	if err != nil {
		return fmt.Errorf("check positions: %w", Classify(err))
	}
	l, err := strconv.ParseUint(last, 10, 64)
	if err != nil {
		return fmt.Errorf("check positions: tx_id %q: %w", last, err)
	}
	n, err := strconv.ParseUint(next, 10, 64)
	if err != nil {
		return fmt.Errorf("check positions: next transaction %q: %w", next, err)
	}
	if l >= n {
		return fmt.Errorf("%w: the newest event was written by transaction %d, the server's next transaction is %d; restore a logical dump into a cluster whose counter is past %d (docs/operations.md, \"Postgres: restore\")", ErrAheadOfServer, l, n, l)
	}
	return nil
}
