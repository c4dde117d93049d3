package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/schoollife/ledger/domain"
)

// The waits between serve's attempts to open unavailable stores: the
// first, and the longest it doubles up to.
const (
	startFirstWait = 500 * time.Millisecond
	startMaxWait   = 10 * time.Second
)

// openAppWaiting is openWired for serve. While a store is unavailable (it
// refuses connections, has no connection slot left, is starting or
// shutting down: domain.IsUnavailable), it tries again after a wait that
// doubles from half a second up to ten, logging each attempt, until
// cfg.StartTimeout has passed since the first one; then it fails naming
// what it waited for and how long. Anything else (a wrong URL or password,
// a failed migration) fails at once. ctx ending (SIGTERM) ends the wait.
//
// An attempt is not cut short: it ends when the driver gives up. A host
// that drops packets rather than refusing them is best given a
// connect_timeout in its URL.
func openAppWaiting(ctx context.Context, cfg *Config, log *slog.Logger, w wiring) (*app, error) {
	start := time.Now()
	wait := startFirstWait
	for attempt := 1; ; attempt++ {
		a, err := openWired(ctx, cfg, log, w)
		if err == nil || !domain.IsUnavailable(err) {
			return a, err
		}
		waited := time.Since(start)
		left := cfg.StartTimeout - waited
		if left <= 0 {
			return nil, fmt.Errorf("the stores are still unavailable after %s of waiting (--start-timeout %s, %d attempts): %w",
				waited.Round(time.Millisecond), cfg.StartTimeout, attempt, err)
		}
		pause := min(wait, left)
		log.WarnContext(ctx, "store unavailable at start, retrying", "attempt", attempt, "retry_in", pause, "waited", waited.Round(time.Millisecond), "err", err)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("stopped while waiting for the stores: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, startMaxWait)
	}
}
