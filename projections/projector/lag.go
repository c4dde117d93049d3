package projector

import (
	"context"
	"fmt"
	"time"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Counter counts the events of the log after a position, up to a limit:
// the SQL stores do it in the database.
type Counter interface {
	CountAfter(ctx context.Context, after domain.Position, limit int) (int64, error)
}

// LagCountLimit bounds the events a lag counts: a reader further behind
// is at least this far behind, and counting on would scan the whole
// backlog at every measure.
const LagCountLimit = 100_000

// Lag is how far a reader of the log (a projection's live generation, the
// forwarder) is behind its head, as its checkpoint in the shared
// read-model store says: the same seen from every node.
type Lag struct {
	// Position is the reader's checkpoint.
	Position domain.Position
	// Behind is set when an event after Position is readable: the reader
	// has work waiting. Next is that event's position, Oldest its time.
	Behind bool
	Next   domain.Position
	Oldest time.Time
	// Events counts the events after Position, up to LagCountLimit; -1
	// when the log cannot count them (EventStoreDB).
	Events int64
}

// Seconds is how long, at now, the oldest event the reader has not
// applied has waited (0 when it has none).
func (l Lag) Seconds(now time.Time) float64 {
	if !l.Behind {
		return 0
	}
	return max(0, now.Sub(l.Oldest).Seconds())
}

// MeasureLag measures the lag of a reader whose checkpoint is pos. count
// may be nil: Events is then -1.
func MeasureLag(ctx context.Context, log projections.Log, count Counter, pos domain.Position) (Lag, error) {
	l := Lag{Position: pos, Events: -1}
	recs, err := log.ReadAll(ctx, pos, 1)
	if err != nil {
		return l, fmt.Errorf("lag after %s: %w", pos, err)
	}
	if len(recs) > 0 {
		l.Behind, l.Next, l.Oldest = true, recs[0].Position, recs[0].Metadata.Time
	}
	if count != nil {
		if l.Events, err = count.CountAfter(ctx, pos, LagCountLimit); err != nil {
			return l, fmt.Errorf("lag after %s: %w", pos, err)
		}
	}
	return l, nil
}

// LiveCheckpoint returns the checkpoint of projection name's live
// generation: where the queries of every node read it.
func LiveCheckpoint(ctx context.Context, docs projections.DocStore, gens projections.GenerationStore, name string) (domain.Position, error) {
	g, err := gens.Generations(ctx, name)
	if err != nil {
		return domain.Start, fmt.Errorf("generations of %s: %w", name, err)
	}
	live := max(g.Live, 1) // as the queries read it before the first run
	pos, err := docs.Checkpoint(ctx, projections.Namespace(name, live))
	if err != nil {
		return domain.Start, fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	return pos, nil
}

// Lag measures how far projection name's live generation is behind the
// log. count may be nil (Lag.Events is then -1).
func (r *Runner) Lag(ctx context.Context, name string, count Counter) (Lag, error) {
	pos, err := LiveCheckpoint(ctx, r.cfg.Docs, r.cfg.Gens, name)
	if err != nil {
		return Lag{Position: pos, Events: -1}, err
	}
	return MeasureLag(ctx, r.cfg.Log, count, pos)
}
