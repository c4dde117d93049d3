package commands

import "github.com/schoollife/ledger/domain"

// validate checks a command's texts and dates (domain.ValidateInput)
// before anything is loaded: every handler calls it first, so that the
// API, the portal, imports and the CLI refuse the same input alike. The
// windows are counted from the handlers' clock, so that the simulator's
// past school years are as valid as today's.
func (h *Handlers) validate(cmd any) error {
	// UTC is close enough: the windows are whole school years.
	cal := domain.Calendar{Today: domain.DateOf(h.now().UTC()), Acts: h.acts, Plans: h.plans}
	return domain.ValidateInput(cmd, cal)
}
