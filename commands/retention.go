package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Command names of retention.
const (
	CmdSetRetention           = "SetRetention"
	CmdRecordRetentionApplied = "RecordRetentionApplied"
)

// SetRetention sets how long an establishment keeps a category of data
// (privacy.retention_set.v1, on the stream retention-UAI). Setting what is
// set already records nothing.
func (h *Handlers) SetRetention(ctx context.Context, req Request, cmd domain.SetRetention) (res Result, err error) {
	defer h.observe(CmdSetRetention, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdSetRetention, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, uuid.Nil, domain.RetentionStream(cmd.Establishment), func(_ context.Context, r *domain.Retention) (string, []domain.Event, error) {
		events, err := r.SetRetention(c.actor, cmd)
		return cmd.Establishment, events, err
	})
}

// RecordRetentionApplied records, as the ledger, that a category's data of
// one period expired in an establishment (privacy.retention_applied.v1);
// the caller destroys the keys, or deletes the rows, right after. Give it
// an idempotency key naming the establishment, category and period, so
// that a run interrupted and run again records it once.
func (h *Handlers) RecordRetentionApplied(ctx context.Context, req Request, cmd domain.RecordRetentionApplied) (res Result, err error) {
	defer h.observe(CmdRecordRetentionApplied, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordRetentionApplied, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, uuid.Nil, domain.RetentionStream(cmd.Establishment), func(_ context.Context, r *domain.Retention) (string, []domain.Event, error) {
		events, err := r.RecordRetentionApplied(c.actor, cmd)
		return cmd.Establishment, events, err
	})
}

// RetentionOf returns an establishment's retention settings, as its
// stream holds them.
func (h *Handlers) RetentionOf(ctx context.Context, uai string) (*domain.Retention, error) {
	var r domain.Retention
	if _, err := h.load(ctx, domain.RetentionStream(uai), &r); err != nil {
		return nil, err
	}
	return &r, nil
}
