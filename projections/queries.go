package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/schoollife/ledger/domain"
)

// Queries is the read side the HTTP layer and the portal use: one method
// per question, each reading the live generation of the projections it
// needs. Queries do not authorize: callers apply the domain's policy (see
// docs/read-models.md).
type Queries struct {
	docs DocStore
	gens GenerationStore
	log  Log
	reg  *domain.Registry
	loc  *time.Location
}

// NewQueries returns the read side over a read-model store. log and reg
// serve the audit queries, which read history itself; loc is the
// establishments' time zone (Europe/Paris).
func NewQueries(docs DocStore, gens GenerationStore, log Log, reg *domain.Registry, loc *time.Location) *Queries {
	if loc == nil {
		loc = time.UTC
	}
	return &Queries{docs: docs, gens: gens, log: log, reg: reg, loc: loc}
}

// reader returns a reader of the live generation of projection.
func (q *Queries) reader(ctx context.Context, projection string) (DocReader, error) {
	g, err := q.gens.Generations(ctx, projection)
	if err != nil {
		return nil, fmt.Errorf("generations of %s: %w", projection, err)
	}
	live := g.Live
	if live == 0 {
		live = 1 // not started yet: reads find nothing
	}
	return q.docs.Reader(Namespace(projection, live)), nil
}
