package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// The consultation trail: who read which child's file, and when. Each node
// of the server gathers the reads of children's files by people who are
// neither the child nor their relatives (teachers, personnel, inspectors),
// and writes them now and then, one event per establishment listing each
// reader's reads of each file in the period (docs/privacy.md,
// "Consultation trail").

// Consultation kinds: what was read.
const (
	// ConsultFile is a student's file (absences, lateness, punishments,
	// sanctions, incidents) over a period.
	ConsultFile = "file"
	// ConsultView is a student's page: groups, file of the year, homework.
	ConsultView = "view"
	// ConsultHistory is the history of a student (audit).
	ConsultHistory = "history"
	// ConsultFileAsOf is a student's file as it stood at a past moment
	// (audit).
	ConsultFileAsOf = "file_as_of"
	// ConsultExport is an establishment's whole history, every student's
	// file in it (audit); its Student is nil.
	ConsultExport = "export"
)

// ConsultKinds lists the consultation kinds.
func ConsultKinds() []string {
	return []string{ConsultFile, ConsultView, ConsultHistory, ConsultFileAsOf, ConsultExport}
}

// Consultation is one reader's reads of one file of a kind over a period:
// the first and last of them, and how many.
type Consultation struct {
	Reader   uuid.UUID `json:"reader"`
	Profile  Profile   `json:"profile" text:"code"`
	Function Function  `json:"function,omitempty" text:"code"`
	// Student is the child whose file was read; nil for an export.
	Student uuid.UUID `json:"student,omitempty"`
	What    string    `json:"what" text:"code"`
	First   time.Time `json:"first" date:"act"`
	Last    time.Time `json:"last" date:"act"`
	Count   int       `json:"count"`
}

// ConsultationsRecorded lists the consultations of an establishment's
// children's files that one node gathered over a period.
type ConsultationsRecorded struct {
	Establishment string         `json:"establishment"`
	Consultations []Consultation `json:"consultations"`
}

func (ConsultationsRecorded) EventType() string { return "consultations.recorded.v1" }

// RecordConsultations writes a batch of the consultation trail; the
// ledger itself issues it (SystemActor).
type RecordConsultations struct {
	Establishment string         `json:"establishment" text:"code"`
	Consultations []Consultation `json:"consultations"`
}

// MaxConsultationsPerEvent bounds the consultations of one event; a larger
// batch is written as several.
const MaxConsultationsPerEvent = 1000

// RecordConsultations decides the events of a batch of the trail: the
// system only, a known establishment code, each consultation of a known
// kind, by an account, of a student (but an export), counted at least once
// over a period whose first read is not after its last.
func (cmd RecordConsultations) Decide(actor Actor) ([]Event, error) {
	if !actor.IsSystem() {
		return nil, Errorf(ErrForbidden, "only the ledger records the consultation trail")
	}
	if !ValidUAI(cmd.Establishment) {
		return nil, Errorf(ErrInvalid, "establishment %q is not a UAI", cmd.Establishment)
	}
	if len(cmd.Consultations) == 0 {
		return nil, Errorf(ErrInvalid, "no consultation")
	}
	for i, c := range cmd.Consultations {
		switch {
		case c.Reader == uuid.Nil:
			return nil, Errorf(ErrInvalid, "consultations[%d]: no reader", i)
		case !c.Profile.Valid() || !c.Function.Valid():
			return nil, Errorf(ErrInvalid, "consultations[%d]: profile %q, function %q", i, c.Profile, c.Function)
		case !slices.Contains(ConsultKinds(), c.What):
			return nil, Errorf(ErrInvalid, "consultations[%d]: %q is no consultation kind", i, c.What)
		case (c.Student == uuid.Nil) != (c.What == ConsultExport):
			return nil, Errorf(ErrInvalid, "consultations[%d]: a %s names a student unless it is an export", i, c.What)
		case c.Count < 1 || c.First.IsZero() || c.Last.Before(c.First):
			return nil, Errorf(ErrInvalid, "consultations[%d]: %d reads from %s to %s", i, c.Count, c.First, c.Last)
		}
	}
	var events []Event
	for rest := cmd.Consultations; len(rest) > 0; {
		n := min(len(rest), MaxConsultationsPerEvent)
		events = append(events, ConsultationsRecorded{Establishment: cmd.Establishment, Consultations: slices.Clone(rest[:n])})
		rest = rest[n:]
	}
	return events, nil
}

// ConsultationsStream is the stream of an establishment's consultation
// trail.
func ConsultationsStream(uai string) string { return StreamName(CategoryConsultations, uai) }
