package main

import (
	"context"
	"time"

	"github.com/schoollife/ledger/commands"
)

// alertEvery is how often serve looks for alerts due: a lesson ended
// without a roll call is its teacher's within a minute.
const alertEvery = time.Minute

// raiseAlerts runs the alert process (docs/notifications.md, "Alerts") on
// every establishment every tick, on the node that holds its lock; the
// alerts' ids make a second node's pass, or a pass repeated after a
// restart, raise nothing twice.
func (a *app) raiseAlerts(ctx context.Context, every time.Duration, now func() time.Time) {
	p := &commands.AlertProcess{Handlers: a.commands, Facts: a.queries, Now: now, Loc: a.loc, Log: a.log}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		held, release, ok, err := a.docs.TryAcquire(ctx, "alerts")
		if err == nil && ok {
			ests, err := a.queries.Establishments(held)
			if err != nil {
				a.log.Warn("alerts: establishments", "err", err)
			}
			for _, e := range ests {
				if _, err := p.Tick(held, e.UAI); err != nil {
					a.log.Warn("alerts", "establishment", e.UAI, "err", err)
				}
			}
			release()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
