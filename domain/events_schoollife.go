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
	Reason  string    `json:"reason" personal:"Student,category=schoollife"`
}

func (AbsenceCancelled) EventType() string { return "absence.cancelled.v1" }

// AbsenceReasonDeclared is a relative's explanation of an absence.
type AbsenceReasonDeclared struct {
	Absence  uuid.UUID `json:"absence"`
	Lesson   uuid.UUID `json:"lesson"`
	Student  uuid.UUID `json:"student"`
	Relative uuid.UUID `json:"relative"`
	Reason   string    `json:"reason" personal:"Student,category=schoollife"`
}

func (AbsenceReasonDeclared) EventType() string { return "absence.reason_declared.v1" }

// JustificationAccepted: staff accept an absence as justified, with a reason
// from the establishment's list that justifies.
type JustificationAccepted struct {
	Absence    uuid.UUID `json:"absence"`
	Lesson     uuid.UUID `json:"lesson"`
	Student    uuid.UUID `json:"student"`
	ReasonCode string    `json:"reason_code"`
	Comment    string    `json:"comment,omitempty" personal:"Student,category=schoollife"`
}

func (JustificationAccepted) EventType() string { return "absence.justification_accepted.v1" }

// JustificationRefused: staff refuse an absence's justification, with a
// reason from the establishment's list that does not justify.
type JustificationRefused struct {
	Absence    uuid.UUID `json:"absence"`
	Lesson     uuid.UUID `json:"lesson"`
	Student    uuid.UUID `json:"student"`
	ReasonCode string    `json:"reason_code"`
	Comment    string    `json:"comment,omitempty" personal:"Student,category=schoollife"`
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
	Description   string        `json:"description" personal:"Protagonists,category=schoollife"`
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
	Reason     string         `json:"reason" personal:"Student,category=schoollife"`
}

func (PunishmentGiven) EventType() string { return "punishment.given.v1" }

// SanctionKind is a disciplinary sanction only the head may pronounce.
type SanctionKind string

// Sanctions (sanctions disciplinaires, Code de l'éducation, art. R. 511-13;
// SanctionClassExclusion and the rules are in sanctionlaw.go).
const (
	SanctionWarning        SanctionKind = "avertissement"
	SanctionReprimand      SanctionKind = "blame"
	SanctionResponsibility SanctionKind = "mesure_de_responsabilisation"
	// SanctionTemporaryExclusion is the exclusion temporaire de
	// l'établissement ou de l'un de ses services annexes (5°).
	SanctionTemporaryExclusion SanctionKind = "exclusion_temporaire_etablissement"
	SanctionPermanentExclusion SanctionKind = "exclusion_definitive"
)

// SanctionPronounced records a sanction; stored on the student's discipline
// stream.
//
// Events recorded before the current scale have no authority (the head
// pronounced them), hours, annex, sursis or effacement date (computed from
// the kind and date by EffacementDate); their temporary exclusions read as
// exclusions from the establishment.
type SanctionPronounced struct {
	Sanction uuid.UUID    `json:"sanction"`
	Student  uuid.UUID    `json:"student"`
	Kind     SanctionKind `json:"kind"`
	Date     Date         `json:"date"`
	Days     int          `json:"days,omitempty"`
	Incident uuid.UUID    `json:"incident,omitempty"`
	Reason   string       `json:"reason" personal:"Student,record=Sanction"`
	// Authority pronounced it; empty means the head.
	Authority SanctionAuthority `json:"authority,omitempty"`
	// Council is the disciplinary council's sitting, when it pronounced it.
	Council *CouncilSession `json:"council,omitempty" personal:"Student,record=Sanction"`
	// Hours is the length of a mesure de responsabilisation.
	Hours int `json:"hours,omitempty"`
	// Annex names the service annexe (boarding, half-board...) an exclusion
	// from the establishment is limited to; empty: the establishment.
	Annex string `json:"annex,omitempty"`
	// Sursis, when set, suspends the sanction's execution.
	Sursis *Sursis `json:"sursis,omitempty"`
	// EffacedOn is the day it leaves the student's administrative file by
	// the passing of time (R. 511-13, IV); unset for a sanction that stays
	// until the end of secondary schooling.
	EffacedOn Date `json:"effaced_on,omitzero"`
}

// EffacementDay returns the day the sanction leaves the file by the
// passing of time, computed for events recorded before the date was.
func (e SanctionPronounced) EffacementDay() (Date, bool) {
	if !e.EffacedOn.IsZero() {
		return e.EffacedOn, true
	}
	return EffacementDate(e.Kind, e.Date)
}

// SursisRevoked revokes the sursis of a sanction, which is then carried
// out (R. 511-13-1, III).
type SursisRevoked struct {
	Sanction  uuid.UUID         `json:"sanction"`
	Student   uuid.UUID         `json:"student"`
	Date      Date              `json:"date"`
	Authority SanctionAuthority `json:"authority"`
	Council   *CouncilSession   `json:"council,omitempty" personal:"Student,record=Sanction"`
	Reason    string            `json:"reason" personal:"Student,record=Sanction"`
}

func (SursisRevoked) EventType() string { return "sanction.sursis_revoked.v1" }

// SanctionEffaced effaces a sanction from the student's administrative
// file before its date, on a decision (R. 511-13, IV). The sanction's
// facts (incident reports) stay.
type SanctionEffaced struct {
	Sanction uuid.UUID       `json:"sanction"`
	Student  uuid.UUID       `json:"student"`
	Date     Date            `json:"date"`
	Basis    EffacementBasis `json:"basis"`
}

func (SanctionEffaced) EventType() string { return "sanction.effaced.v1" }

func (SanctionPronounced) EventType() string { return "sanction.pronounced.v1" }

// SanctionAnnulled annuls a sanction; the sanction stays in history.
type SanctionAnnulled struct {
	Sanction uuid.UUID `json:"sanction"`
	Student  uuid.UUID `json:"student"`
	Reason   string    `json:"reason" personal:"Student,record=Sanction"`
}

func (SanctionAnnulled) EventType() string { return "sanction.annulled.v1" }
