package commands

import (
	"context"

	"github.com/schoollife/ledger/domain"
)

// CmdResealStore is the command name of the first event of a re-sealed
// copy (`ledger privacy reseal`).
const CmdResealStore = "ResealStore"

// ResealStore records, as the ledger, the first event of a re-sealed copy
// of a store (privacy.store_resealed.v1) in the copy's own stream, which
// must be new: the copy's log starts with it. The events copied follow,
// appended by the copy itself (adapters/reseal).
func (h *Handlers) ResealStore(ctx context.Context, req Request, cmd domain.ResealStore) (res Result, err error) {
	defer h.observe(CmdResealStore, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdResealStore, cmd)
	if err != nil {
		return Result{}, err
	}
	id := domain.CopyID(cmd.SourceSeal)
	stream := domain.PrivacyStream(id)
	recs, err := h.store.ReadStream(ctx, stream, 0)
	if err != nil {
		return Result{}, err
	}
	events, err := domain.DecideResealStore(c.actor, uint64(len(recs)), cmd)
	if err != nil {
		return Result{}, err
	}
	return c.append(ctx, id, stream, domain.NoStream(), "", events)
}
