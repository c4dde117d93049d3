package auth

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DeleteSessionsEndedBefore deletes the sessions and API tokens whose end
// (ends_at) is before a time, with write running a transaction on the
// database that holds auth_sessions: the retention of connection traces
// (which account held a session, when; docs/privacy.md). A session that
// ended never signs anyone in. It returns how many it deleted.
func DeleteSessionsEndedBefore(ctx context.Context, write func(ctx context.Context, fn func(*sql.Tx) error) error, before time.Time) (int64, error) {
	var n int64
	err := write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE ends_at < $1`, before.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete the sessions ended before %s: %w", before.Format(time.DateOnly), err)
	}
	return n, nil
}
