package commands

import (
	"context"

	"github.com/schoollife/ledger/domain"
)

// Command names of the article aggregate.
const (
	CmdPublishArticle  = "PublishArticle"
	CmdAmendArticle    = "AmendArticle"
	CmdWithdrawArticle = "WithdrawArticle"
)

// PublishArticle publishes news; an unset cmd.Article gets a new id.
func (h *Handlers) PublishArticle(ctx context.Context, req Request, cmd domain.PublishArticle) (res Result, err error) {
	defer h.observe(CmdPublishArticle, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdPublishArticle, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Article = c.newID(cmd.Article)
	return execute(ctx, c, cmd.Article, domain.ArticleStream(cmd.Article), func(ctx context.Context, a *domain.Article) (string, []domain.Event, error) {
		var est domain.Establishment
		if err := c.loadInto(ctx, domain.EstablishmentStream(cmd.Establishment), &est); err != nil {
			return "", nil, err
		}
		events, err := a.Publish(c.actor, &est, cmd)
		return cmd.Establishment, events, err
	})
}

// AmendArticle changes an article's title and body; it appends nothing when
// nothing changes.
func (h *Handlers) AmendArticle(ctx context.Context, req Request, cmd domain.AmendArticle) (res Result, err error) {
	defer h.observe(CmdAmendArticle, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdAmendArticle, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Article, domain.ArticleStream(cmd.Article), func(_ context.Context, a *domain.Article) (string, []domain.Event, error) {
		events, err := a.Amend(c.actor, cmd)
		return a.Establishment, events, err
	})
}

// WithdrawArticle withdraws an article.
func (h *Handlers) WithdrawArticle(ctx context.Context, req Request, cmd domain.WithdrawArticle) (res Result, err error) {
	defer h.observe(CmdWithdrawArticle, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdWithdrawArticle, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Article, domain.ArticleStream(cmd.Article), func(_ context.Context, a *domain.Article) (string, []domain.Event, error) {
		events, err := a.Withdraw(c.actor, cmd)
		return a.Establishment, events, err
	})
}
