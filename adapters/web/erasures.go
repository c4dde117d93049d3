package web

// Erasures of persons' data asked for by administrators, for the API
// (POST /api/v1/accounts/{account}/erasure, GET /api/v1/erasures) and the
// portal's erasure page alike. The erasure and its scrub run behind
// ErasureJobs (adapters/erasure's Jobs): this is transport work only.

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/erasure"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// ErasureJobs records erasures and runs their scrubs: erasure's Jobs.
type ErasureJobs interface {
	// Erase records the erasure of a person and queues its scrub
	// (domain.ErrErasureExists for a person erased already, unless their
	// scrub failed: it is resumed).
	Erase(ctx context.Context, req commands.Request, actor domain.Actor, cmd domain.EraseSubject) (*erasure.Erasure, error)
	// Status returns a person's erasure as viewer may see it.
	Status(ctx context.Context, viewer domain.Actor, subject uuid.UUID) (*erasure.Erasure, error)
	// List returns the most recent erasures of the establishments viewer
	// administers.
	List(ctx context.Context, viewer domain.Actor, limit int) ([]erasure.Erasure, error)
}

var _ ErasureJobs = (*erasure.Jobs)(nil)

// DefaultErasureBasis is the legal basis of an erasure that names none:
// the right to erasure.
const DefaultErasureBasis = "RGPD art. 17"

// MayErase: erasing a person's data, and reading the erasures, is for
// administrators (of the person's establishment, which the command and
// the jobs check). The head of establishment is the data controller and
// decides on a request; the administrator of the ENT carries the decision
// out, and the erasure's reason records it (docs/privacy.md).
func MayErase(p *Principal) error {
	if p.actor.Profile == domain.ProfileAdmin {
		return nil
	}
	return forbidden("only administrators erase a person's data")
}
