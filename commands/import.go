package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Command names of the directory import's feed flags. Persisted: never
// rename.
const (
	CmdFlagMissingFromFeed  = "FlagMissingFromFeed"
	CmdMarkBackInFeed       = "MarkBackInFeed"
	CmdCloseMissingFromFeed = "CloseMissingFromFeed"
)

// presenceCommand runs a decision on one account's stream folded with its
// feed flags.
func (h *Handlers) presenceCommand(ctx context.Context, req Request, name string, account uuid.UUID, decide func(c *call, p *domain.FeedPresence) ([]domain.Event, error)) (Result, error) {
	c, err := h.begin(ctx, req, name)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, account, domain.AccountStream(account), func(_ context.Context, p *domain.FeedPresence) (string, []domain.Event, error) {
		events, err := decide(c, p)
		return p.Establishment, events, err
	})
}

// FlagMissingFromFeed flags an imported account that a full feed no longer
// lists, as of now; feed describes the import.
func (h *Handlers) FlagMissingFromFeed(ctx context.Context, req Request, account uuid.UUID, feed string) (Result, error) {
	return h.presenceCommand(ctx, req, CmdFlagMissingFromFeed, account, func(c *call, p *domain.FeedPresence) ([]domain.Event, error) {
		return p.FlagMissing(c.actor, account, h.now().UTC().Truncate(time.Microsecond), feed)
	})
}

// MarkBackInFeed clears the missing flag of an account a feed lists again.
func (h *Handlers) MarkBackInFeed(ctx context.Context, req Request, account uuid.UUID, feed string) (Result, error) {
	return h.presenceCommand(ctx, req, CmdMarkBackInFeed, account, func(c *call, p *domain.FeedPresence) ([]domain.Event, error) {
		return p.BackInFeed(c.actor, account, feed)
	})
}

// CloseMissingFromFeed closes an account flagged missing for at least grace.
func (h *Handlers) CloseMissingFromFeed(ctx context.Context, req Request, account uuid.UUID, grace time.Duration) (Result, error) {
	return h.presenceCommand(ctx, req, CmdCloseMissingFromFeed, account, func(c *call, p *domain.FeedPresence) ([]domain.Event, error) {
		return p.CloseMissing(c.actor, account, h.now(), grace)
	})
}
