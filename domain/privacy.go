package domain

import (
	"github.com/google/uuid"
)

// Privacy errors.
var (
	ErrSubjectErased = newError(CodeRule, "subject-erased", "this person's personal data has been erased")
)

// SubjectErased records that the personal data of an account was erased:
// the key protecting its personal fields (see the personal tags of the
// events) is destroyed right after, so that those fields read as erased
// from then on. The event keeps who erased (metadata actor), when
// (metadata time) and on which legal basis; the events themselves all stay,
// and the history still verifies.
type SubjectErased struct {
	Subject uuid.UUID `json:"subject"`
	// Basis is the legal ground ("RGPD art. 17", "délai de conservation
	// échu"...).
	Basis string `json:"basis"`
	// Reason is the administrator's note (a request's date and channel);
	// it must not itself hold the erased person's data.
	Reason string `json:"reason"`
}

func (SubjectErased) EventType() string { return "privacy.subject_erased.v1" }

// EraseSubject is the command that erases the personal data of an account
// (crypto-shredding: see docs/privacy.md).
type EraseSubject struct {
	Subject uuid.UUID `json:"subject"`
	Reason  string    `json:"reason" text:"text"`
	Basis   string    `json:"basis" text:"reason"`
}

// Erasure is the state of a person's privacy stream.
type Erasure struct {
	Erased bool
}

// Apply folds an event of the privacy stream.
func (e *Erasure) Apply(ev Event) {
	if _, ok := ev.(SubjectErased); ok {
		e.Erased = true
	}
}

// EraseSubject decides an erasure. subject is the erased account's state:
// an administrator of its establishment (or of every establishment)
// erases it, once.
func (e *Erasure) EraseSubject(actor Actor, subject *Account, cmd EraseSubject) ([]Event, error) {
	if !subject.Exists {
		return nil, Errorf(ErrNotFound, "account %s", cmd.Subject)
	}
	if !actor.IsAdmin(subject.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator erases a person's data")
	}
	if e.Erased {
		return nil, Errorf(ErrSubjectErased, "account %s was erased already", cmd.Subject)
	}
	if cmd.Reason == "" || cmd.Basis == "" {
		return nil, Errorf(ErrInvalid, "an erasure needs a reason and a legal basis")
	}
	return []Event{SubjectErased{Subject: cmd.Subject, Basis: cmd.Basis, Reason: cmd.Reason}}, nil
}
