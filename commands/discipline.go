package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Command names of the discipline aggregate.
const (
	CmdGivePunishment    = "GivePunishment"
	CmdPronounceSanction = "PronounceSanction"
	CmdAnnulSanction     = "AnnulSanction"
	CmdRevokeSursis      = "RevokeSursis"
	CmdEffaceSanction    = "EffaceSanction"
)

// onDisciplineFile runs a decision on a student's discipline stream, with
// the student's account; the act belongs to the student's establishment.
// id is the act the command creates or acts on.
func onDisciplineFile(ctx context.Context, c *call, id, student uuid.UUID, decide func(ctx context.Context, d *domain.Discipline, student *domain.Account) ([]domain.Event, error)) (Result, error) {
	return execute(ctx, c, id, domain.DisciplineStream(student), func(ctx context.Context, d *domain.Discipline) (string, []domain.Event, error) {
		var acc domain.Account
		if err := c.loadInto(ctx, domain.AccountStream(student), &acc); err != nil {
			return "", nil, err
		}
		events, err := decide(ctx, d, &acc)
		return acc.Establishment, events, err
	})
}

// GivePunishment gives a student a punishment; an unset cmd.Punishment gets
// a new id (derived from the idempotency key when there is one).
func (h *Handlers) GivePunishment(ctx context.Context, req Request, cmd domain.GivePunishment) (res Result, err error) {
	defer h.observe(CmdGivePunishment, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdGivePunishment, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Punishment = c.newID(cmd.Punishment)
	return onDisciplineFile(ctx, c, cmd.Punishment, cmd.Student, func(ctx context.Context, d *domain.Discipline, student *domain.Account) ([]domain.Event, error) {
		var g domain.Group
		if cmd.Group != uuid.Nil {
			if err := c.loadInto(ctx, domain.GroupStream(cmd.Group), &g); err != nil {
				return nil, err
			}
		}
		return d.GivePunishment(c.actor, student, &g, cmd)
	})
}

// PronounceSanction records a sanction pronounced by the head; an unset
// cmd.Sanction gets a new id (derived from the idempotency key when there
// is one).
func (h *Handlers) PronounceSanction(ctx context.Context, req Request, cmd domain.PronounceSanction) (res Result, err error) {
	defer h.observe(CmdPronounceSanction, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdPronounceSanction, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Sanction = c.newID(cmd.Sanction)
	return onDisciplineFile(ctx, c, cmd.Sanction, cmd.Student, func(ctx context.Context, d *domain.Discipline, student *domain.Account) ([]domain.Event, error) {
		var inc domain.Incident
		if cmd.Incident != uuid.Nil {
			if err := c.loadInto(ctx, domain.IncidentStream(cmd.Incident), &inc); err != nil {
				return nil, err
			}
		}
		return d.PronounceSanction(c.actor, student, &inc, cmd)
	})
}

// AnnulSanction annuls a sanction; it stays in the student's history.
func (h *Handlers) AnnulSanction(ctx context.Context, req Request, cmd domain.AnnulSanction) (res Result, err error) {
	defer h.observe(CmdAnnulSanction, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdAnnulSanction, cmd)
	if err != nil {
		return Result{}, err
	}
	return onDisciplineFile(ctx, c, cmd.Sanction, cmd.Student, func(_ context.Context, d *domain.Discipline, student *domain.Account) ([]domain.Event, error) {
		return d.AnnulSanction(c.actor, student, cmd)
	})
}

// RevokeSursis revokes the sursis of a sanction, which is then carried out.
func (h *Handlers) RevokeSursis(ctx context.Context, req Request, cmd domain.RevokeSursis) (res Result, err error) {
	defer h.observe(CmdRevokeSursis, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRevokeSursis, cmd)
	if err != nil {
		return Result{}, err
	}
	return onDisciplineFile(ctx, c, cmd.Sanction, cmd.Student, func(_ context.Context, d *domain.Discipline, student *domain.Account) ([]domain.Event, error) {
		return d.RevokeSursis(c.actor, student, cmd)
	})
}

// EffaceSanction effaces a sanction from the student's administrative file
// before its date, on the head's decision; the event stays in history.
func (h *Handlers) EffaceSanction(ctx context.Context, req Request, cmd domain.EffaceSanction) (res Result, err error) {
	defer h.observe(CmdEffaceSanction, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdEffaceSanction, cmd)
	if err != nil {
		return Result{}, err
	}
	return onDisciplineFile(ctx, c, cmd.Sanction, cmd.Student, func(_ context.Context, d *domain.Discipline, student *domain.Account) ([]domain.Event, error) {
		return d.EffaceSanction(c.actor, student, cmd)
	})
}
