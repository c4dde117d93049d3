package main

import (
	"context"
	"io"

	"github.com/schoollife/ledger/adapters/erasure"
	"github.com/schoollife/ledger/projections"
)

// erasureJobs returns the jobs that record the erasures administrators ask
// for (API, portal) and scrub after them on this node: the scrub of
// `ledger privacy erase` (scrubbing), one at a time across the nodes (the
// read-model store's lock). A node that starts resumes, once its erasures'
// read model has caught up with the log, the erasures with no scrub
// recorded.
func (a *app) erasureJobs() (*erasure.Jobs, error) {
	return erasure.New(erasure.Config{
		Handlers: a.commands, Records: a.queries, Locker: a.docs, Logger: a.log,
		Scrubber: erasure.ScrubFunc(func(ctx context.Context, progress func(erasure.Progress)) error {
			return a.scrubbing(ctx, io.Discard, online, progress)
		}),
		CaughtUp: func(ctx context.Context) (bool, error) {
			lag, err := a.runner.Lag(ctx, projections.ProjectionErasures, nil)
			return err == nil && !lag.Behind, err
		},
	})
}
