package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Command names of the lesson aggregate.
const (
	CmdRecordRollCall       = "RecordRollCall"
	CmdCancelAbsence        = "CancelAbsence"
	CmdDeclareAbsenceReason = "DeclareAbsenceReason"
	CmdDecideJustification  = "DecideJustification"
	CmdRecordLessonContent  = "RecordLessonContent"
)

// loadGroup folds a group's stream; an unknown group is an error.
func (c *call) loadGroup(ctx context.Context, g *domain.Group, id uuid.UUID) error {
	if err := c.loadInto(ctx, domain.GroupStream(id), g); err != nil {
		return err
	}
	if !g.Exists {
		return domain.Errorf(domain.ErrUnknownGroup, "%s", id)
	}
	return nil
}

// RecordRollCall records the roll call of a lesson: one command, one append
// of the roll call and each absence and lateness, whatever the class size.
func (h *Handlers) RecordRollCall(ctx context.Context, req Request, cmd domain.RecordRollCall) (res Result, err error) {
	defer h.observe(CmdRecordRollCall, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordRollCall, cmd)
	if err != nil {
		return Result{}, err
	}
	lesson := cmd.LessonID()
	return execute(ctx, c, lesson, domain.LessonStream(lesson), func(ctx context.Context, l *domain.Lesson) (string, []domain.Event, error) {
		var g domain.Group
		if err := c.loadGroup(ctx, &g, cmd.Group); err != nil {
			return "", nil, err
		}
		events, err := l.RecordRollCall(c.actor, &g, cmd)
		return g.Establishment, events, err
	})
}

// lessonCommand runs a decision on an existing lesson, with its group.
func (h *Handlers) lessonCommand(ctx context.Context, req Request, name string, payload any, id uuid.UUID, decide func(ctx context.Context, c *call, l *domain.Lesson, g *domain.Group) ([]domain.Event, error)) (Result, error) {
	c, err := h.begin(ctx, req, name, payload)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, id, domain.LessonStream(id), func(ctx context.Context, l *domain.Lesson) (string, []domain.Event, error) {
		if l.Group == uuid.Nil {
			return "", nil, domain.Errorf(domain.ErrAbsenceNotFound, "lesson %s has no roll call", id)
		}
		var g domain.Group
		if err := c.loadGroup(ctx, &g, l.Group); err != nil {
			return "", nil, err
		}
		events, err := decide(ctx, c, l, &g)
		return g.Establishment, events, err
	})
}

// CancelAbsence corrects an absence recorded by mistake.
func (h *Handlers) CancelAbsence(ctx context.Context, req Request, cmd domain.CancelAbsence) (res Result, err error) {
	defer h.observe(CmdCancelAbsence, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.lessonCommand(ctx, req, CmdCancelAbsence, cmd, cmd.Lesson, func(_ context.Context, c *call, l *domain.Lesson, g *domain.Group) ([]domain.Event, error) {
		return l.CancelAbsence(c.actor, g, cmd)
	})
}

// DeclareAbsenceReason records a relative's explanation of an absence.
func (h *Handlers) DeclareAbsenceReason(ctx context.Context, req Request, cmd domain.DeclareAbsenceReason) (res Result, err error) {
	defer h.observe(CmdDeclareAbsenceReason, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.lessonCommand(ctx, req, CmdDeclareAbsenceReason, cmd, cmd.Lesson, func(ctx context.Context, c *call, l *domain.Lesson, _ *domain.Group) ([]domain.Event, error) {
		var student domain.Account
		if err := c.loadInto(ctx, domain.AccountStream(cmd.Student), &student); err != nil {
			return nil, err
		}
		return l.DeclareReason(c.actor, &student, cmd)
	})
}

// DecideJustification accepts or refuses an absence's justification.
func (h *Handlers) DecideJustification(ctx context.Context, req Request, cmd domain.DecideJustification) (res Result, err error) {
	defer h.observe(CmdDecideJustification, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.lessonCommand(ctx, req, CmdDecideJustification, cmd, cmd.Lesson, func(ctx context.Context, c *call, l *domain.Lesson, g *domain.Group) ([]domain.Event, error) {
		var est domain.Establishment
		if err := c.loadInto(ctx, domain.EstablishmentStream(g.Establishment), &est); err != nil {
			return nil, err
		}
		return l.DecideJustification(c.actor, g, &est, cmd)
	})
}

// RecordLessonContent fills the cahier de textes for a lesson.
func (h *Handlers) RecordLessonContent(ctx context.Context, req Request, cmd domain.RecordLessonContent) (res Result, err error) {
	defer h.observe(CmdRecordLessonContent, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordLessonContent, cmd)
	if err != nil {
		return Result{}, err
	}
	lesson := domain.LessonID(cmd.Group, cmd.Date, cmd.Slot)
	return execute(ctx, c, lesson, domain.LessonStream(lesson), func(ctx context.Context, l *domain.Lesson) (string, []domain.Event, error) {
		var g domain.Group
		if err := c.loadGroup(ctx, &g, cmd.Group); err != nil {
			return "", nil, err
		}
		events, err := l.RecordContent(c.actor, &g, cmd)
		return g.Establishment, events, err
	})
}
