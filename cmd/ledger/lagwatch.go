package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// lagEvery is how often serve measures the lag of the projections and of
// the forwarder: a few light queries per projection (its generations, its
// checkpoint, the next event, a bounded count).
const lagEvery = 5 * time.Second

// lagWatch measures, every lagEvery, how far each projection's live
// generation and the forwarder are behind the log, as every node sees it
// in the shared stores, and remembers when each checkpoint last moved.
// /readyz and /metrics read its last measure: neither a probe nor a
// scrape queries the stores for it.
type lagWatch struct {
	runner *projector.Runner
	events projections.Log
	// count counts the events behind (nil: the store cannot, and lags
	// have no count).
	count projector.Counter
	// forwarder reads the forwarder's checkpoint (nil: no forwarder).
	forwarder func(ctx context.Context) (domain.Position, error)
	log       *slog.Logger
	now       func() time.Time

	mu   sync.Mutex
	last lagReport
}

// lagReport is one measure.
type lagReport struct {
	// At is when it was taken (zero: never).
	At time.Time
	// Err is why the last measure failed (the read models could not be
	// read); the samples are then the last good ones.
	Err         error
	Projections map[string]lagSample
	Forwarder   *lagSample
}

// lagSample is a reader's lag, and since when its checkpoint stands where
// it is.
type lagSample struct {
	projector.Lag
	Moved time.Time
}

// stalled reports whether the reader has had events to apply and has not
// moved for at least d, at now.
func (s lagSample) stalled(now time.Time, d time.Duration) bool {
	return s.Behind && now.Sub(s.Moved) >= d
}

func newLagWatch(runner *projector.Runner, events projections.Log, count projector.Counter, forwarder func(context.Context) (domain.Position, error), log *slog.Logger) *lagWatch {
	return &lagWatch{runner: runner, events: events, count: count, forwarder: forwarder, log: log, now: time.Now}
}

// run measures every lagEvery until ctx ends.
func (w *lagWatch) run(ctx context.Context) {
	t := time.NewTicker(lagEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.measure(ctx)
	}
}

// measure takes one measure.
func (w *lagWatch) measure(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*lagEvery)
	defer cancel()
	prev := w.report()
	now := w.now()
	next := lagReport{At: now, Projections: make(map[string]lagSample, len(prev.Projections))}
	moved := func(was *lagSample, l projector.Lag) lagSample {
		if was != nil && was.Position == l.Position {
			return lagSample{Lag: l, Moved: was.Moved}
		}
		return lagSample{Lag: l, Moved: now}
	}
	for _, red := range w.runner.Reducers() {
		name := red.Name()
		l, err := w.runner.Lag(ctx, name, w.count)
		if err != nil {
			w.failed(ctx, prev, fmt.Errorf("projection %s: %w", name, err))
			return
		}
		var was *lagSample
		if s, ok := prev.Projections[name]; ok {
			was = &s
		}
		next.Projections[name] = moved(was, l)
	}
	if w.forwarder != nil {
		pos, err := w.forwarder(ctx)
		var l projector.Lag
		if err == nil {
			l, err = projector.MeasureLag(ctx, w.events, w.count, pos)
		}
		if err != nil {
			w.failed(ctx, prev, fmt.Errorf("forwarder: %w", err))
			return
		}
		s := moved(prev.Forwarder, l)
		next.Forwarder = &s
	}
	if prev.Err != nil {
		w.log.InfoContext(ctx, "projection lags measured again")
	}
	w.mu.Lock()
	w.last = next
	w.mu.Unlock()
}

// failed keeps the last good samples with the failure; it logs when
// measures start failing, not at every one.
func (w *lagWatch) failed(ctx context.Context, prev lagReport, err error) {
	if ctx.Err() != nil && prev.Err == nil {
		return // shutting down
	}
	if prev.Err == nil {
		w.log.WarnContext(ctx, "cannot measure the projections' lag", "err", err)
	}
	w.mu.Lock()
	w.last.Err = err
	w.mu.Unlock()
}

// report returns the last measure.
func (w *lagWatch) report() lagReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}
