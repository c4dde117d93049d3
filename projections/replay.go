package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/schoollife/ledger/domain"
)

// replayBatch is how many events a replay applies per in-memory
// transaction: large, since nothing is written to disk.
const replayBatch = 4096

// ReplayIndicators recomputes the usage indicators from history alone: it
// reads the whole log from the start through the indicators reducer into a
// fresh in-memory store, then answers q from it. It never reads the stored
// read models, so its figures are the log's own, and a test asserts they
// equal the stored indicators'. progress, when not nil, is called after
// each batch with the number of events applied so far.
func ReplayIndicators(ctx context.Context, log Log, reg *domain.Registry, loc *time.Location, q IndicatorQuery, progress func(done int)) ([]IndicatorRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	mem := NewMemoryDocs()
	red := NewIndicators(loc)
	run, err := NewRunner(RunnerConfig{
		Log: log, Docs: mem, Gens: mem, Registry: reg, Locker: mem,
		Reducers: []Reducer{red}, BatchSize: replayBatch,
	})
	if err != nil {
		return nil, err
	}
	if _, err := run.CatchUp(ctx, red, Namespace(red.Name(), 1), progress); err != nil {
		return nil, fmt.Errorf("replay indicators: %w", err)
	}
	return NewQueries(mem, mem, log, reg, loc).Indicators(ctx, q)
}
