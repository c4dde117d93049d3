package domain

import (
	"time"

	"github.com/google/uuid"
)

// RollCallCompleted records that a teacher called the roll of a lesson. Each
// absent or late student is its own act, recorded by the events that follow
// it in the same append.
type RollCallCompleted struct {
	Lesson  uuid.UUID `json:"lesson"`
	Group   uuid.UUID `json:"group"`
	Date    Date      `json:"date"`
	Slot    Slot      `json:"slot"`
	Subject string    `json:"subject"`
	Teacher uuid.UUID `json:"teacher"`
	Absent  int       `json:"absent"`
	Late    int       `json:"late"`
}

func (RollCallCompleted) EventType() string { return "rollcall.completed.v1" }

// AbsenceRecorded records a student absent from a lesson.
type AbsenceRecorded struct {
	Absence uuid.UUID `json:"absence"`
	Lesson  uuid.UUID `json:"lesson"`
	Student uuid.UUID `json:"student"`
	Group   uuid.UUID `json:"group"`
	Date    Date      `json:"date"`
	Slot    Slot      `json:"slot"`
	Subject string    `json:"subject"`
}

func (AbsenceRecorded) EventType() string { return "absence.recorded.v1" }

// LatenessRecorded records a student late to a lesson.
type LatenessRecorded struct {
	Lesson  uuid.UUID `json:"lesson"`
	Student uuid.UUID `json:"student"`
	Group   uuid.UUID `json:"group"`
	Date    Date      `json:"date"`
	Slot    Slot      `json:"slot"`
	Subject string    `json:"subject"`
	Minutes int       `json:"minutes"`
}

func (LatenessRecorded) EventType() string { return "lateness.recorded.v1" }

// AbsenceCancelled corrects an absence recorded by mistake.
type AbsenceCancelled struct {
	Absence uuid.UUID `json:"absence"`
	Lesson  uuid.UUID `json:"lesson"`
	Student uuid.UUID `json:"student"`
	Reason  string    `json:"reason" personal:"true"`
}

func (AbsenceCancelled) EventType() string { return "absence.cancelled.v1" }

// AbsenceReasonDeclared is a relative's explanation of an absence.
type AbsenceReasonDeclared struct {
	Absence  uuid.UUID `json:"absence"`
	Lesson   uuid.UUID `json:"lesson"`
	Student  uuid.UUID `json:"student"`
	Relative uuid.UUID `json:"relative"`
	Reason   string    `json:"reason" personal:"true"`
}

func (AbsenceReasonDeclared) EventType() string { return "absence.reason_declared.v1" }

// JustificationAccepted: staff accept an absence as justified, with a reason
// from the establishment's list that justifies.
type JustificationAccepted struct {
	Absence    uuid.UUID `json:"absence"`
	Lesson     uuid.UUID `json:"lesson"`
	Student    uuid.UUID `json:"student"`
	ReasonCode string    `json:"reason_code"`
	Comment    string    `json:"comment,omitempty" personal:"true"`
}

func (JustificationAccepted) EventType() string { return "absence.justification_accepted.v1" }

// JustificationRefused: staff refuse an absence's justification, with a
// reason from the establishment's list that does not justify.
type JustificationRefused struct {
	Absence    uuid.UUID `json:"absence"`
	Lesson     uuid.UUID `json:"lesson"`
	Student    uuid.UUID `json:"student"`
	ReasonCode string    `json:"reason_code"`
	Comment    string    `json:"comment,omitempty" personal:"true"`
}

func (JustificationRefused) EventType() string { return "absence.justification_refused.v1" }

// Seriousness grades an incident.
type Seriousness string

// Seriousness levels.
const (
	SeriousnessMinor   Seriousness = "minor"
	SeriousnessSerious Seriousness = "serious"
	SeriousnessGrave   Seriousness = "grave"
)

// ProtagonistRole is a person's part in an incident.
type ProtagonistRole string

// Protagonist roles.
const (
	ProtagonistAuthor  ProtagonistRole = "author"
	ProtagonistVictim  ProtagonistRole = "victim"
	ProtagonistWitness ProtagonistRole = "witness"
)

// Protagonist is an account involved in an incident.
type Protagonist struct {
	Account uuid.UUID       `json:"account"`
	Role    ProtagonistRole `json:"role"`
}

// IncidentReported records an incident in an establishment.
type IncidentReported struct {
	Incident      uuid.UUID     `json:"incident"`
	Establishment string        `json:"establishment"`
	OccurredAt    time.Time     `json:"occurred_at"`
	Place         string        `json:"place"`
	Seriousness   Seriousness   `json:"seriousness"`
	Description   string        `json:"description" personal:"true"`
	Protagonists  []Protagonist `json:"protagonists"`
}

func (IncidentReported) EventType() string { return "incident.reported.v1" }

// PunishmentKind is a punishment a teacher or staff may give.
type PunishmentKind string

// Punishments (punitions scolaires).
const (
	PunishmentExtraWork       PunishmentKind = "devoir_supplementaire"
	PunishmentDetention       PunishmentKind = "retenue"
	PunishmentLessonExclusion PunishmentKind = "exclusion_de_cours"
)

// PunishmentGiven records a punishment; stored on the student's discipline
// stream.
type PunishmentGiven struct {
	Punishment uuid.UUID      `json:"punishment"`
	Student    uuid.UUID      `json:"student"`
	Group      uuid.UUID      `json:"group,omitempty"`
	Kind       PunishmentKind `json:"kind"`
	Date       Date           `json:"date"`
	Reason     string         `json:"reason" personal:"true"`
}

func (PunishmentGiven) EventType() string { return "punishment.given.v1" }

// SanctionKind is a disciplinary sanction only the head may pronounce.
type SanctionKind string

// Sanctions (sanctions disciplinaires).
const (
	SanctionWarning            SanctionKind = "avertissement"
	SanctionReprimand          SanctionKind = "blame"
	SanctionResponsibility     SanctionKind = "mesure_de_responsabilisation"
	SanctionTemporaryExclusion SanctionKind = "exclusion_temporaire"
	SanctionPermanentExclusion SanctionKind = "exclusion_definitive"
)

// SanctionPronounced records a sanction; stored on the student's discipline
// stream.
type SanctionPronounced struct {
	Sanction uuid.UUID    `json:"sanction"`
	Student  uuid.UUID    `json:"student"`
	Kind     SanctionKind `json:"kind"`
	Date     Date         `json:"date"`
	Days     int          `json:"days,omitempty"`
	Incident uuid.UUID    `json:"incident,omitempty"`
	Reason   string       `json:"reason" personal:"true"`
}

func (SanctionPronounced) EventType() string { return "sanction.pronounced.v1" }

// SanctionAnnulled annuls a sanction; the sanction stays in history.
type SanctionAnnulled struct {
	Sanction uuid.UUID `json:"sanction"`
	Student  uuid.UUID `json:"student"`
	Reason   string    `json:"reason" personal:"true"`
}

func (SanctionAnnulled) EventType() string { return "sanction.annulled.v1" }
