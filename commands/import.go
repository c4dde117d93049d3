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
	CmdRecordForcedImport   = "RecordForcedImport"
)

// presenceCommand runs a decision on one account's stream folded with its
// feed flags.
func (h *Handlers) presenceCommand(ctx context.Context, req Request, name string, payload any, account uuid.UUID, decide func(c *call, p *domain.FeedPresence) ([]domain.Event, error)) (Result, error) {
	c, err := h.begin(ctx, req, name, payload)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, account, domain.AccountStream(account), func(_ context.Context, p *domain.FeedPresence) (string, []domain.Event, error) {
		events, err := decide(c, p)
		return p.Establishment, events, err
	})
}

// FlagMissingFromFeed flags an imported account that a full feed no longer
// lists, as of now.
func (h *Handlers) FlagMissingFromFeed(ctx context.Context, req Request, cmd domain.FlagMissingFromFeed) (res Result, err error) {
	defer h.observe(CmdFlagMissingFromFeed, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.presenceCommand(ctx, req, CmdFlagMissingFromFeed, cmd, cmd.Account, func(c *call, p *domain.FeedPresence) ([]domain.Event, error) {
		return p.FlagMissing(c.actor, cmd.Account, h.now().UTC().Truncate(time.Microsecond), cmd.Feed)
	})
}

// MarkBackInFeed clears the missing flag of an account a feed lists again.
func (h *Handlers) MarkBackInFeed(ctx context.Context, req Request, cmd domain.MarkBackInFeed) (res Result, err error) {
	defer h.observe(CmdMarkBackInFeed, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.presenceCommand(ctx, req, CmdMarkBackInFeed, cmd, cmd.Account, func(c *call, p *domain.FeedPresence) ([]domain.Event, error) {
		return p.BackInFeed(c.actor, cmd.Account, cmd.Feed)
	})
}

// CloseMissingFromFeed closes an account flagged missing for at least
// cmd.Grace.
func (h *Handlers) CloseMissingFromFeed(ctx context.Context, req Request, cmd domain.CloseMissingFromFeed) (res Result, err error) {
	defer h.observe(CmdCloseMissingFromFeed, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.presenceCommand(ctx, req, CmdCloseMissingFromFeed, cmd, cmd.Account, func(c *call, p *domain.FeedPresence) ([]domain.Event, error) {
		return p.CloseMissing(c.actor, cmd.Account, h.now(), cmd.Grace)
	})
}

// RecordForcedImport records on the import's stream that it was forced past
// its guards.
func (h *Handlers) RecordForcedImport(ctx context.Context, req Request, cmd domain.RecordForcedImport) (res Result, err error) {
	defer h.observe(CmdRecordForcedImport, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordForcedImport, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Import, domain.ImportStream(cmd.Import), func(_ context.Context, r *domain.ImportRecord) (string, []domain.Event, error) {
		events, err := r.Force(c.actor, cmd)
		uai := ""
		if len(cmd.Establishments) == 1 {
			uai = cmd.Establishments[0]
		}
		return uai, events, err
	})
}
