package commands

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Command names of alerts and letters.
const (
	CmdRaiseAlert       = "RaiseAlert"
	CmdHandleAlert      = "HandleAlert"
	CmdSetAlertSettings = "SetAlertSettings"
	CmdRecordLetter     = "RecordLetter"
)

// RaiseAlert raises an alert (alert.raised.v1 on the stream alert-ID), as
// the ledger's alert process. The id comes from the situation (kind,
// subject, period): raising the same alert again records nothing and
// returns ErrAlertExists, which the process takes as done.
func (h *Handlers) RaiseAlert(ctx context.Context, req Request, cmd domain.RaiseAlert) (res Result, err error) {
	defer h.observe(CmdRaiseAlert, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRaiseAlert, cmd)
	if err != nil {
		return Result{}, err
	}
	id := cmd.ID()
	return execute(ctx, c, id, domain.AlertStream(id), func(_ context.Context, a *domain.Alert) (string, []domain.Event, error) {
		events, err := a.RaiseAlert(c.actor, cmd)
		return cmd.Establishment, events, err
	})
}

// HandleAlert records who handled an alert and how (alert.handled.v1).
func (h *Handlers) HandleAlert(ctx context.Context, req Request, cmd domain.HandleAlert) (res Result, err error) {
	defer h.observe(CmdHandleAlert, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdHandleAlert, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Alert, domain.AlertStream(cmd.Alert), func(_ context.Context, a *domain.Alert) (string, []domain.Event, error) {
		events, err := a.HandleAlert(c.actor, cmd)
		uai := ""
		if a.Raised != nil {
			uai = a.Raised.Establishment
		}
		return uai, events, err
	})
}

// SetAlertSettings sets an establishment's alert thresholds
// (alert.settings_set.v1 on the stream alertsettings-UAI). Setting what
// is set already records nothing.
func (h *Handlers) SetAlertSettings(ctx context.Context, req Request, cmd domain.SetAlertSettings) (res Result, err error) {
	defer h.observe(CmdSetAlertSettings, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdSetAlertSettings, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, uuid.Nil, domain.AlertSettingsStream(cmd.Establishment), func(_ context.Context, s *domain.AlertSettingsState) (string, []domain.Event, error) {
		events, err := s.SetAlertSettings(c.actor, cmd)
		return cmd.Establishment, events, err
	})
}

// AlertSettings returns an establishment's alert settings as they stand
// (its own, else the defaults).
func (h *Handlers) AlertSettings(ctx context.Context, uai string) (domain.AlertSettings, error) {
	var s domain.AlertSettingsState
	if _, err := h.load(ctx, domain.AlertSettingsStream(uai), &s); err != nil {
		return domain.AlertSettings{}, err
	}
	return s.Effective(), nil
}

// RecordLetter records a letter sent to a student's family
// (letter.sent.v1 on the stream letters-STUDENT); an unset cmd.Letter gets
// a new id (derived from the idempotency key when there is one).
func (h *Handlers) RecordLetter(ctx context.Context, req Request, cmd domain.RecordLetter) (res Result, err error) {
	defer h.observe(CmdRecordLetter, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordLetter, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Letter = c.newID(cmd.Letter)
	return execute(ctx, c, cmd.Letter, domain.LettersStream(cmd.Student), func(ctx context.Context, l *domain.Letters) (string, []domain.Event, error) {
		var acc domain.Account
		if err := c.loadInto(ctx, domain.AccountStream(cmd.Student), &acc); err != nil {
			return "", nil, err
		}
		events, err := l.RecordLetter(c.actor, &acc, cmd)
		return acc.Establishment, events, err
	})
}

// IsAlertRaised reports whether err says the alert was raised already.
func IsAlertRaised(err error) bool { return errors.Is(err, domain.ErrAlertExists) }
