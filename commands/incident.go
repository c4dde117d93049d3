package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// CmdReportIncident is the command name of an incident report.
const CmdReportIncident = "ReportIncident"

// ReportIncident reports an incident in an establishment; an unset
// cmd.Incident gets a new id (derived from the idempotency key when there
// is one).
func (h *Handlers) ReportIncident(ctx context.Context, req Request, cmd domain.ReportIncident) (res Result, err error) {
	defer h.observe(CmdReportIncident, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdReportIncident, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Incident = c.newID(cmd.Incident)
	return execute(ctx, c, cmd.Incident, domain.IncidentStream(cmd.Incident), func(ctx context.Context, inc *domain.Incident) (string, []domain.Event, error) {
		var est domain.Establishment
		if err := c.loadInto(ctx, domain.EstablishmentStream(cmd.Establishment), &est); err != nil {
			return "", nil, err
		}
		accounts := make(map[uuid.UUID]*domain.Account, len(cmd.Protagonists))
		for _, p := range cmd.Protagonists {
			if accounts[p.Account] != nil {
				continue
			}
			var acc domain.Account
			if err := c.loadInto(ctx, domain.AccountStream(p.Account), &acc); err != nil {
				return "", nil, err
			}
			accounts[p.Account] = &acc
		}
		events, err := inc.Report(c.actor, &est, accounts, cmd)
		return cmd.Establishment, events, err
	})
}
