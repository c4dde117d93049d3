package projections

import (
	"context"

	"github.com/schoollife/ledger/domain"
)

// Log is what the projector needs of the event store: the global log, in
// order, from a checkpoint.
type Log interface {
	// ReadAll returns up to limit events whose position is after `after`, in
	// global order. It never returns an event while an event before it may
	// still commit: a reader that checkpoints the last position it got never
	// skips one.
	ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error)
	// Wait blocks until events after `after` may be readable, ctx is done
	// (it then returns ctx.Err()) or about a second has passed. Spurious
	// returns are allowed: callers read again and wait again.
	Wait(ctx context.Context, after domain.Position) error
}
