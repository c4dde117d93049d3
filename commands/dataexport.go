package commands

import (
	"context"

	"github.com/schoollife/ledger/domain"
)

// CmdRecordDataExport is the command name of the record of an export of
// a person's data.
const CmdRecordDataExport = "RecordDataExport"

// RecordDataExport records that req.Actor exports everything the ledger
// holds about cmd.Subject, once authorized on the subject's account: the
// export is written only after this succeeds. Exports have their own
// stream per person (domain.PrivacyStream), so that they never conflict
// with directory changes.
func (h *Handlers) RecordDataExport(ctx context.Context, req Request, cmd domain.RecordDataExport) (res Result, err error) {
	defer h.observe(CmdRecordDataExport, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordDataExport, cmd)
	if err != nil {
		return Result{}, err
	}
	var acc domain.Account
	if err := c.loadInto(ctx, domain.AccountStream(cmd.Subject), &acc); err != nil {
		return Result{}, err
	}
	events, err := acc.RecordDataExport(c.actor, cmd)
	if err != nil {
		return Result{}, err
	}
	return c.append(ctx, cmd.Subject, domain.PrivacyStream(cmd.Subject), domain.AnyVersion(), acc.Establishment, events)
}
