package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/schoollife/ledger/domain"
)

// CmdEraseSubject is the command name of EraseSubject.
const CmdEraseSubject = "EraseSubject"

// EraseSubject erases the personal data of an account: it records the
// erasure (privacy.subject_erased.v1), then destroys the account's key,
// so that every personal field sealed with it reads as erased. An erasure
// recorded already is refused (domain.ErrSubjectErased) once the key is
// destroyed again, so that a run interrupted between the two is finished
// by running it again. Read models keep what they hold until their
// projections are rebuilt (`ledger privacy erase` does it).
func (h *Handlers) EraseSubject(ctx context.Context, req Request, cmd domain.EraseSubject) (res Result, err error) {
	defer h.observe(CmdEraseSubject, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	if h.shredder == nil {
		return Result{}, errors.New("erase subject: no key store: personal data is not sealed on this ledger")
	}
	c, err := h.begin(ctx, req, CmdEraseSubject, cmd)
	if err != nil {
		return Result{}, err
	}
	var subject domain.Account
	if err := c.loadInto(ctx, domain.AccountStream(cmd.Subject), &subject); err != nil {
		return Result{}, err
	}
	res, err = execute(ctx, c, cmd.Subject, domain.PrivacyStream(cmd.Subject), func(_ context.Context, e *domain.Erasure) (string, []domain.Event, error) {
		events, err := e.EraseSubject(c.actor, &subject, cmd)
		return subject.Establishment, events, err
	})
	if err != nil && !errors.Is(err, domain.ErrSubjectErased) {
		return res, err
	}
	if derr := h.shredder.Destroy(ctx, cmd.Subject); derr != nil {
		return res, fmt.Errorf("%s: the erasure is recorded, the key is not destroyed (run it again): %w", CmdEraseSubject, derr)
	}
	return res, err
}

// CmdRecordScrub is the command name of RecordScrub.
const CmdRecordScrub = "RecordScrub"

// RecordScrub records that an erasure took effect in the database files
// (privacy.subject_scrubbed.v1): the ledger issues it once every
// projection is rebuilt and the database compacted after the erasure. A
// scrub recorded already records nothing again.
func (h *Handlers) RecordScrub(ctx context.Context, req Request, cmd domain.RecordScrub) (res Result, err error) {
	defer h.observe(CmdRecordScrub, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordScrub, cmd)
	if err != nil {
		return Result{}, err
	}
	var subject domain.Account
	if err := c.loadInto(ctx, domain.AccountStream(cmd.Subject), &subject); err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Subject, domain.PrivacyStream(cmd.Subject), func(_ context.Context, e *domain.Erasure) (string, []domain.Event, error) {
		events, err := e.RecordScrub(c.actor, cmd)
		return subject.Establishment, events, err
	})
}
