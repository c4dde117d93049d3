package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/alerting"
)

// AlertFacts is what the alert process reads: projections.Queries.
type AlertFacts interface {
	AlertFacts(ctx context.Context, uai string, now time.Time) (alerting.Facts, error)
}

// AlertProcess raises the alerts due in an establishment, as the ledger,
// and records handled the forgotten-roll-call alerts whose roll was
// called since. Each alert's id comes from its situation, so running it
// again, on any node, raises nothing twice.
type AlertProcess struct {
	Handlers *Handlers
	Facts    AlertFacts
	// Now is the clock; Loc the establishments' time zone.
	Now func() time.Time
	Loc *time.Location
	Log *slog.Logger
}

// AlertTick is what one pass did.
type AlertTick struct {
	Raised, Resolved int
}

// Tick looks once at establishment uai.
func (p *AlertProcess) Tick(ctx context.Context, uai string) (AlertTick, error) {
	var t AlertTick
	now := p.Now()
	settings, err := p.Handlers.AlertSettings(ctx, uai)
	if err != nil {
		return t, fmt.Errorf("alerts of %s: %w", uai, err)
	}
	facts, err := p.Facts.AlertFacts(ctx, uai, now)
	if err != nil {
		return t, fmt.Errorf("alerts of %s: %w", uai, err)
	}
	due, err := alerting.Evaluate(now, p.Loc, settings, facts)
	if err != nil {
		return t, fmt.Errorf("alerts of %s: %w", uai, err)
	}
	req := Request{System: true}
	resolved := map[[16]byte]bool{}
	for _, id := range alerting.Resolved(facts) {
		resolved[id] = true
	}
	for _, a := range due {
		if resolved[a.ID()] {
			continue
		}
		switch _, err := p.Handlers.RaiseAlert(ctx, req, a); {
		case err == nil:
			t.Raised++
		case errors.Is(err, domain.ErrAlertExists):
		default:
			return t, fmt.Errorf("alerts of %s: %w", uai, err)
		}
	}
	for id := range resolved {
		switch _, err := p.Handlers.HandleAlert(ctx, req, domain.HandleAlert{Alert: id, Action: domain.ActionRollCallDone}); {
		case err == nil:
			t.Resolved++
		case errors.Is(err, domain.ErrAlertHandled):
		default:
			return t, fmt.Errorf("alerts of %s: %w", uai, err)
		}
	}
	if (t.Raised > 0 || t.Resolved > 0) && p.Log != nil {
		p.Log.InfoContext(ctx, "alerts", "establishment", uai, "raised", t.Raised, "resolved", t.Resolved)
	}
	return t, nil
}
