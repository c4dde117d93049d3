package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Command names of the homework aggregate. Persisted: never rename.
const (
	CmdAssignHomework   = "AssignHomework"
	CmdAmendHomework    = "AmendHomework"
	CmdWithdrawHomework = "WithdrawHomework"
	CmdMarkHomeworkDone = "MarkHomeworkDone"
)

// AssignHomework gives homework to a group; an unset cmd.Homework gets a
// new id (the same one on a retry with the same idempotency key).
func (h *Handlers) AssignHomework(ctx context.Context, req Request, cmd domain.AssignHomework) (res Result, err error) {
	defer h.observe(CmdAssignHomework, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdAssignHomework, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Homework = c.newID(cmd.Homework)
	return execute(ctx, c, cmd.Homework, domain.HomeworkStream(cmd.Homework), func(ctx context.Context, hw *domain.Homework) (string, []domain.Event, error) {
		var g domain.Group
		if err := c.loadGroup(ctx, &g, cmd.Group); err != nil {
			return "", nil, err
		}
		events, err := hw.Assign(c.actor, &g, cmd)
		return g.Establishment, events, err
	})
}

// homeworkCommand runs a decision on an existing homework, with its group.
func (h *Handlers) homeworkCommand(ctx context.Context, req Request, name string, payload any, id uuid.UUID, decide func(c *call, hw *domain.Homework, g *domain.Group) ([]domain.Event, error)) (Result, error) {
	c, err := h.begin(ctx, req, name, payload)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, id, domain.HomeworkStream(id), func(ctx context.Context, hw *domain.Homework) (string, []domain.Event, error) {
		if !hw.Exists {
			return "", nil, domain.Errorf(domain.ErrHomeworkNotFound, "%s", id)
		}
		var g domain.Group
		if err := c.loadGroup(ctx, &g, hw.Group); err != nil {
			return "", nil, err
		}
		events, err := decide(c, hw, &g)
		return g.Establishment, events, err
	})
}

// AmendHomework changes a homework's due date, instructions or workload; it
// appends nothing when nothing changes.
func (h *Handlers) AmendHomework(ctx context.Context, req Request, cmd domain.AmendHomework) (res Result, err error) {
	defer h.observe(CmdAmendHomework, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.homeworkCommand(ctx, req, CmdAmendHomework, cmd, cmd.Homework, func(c *call, hw *domain.Homework, g *domain.Group) ([]domain.Event, error) {
		return hw.Amend(c.actor, g, cmd)
	})
}

// WithdrawHomework withdraws a homework.
func (h *Handlers) WithdrawHomework(ctx context.Context, req Request, cmd domain.WithdrawHomework) (res Result, err error) {
	defer h.observe(CmdWithdrawHomework, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.homeworkCommand(ctx, req, CmdWithdrawHomework, cmd, cmd.Homework, func(c *call, hw *domain.Homework, g *domain.Group) ([]domain.Event, error) {
		return hw.Withdraw(c.actor, g, cmd)
	})
}

// MarkHomeworkDone records the acting student marking a homework done.
func (h *Handlers) MarkHomeworkDone(ctx context.Context, req Request, cmd domain.MarkHomeworkDone) (res Result, err error) {
	defer h.observe(CmdMarkHomeworkDone, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.homeworkCommand(ctx, req, CmdMarkHomeworkDone, cmd, cmd.Homework, func(c *call, hw *domain.Homework, g *domain.Group) ([]domain.Event, error) {
		return hw.MarkDone(c.actor, g, cmd)
	})
}
