package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Commands of notifications.
const (
	CmdSetNotificationPreferences = "SetNotificationPreferences"
	CmdRecordNotificationOutcomes = "RecordNotificationOutcomes"
)

// SetNotificationPreferences replaces a person's notification
// preferences, whole, in their own stream (notifications-ACCOUNT), whatever
// its version: the last one set wins.
func (h *Handlers) SetNotificationPreferences(ctx context.Context, req Request, cmd domain.SetNotificationPreferences) (res Result, err error) {
	defer h.observe(CmdSetNotificationPreferences, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdSetNotificationPreferences, cmd)
	if err != nil {
		return Result{}, err
	}
	events, err := cmd.Decide(c.actor)
	if err != nil {
		return Result{}, err
	}
	return c.append(ctx, cmd.Account, domain.NotificationPreferencesStream(cmd.Account), domain.AnyVersion(), c.actor.Establishment, events)
}

// RecordNotificationOutcomes appends, as the ledger, a batch of what
// became of an establishment's notifications to its deliveries stream
// (deliveries-UAI), whatever its version: one append for many deliveries,
// not one per message at the morning peak. With the request's idempotency
// key, a batch appended again after a crash is recorded once.
func (h *Handlers) RecordNotificationOutcomes(ctx context.Context, req Request, cmd domain.RecordNotificationOutcomes) (res Result, err error) {
	defer h.observe(CmdRecordNotificationOutcomes, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordNotificationOutcomes, cmd)
	if err != nil {
		return Result{}, err
	}
	events, err := cmd.Decide(c.actor)
	if err != nil {
		return Result{}, err
	}
	return c.append(ctx, uuid.Nil, domain.DeliveriesStream(cmd.Establishment), domain.AnyVersion(), cmd.Establishment, events)
}
