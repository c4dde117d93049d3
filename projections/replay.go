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
	if _, err := replay(ctx, log, reg, red, mem, Namespace(red.Name(), 1), replayBatch, progress); err != nil {
		return nil, fmt.Errorf("replay indicators: %w", err)
	}
	// Every page: the operator asked for the whole table.
	queries := NewQueries(mem, mem, log, reg, loc)
	var rows []IndicatorRow
	for after := ""; ; {
		page, err := queries.Indicators(ctx, q, after)
		if err != nil {
			return nil, err
		}
		rows = append(rows, page.Items...)
		if after = page.Next; after == "" {
			return rows, nil
		}
	}
}

// replay applies the whole log to namespace ns of mem through red, batch
// events per in-memory transaction, each with its checkpoint, as the
// projector's catch-up does on a store. It returns how many events it
// applied; progress, when not nil, is called after each batch with that
// count so far.
func replay(ctx context.Context, log Log, reg *domain.Registry, red Reducer, mem *MemoryDocs, ns string, batch int, progress func(done int)) (int, error) {
	pos, err := mem.Checkpoint(ctx, ns)
	if err != nil {
		return 0, err
	}
	var done int
	for {
		recs, err := log.ReadAll(ctx, pos, batch)
		if err != nil || len(recs) == 0 {
			return done, err
		}
		last := recs[len(recs)-1].Position
		err = mem.Update(ctx, ns, func(tx DocTx) error {
			b := NewBatch(tx)
			if err := ApplyAll(ctx, reg, red, b, recs); err != nil {
				return err
			}
			docs, err := b.Changes()
			if err != nil {
				return err
			}
			if err := tx.Put(ctx, docs); err != nil {
				return err
			}
			return tx.SetCheckpoint(ctx, last)
		})
		if err != nil {
			return done, fmt.Errorf("apply up to %s: %w", last, err)
		}
		pos = last
		done += len(recs)
		if progress != nil {
			progress(done)
		}
	}
}
