package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// CmdRecordConsultations is the command of the consultation trail.
const CmdRecordConsultations = "RecordConsultations"

// RecordConsultations appends a batch of an establishment's consultation
// trail to its own stream (consultations-UAI), whatever its version: the
// trail's batches never conflict. The ledger issues it (req.System).
func (h *Handlers) RecordConsultations(ctx context.Context, req Request, cmd domain.RecordConsultations) (res Result, err error) {
	defer h.observe(CmdRecordConsultations, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordConsultations, cmd)
	if err != nil {
		return Result{}, err
	}
	events, err := cmd.Decide(c.actor)
	if err != nil {
		return Result{}, err
	}
	return c.append(ctx, uuid.Nil, domain.ConsultationsStream(cmd.Establishment), domain.AnyVersion(), cmd.Establishment, events)
}
