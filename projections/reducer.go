package projections

import (
	"context"
	"fmt"

	"github.com/schoollife/ledger/domain"
)

// Reducer turns events into documents. Reducers are pure: what they write
// depends only on the documents they read and the event, so the same
// reducer serves every store and any replay.
type Reducer interface {
	// Name is the projection's persisted name ("studentfile.v1"): rebuild
	// under a new name, never rename.
	Name() string
	// Apply folds one event into the batch.
	Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error
}

// Prefetcher is a Reducer that names, for an event, documents its Apply
// will Get. Before applying a batch, ApplyDecoded preloads them for all its
// events at once (Batch.Preload), which on Postgres turns a round trip per
// event into one per collection. Naming a document Apply does not read
// costs a read; not naming one costs nothing but its own Get.
//
// Prefetch is called for every event of the batch in rounds, until a round
// names nothing new (at most prefetchRounds): from the second round on,
// Peek finds the documents preloaded so far, so that a document whose key
// is in another can be named too.
type Prefetcher interface {
	Prefetch(ctx context.Context, b *Batch, rec domain.Record, e domain.Event, want func(coll, key string))
}

// prefetchRounds bounds the rounds of Prefetch calls per batch.
const prefetchRounds = 3

// Generations is where a projection's generations stand: Live serves the
// queries; Building, when not 0, is being rebuilt beside it, and Ready says
// it has caught up once and may be swapped in.
type Generations struct {
	Live     int  `json:"live"`
	Building int  `json:"building"`
	Ready    bool `json:"ready"`
}

// GenerationStore keeps the generations of each projection: the queries
// read which one is live, the projector (projections/projector) moves them.
type GenerationStore interface {
	Generations(ctx context.Context, projection string) (Generations, error)
	SetGenerations(ctx context.Context, projection string, g Generations) error
	DropNamespace(ctx context.Context, ns string) error
}

// ApplyAll decodes records and applies them to a batch in order.
func ApplyAll(ctx context.Context, reg *domain.Registry, red Reducer, b *Batch, recs []domain.Record) error {
	events, err := DecodeAll(reg, recs)
	if err != nil {
		return err
	}
	return ApplyDecoded(ctx, red, b, recs, events)
}

// DecodeAll decodes the events of recs.
func DecodeAll(reg *domain.Registry, recs []domain.Record) ([]domain.Event, error) {
	events := make([]domain.Event, len(recs))
	for i, rec := range recs {
		e, err := reg.DecodeRecord(rec)
		if err != nil {
			return nil, err
		}
		events[i] = e
	}
	return events, nil
}

// ApplyDecoded applies recs, whose events are already decoded, to a batch
// in order, after preloading what a Prefetcher names.
func ApplyDecoded(ctx context.Context, red Reducer, b *Batch, recs []domain.Record, events []domain.Event) error {
	if len(events) != len(recs) {
		return fmt.Errorf("apply: %d events for %d records", len(events), len(recs))
	}
	if p, ok := red.(Prefetcher); ok {
		for range prefetchRounds {
			want := map[string][]string{}
			for i, rec := range recs {
				p.Prefetch(ctx, b, rec, events[i], func(coll, key string) { want[coll] = append(want[coll], key) })
			}
			asked, err := b.Preload(ctx, want)
			if err != nil {
				return err
			}
			if asked == 0 {
				break
			}
		}
	}
	for i, rec := range recs {
		if err := red.Apply(ctx, b, rec, events[i]); err != nil {
			return fmt.Errorf("%s at %s: %w", rec.Type, rec.Position, err)
		}
	}
	return nil
}
