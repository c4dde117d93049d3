package commands

import (
	"context"
	"errors"
	"fmt"

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
// (on the head's decision, or by the ledger at its date); the event stays
// in history. Once it is recorded, the key of the sanction's texts (its
// reason, the council's minutes) is destroyed, so that they read as erased
// wherever the log is read (the inspectors' audit, exports); the
// effacement itself (when, on which basis) and the incident's description
// (another key) stay. A sanction effaced already has its key destroyed
// again, so that a run interrupted between the two is finished by running
// it again.
func (h *Handlers) EffaceSanction(ctx context.Context, req Request, cmd domain.EffaceSanction) (res Result, err error) {
	defer h.observe(CmdEffaceSanction, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdEffaceSanction, cmd)
	if err != nil {
		return Result{}, err
	}
	res, err = onDisciplineFile(ctx, c, cmd.Sanction, cmd.Student, func(_ context.Context, d *domain.Discipline, student *domain.Account) ([]domain.Event, error) {
		return d.EffaceSanction(c.actor, student, cmd)
	})
	if (err != nil && !errors.Is(err, domain.ErrSanctionEffaced)) || h.records == nil {
		return res, err
	}
	if derr := h.records.DestroyRecord(ctx, cmd.Student, domain.RecordSanction, cmd.Sanction); derr != nil {
		return res, fmt.Errorf("%s: the effacement is recorded, the sanction's key is not destroyed (run it again): %w", CmdEffaceSanction, derr)
	}
	return res, err
}
