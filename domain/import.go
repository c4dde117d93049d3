package domain

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Directory import errors.
var (
	ErrNotImported     = newError(CodeRule, "not-imported", "account did not come from a directory feed")
	ErrAlreadyMissing  = newError(CodeRule, "already-missing", "account is already flagged missing from the feed")
	ErrNotMissing      = newError(CodeRule, "not-missing", "account is not flagged missing from the feed")
	ErrGraceNotOver    = newError(CodeRule, "grace-not-over", "the grace period of an account missing from the feed is not over")
	ErrNegativeGrace   = newError(CodeInvalid, "negative-grace", "grace period is negative")
	ErrFeedDescription = newError(CodeInvalid, "feed-description", "feed description is too long")
)

// maxFeedDescription bounds the Feed field of the flag events.
const maxFeedDescription = 500

// FeedPresence is an account's directory state plus whether the feeds still
// list it, folded from the account's stream.
type FeedPresence struct {
	Account
	Missing      bool
	MissingSince time.Time
}

// Apply folds an event.
func (p *FeedPresence) Apply(e Event) {
	p.Account.Apply(e)
	switch e := e.(type) {
	case AccountMissingFromFeed:
		if !p.Missing {
			p.Missing, p.MissingSince = true, e.Since
		}
	case AccountBackInFeed:
		p.Missing, p.MissingSince = false, time.Time{}
	}
}

func (p *FeedPresence) mayFlag(actor Actor, id uuid.UUID, feed string) error {
	if err := p.mustBeOpen(id); err != nil {
		return err
	}
	if !actor.IsAdmin(p.Establishment) {
		return Errorf(ErrForbidden, "only an administrator runs directory imports")
	}
	if p.ExternalID == "" {
		return Errorf(ErrNotImported, "%s", id)
	}
	if len(feed) > maxFeedDescription || strings.ContainsAny(feed, "\r\n") {
		return Errorf(ErrFeedDescription, "%d bytes", len(feed))
	}
	return nil
}

// FlagMissingFromFeed flags an imported account that a full feed no longer
// lists; Feed describes the import.
type FlagMissingFromFeed struct {
	Account uuid.UUID `json:"account"`
	Feed    string    `json:"feed" text:"reason"`
}

// FlagMissing decides flagging an imported account missing from a feed at
// since.
func (p *FeedPresence) FlagMissing(actor Actor, id uuid.UUID, since time.Time, feed string) ([]Event, error) {
	if err := p.mayFlag(actor, id, feed); err != nil {
		return nil, err
	}
	if p.Missing {
		return nil, Errorf(ErrAlreadyMissing, "%s since %s", id, p.MissingSince.Format(time.DateOnly))
	}
	return []Event{AccountMissingFromFeed{Account: id, Since: since, Feed: feed}}, nil
}

// MarkBackInFeed clears the missing flag of an account a feed lists again.
type MarkBackInFeed struct {
	Account uuid.UUID `json:"account"`
	Feed    string    `json:"feed" text:"reason"`
}

// BackInFeed decides clearing the flag of an account a feed lists again.
func (p *FeedPresence) BackInFeed(actor Actor, id uuid.UUID, feed string) ([]Event, error) {
	if err := p.mayFlag(actor, id, feed); err != nil {
		return nil, err
	}
	if !p.Missing {
		return nil, Errorf(ErrNotMissing, "%s", id)
	}
	return []Event{AccountBackInFeed{Account: id, Feed: feed}}, nil
}

// CloseMissingFromFeed closes an account flagged missing for at least
// Grace.
type CloseMissingFromFeed struct {
	Account uuid.UUID     `json:"account"`
	Grace   time.Duration `json:"grace"`
}

// CloseMissing decides closing an account flagged missing since at least
// grace before now. The rule lives here rather than in the importer so that
// it holds against the account's latest state: a feed that listed the
// account again in between wins.
func (p *FeedPresence) CloseMissing(actor Actor, id uuid.UUID, now time.Time, grace time.Duration) ([]Event, error) {
	if grace < 0 {
		return nil, Errorf(ErrNegativeGrace, "%s", grace)
	}
	if err := p.mayFlag(actor, id, ""); err != nil {
		return nil, err
	}
	if !p.Missing {
		return nil, Errorf(ErrNotMissing, "%s", id)
	}
	if now.Sub(p.MissingSince) < grace {
		return nil, Errorf(ErrGraceNotOver, "%s missing since %s, grace %s", id, p.MissingSince.Format(time.DateOnly), grace)
	}
	reason := "missing from the directory feed since " + p.MissingSince.UTC().Format(time.DateOnly)
	return []Event{AccountClosed{Account: id, Reason: reason}}, nil
}

// ImportRecord is the state of an import's own stream: how many times it
// was recorded forced (a forced import run again after a crash is forced
// again).
type ImportRecord struct {
	Forced int
}

// Apply folds an event.
func (r *ImportRecord) Apply(e Event) {
	if _, ok := e.(ImportForced); ok {
		r.Forced++
	}
}

// RecordForcedImport records that an import was forced past its guards.
type RecordForcedImport struct {
	Import         uuid.UUID `json:"import"`
	Feed           string    `json:"feed" text:"reason"`
	Establishments []string  `json:"establishments,omitempty" text:"code"`
	Guards         []string  `json:"guards" text:"code"`
	Details        string    `json:"details" text:"text"`
}

// Force decides recording a forced import: by an administrator of every
// establishment the feed concerns (of all, when it names none).
func (r *ImportRecord) Force(actor Actor, cmd RecordForcedImport) ([]Event, error) {
	scope := cmd.Establishments
	if len(scope) == 0 {
		scope = []string{""}
	}
	for _, uai := range scope {
		if !actor.IsAdmin(uai) {
			return nil, Errorf(ErrForbidden, "only an administrator of %s forces a directory import", cmp.Or(uai, "every establishment"))
		}
	}
	switch {
	case cmd.Import == uuid.Nil:
		return nil, Errorf(ErrInvalid, "import is required")
	case len(cmd.Guards) == 0:
		return nil, Errorf(ErrInvalid, "a forced import names the guards it forced")
	case len(cmd.Feed) > maxFeedDescription || strings.ContainsAny(cmd.Feed, "\r\n"):
		return nil, Errorf(ErrFeedDescription, "%d bytes", len(cmd.Feed))
	}
	return []Event{ImportForced{Import: cmd.Import, Feed: cmd.Feed, Establishments: slices.Clone(cmd.Establishments),
		Guards: slices.Clone(cmd.Guards), Details: cmd.Details}}, nil
}
