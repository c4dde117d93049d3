package webtest

import (
	"context"

	"github.com/schoollife/ledger/adapters/erasure"
	"github.com/schoollife/ledger/commands"
)

// ErasureJobs returns erasure jobs of h over the world's read side, run
// until the test ends. Their scrub does nothing but report one step: the
// world's read models are in memory, and the scrub of the real stores is
// cmd/ledger's, tested there.
func (w *World) ErasureJobs(h *commands.Handlers) *erasure.Jobs {
	w.T.Helper()
	jobs, err := erasure.New(erasure.Config{
		Handlers: h, Records: w.Queries, Locker: w.Docs, Now: w.Clock,
		Scrubber: erasure.ScrubFunc(func(_ context.Context, progress func(erasure.Progress)) error {
			progress(erasure.Progress{Step: "compact"})
			return nil
		}),
	})
	if err != nil {
		w.T.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		jobs.Run(ctx)
	}()
	w.T.Cleanup(func() {
		cancel()
		<-done
	})
	return jobs
}
