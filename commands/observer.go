package commands

import (
	"context"
	"errors"

	"github.com/schoollife/ledger/domain"
)

// Observer is told what becomes of each command: `serve` counts them in
// its metrics. Calls come from the requests' goroutines, concurrently.
type Observer interface {
	// CommandDone: command (its name, CmdSendMessage...) ended with
	// outcome (Outcome).
	CommandDone(command, outcome string)
	// CommandRetried: command met a version conflict and tries again.
	CommandRetried(command string)
}

// Outcomes of a command besides the codes of domain errors (invalid,
// forbidden, not_found, rule, conflict, unavailable).
const (
	OutcomeAccepted = "accepted"
	// OutcomeReplayed: an idempotency key found the command's earlier
	// result; nothing was recorded again.
	OutcomeReplayed = "replayed"
	// OutcomeCanceled: the caller gave up (its request ended).
	OutcomeCanceled = "canceled"
	// OutcomeError: anything else (a bug, a store's unclassified error).
	OutcomeError = "error"
)

// Outcome classifies a command's result: one of a closed set of labels.
func Outcome(res Result, err error) string {
	switch {
	case err == nil && res.Replayed:
		return OutcomeReplayed
	case err == nil:
		return OutcomeAccepted
	case domain.CodeOf(err) != "":
		return string(domain.CodeOf(err))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OutcomeCanceled
	}
	return OutcomeError
}

// observe reports a command's outcome; every handler defers it first.
func (h *Handlers) observe(command string, res *Result, err *error) {
	if h.observer != nil {
		h.observer.CommandDone(command, Outcome(*res, *err))
	}
}

// retried reports a version conflict the command retries.
func (h *Handlers) retried(command string) {
	if h.observer != nil {
		h.observer.CommandRetried(command)
	}
}
