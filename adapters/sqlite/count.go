package sqlite

import (
	"context"
	"fmt"
)

// CountEvents returns the number of events in the log (for progress).
func (s *Store) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}
