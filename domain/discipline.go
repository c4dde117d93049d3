package domain

import (
	"strings"

	"github.com/google/uuid"
)

// Discipline errors.
var (
	ErrNotHead             = newError(CodeForbidden, "not-head", "only the head of establishment pronounces or annuls sanctions")
	ErrSanctionDays        = newError(CodeRule, "sanction-days", "a temporary exclusion lasts 1 to 8 days; other sanctions have no days")
	ErrSanctionHours       = newError(CodeRule, "sanction-hours", "a mesure de responsabilisation lasts at most 20 hours; other sanctions have no hours")
	ErrCouncilRequired     = newError(CodeForbidden, "council-required", "only the disciplinary council pronounces this")
	ErrCouncilSession      = newError(CodeRule, "council-session", "a council's decision names its sitting: date, members present, decision")
	ErrSursis              = newError(CodeRule, "sursis", "this sursis is not one the law allows")
	ErrNoSursis            = newError(CodeRule, "no-sursis", "the sanction has no sursis that may be revoked")
	ErrSanctionEffaced     = newError(CodeRule, "sanction-effaced", "the sanction is effaced from the student's file")
	ErrSanctionNotFound    = newError(CodeNotFound, "sanction-not-found", "no such sanction on the student's file")
	ErrSanctionAnnulled    = newError(CodeRule, "sanction-annulled", "the sanction is already annulled")
	ErrDisciplineActExists = newError(CodeConflict, "discipline-act-exists", "an act with this id is already on the student's file")
)

// MaxExclusionDays is the longest temporary exclusion the head may
// pronounce (code de l'éducation, R. 511-13).
const MaxExclusionDays = 8

// Valid reports whether k is a known punishment.
func (k PunishmentKind) Valid() bool {
	switch k {
	case PunishmentExtraWork, PunishmentDetention, PunishmentLessonExclusion:
		return true
	}
	return false
}

// Valid reports whether k is a sanction of the scale.
func (k SanctionKind) Valid() bool { return k.Rank() > 0 }

// Punishment is a punishment on a student's file.
type Punishment struct {
	ID    uuid.UUID
	Group uuid.UUID
	Kind  PunishmentKind
	Date  Date
}

// Sanction is a sanction on a student's file; an annulled or effaced one
// stays in the stream.
type Sanction struct {
	ID       uuid.UUID
	Kind     SanctionKind
	Date     Date
	Days     int
	Incident uuid.UUID
	Annulled bool
	// Sursis is the sanction's sursis, nil when it has none.
	Sursis  *Sursis
	Revoked bool
	// EffacedOn is the day it leaves the file by the passing of time (zero:
	// at the end of secondary schooling); Effaced is set by an effacement
	// on a decision.
	EffacedOn Date
	Effaced   bool
}

// effacedBy reports whether the sanction is effaced from the file on day.
func (s *Sanction) effacedBy(day Date) bool {
	return s.Effaced || (!s.EffacedOn.IsZero() && !day.Before(s.EffacedOn))
}

// Discipline is a student's disciplinary file: the state of their
// discipline stream.
type Discipline struct {
	Student     uuid.UUID
	Punishments map[uuid.UUID]*Punishment
	Sanctions   map[uuid.UUID]*Sanction
}

// Apply folds an event.
func (d *Discipline) Apply(e Event) {
	switch e := e.(type) {
	case PunishmentGiven:
		if d.Punishments == nil {
			d.Punishments = make(map[uuid.UUID]*Punishment)
		}
		d.Student = e.Student
		d.Punishments[e.Punishment] = &Punishment{ID: e.Punishment, Group: e.Group, Kind: e.Kind, Date: e.Date}
	case SanctionPronounced:
		if d.Sanctions == nil {
			d.Sanctions = make(map[uuid.UUID]*Sanction)
		}
		d.Student = e.Student
		eff, _ := e.EffacementDay()
		d.Sanctions[e.Sanction] = &Sanction{ID: e.Sanction, Kind: e.Kind, Date: e.Date, Days: e.Days, Incident: e.Incident,
			Sursis: e.Sursis, EffacedOn: eff}
	case SanctionAnnulled:
		if s := d.Sanctions[e.Sanction]; s != nil {
			s.Annulled = true
		}
	case SursisRevoked:
		if s := d.Sanctions[e.Sanction]; s != nil {
			s.Revoked = true
		}
	case SanctionEffaced:
		if s := d.Sanctions[e.Sanction]; s != nil {
			s.Effaced = true
		}
	}
}

// holds reports whether an act with id is on the file, whatever its kind:
// ids are the acts' identities, so none is reused.
func (d *Discipline) holds(id uuid.UUID) bool {
	_, p := d.Punishments[id]
	_, s := d.Sanctions[id]
	return p || s
}

// checkNewAct checks the id of an act about to be put on the file.
func (d *Discipline) checkNewAct(id uuid.UUID) error {
	if id == uuid.Nil {
		return Errorf(ErrInvalid, "the act's id is required")
	}
	if d.holds(id) {
		return Errorf(ErrDisciplineActExists, "%s", id)
	}
	return nil
}

// recordsSchoolLife refuses the profiles that record no school-life acts
// (students, relatives, guests, administrators).
func recordsSchoolLife(actor Actor) error {
	switch actor.Profile {
	case ProfileTeacher, ProfilePersonnel, ProfileSystem:
		return nil
	}
	return Errorf(ErrNoSchoolLifeActs, "profile %s", actor.Profile)
}

// mustBeStudent checks that a is the account of student id.
func (a *Account) mustBeStudent(id uuid.UUID) error {
	if !a.Exists {
		return Errorf(ErrUnknownStudent, "%s", id)
	}
	if a.Profile != ProfileStudent {
		return Errorf(ErrNotAStudent, "%s", id)
	}
	return nil
}

// mayDecideOnFile checks that actor may decide on the sanctions of the
// student whose account is student (id): the head of its establishment. A
// student who has left may still see a decision on their sanctions.
func mayDecideOnFile(actor Actor, student *Account, id uuid.UUID) error {
	if err := recordsSchoolLife(actor); err != nil {
		return err
	}
	if err := student.mustBeStudent(id); err != nil {
		return err
	}
	return mayDecideSanctions(actor, student.Establishment)
}

// mayDecideSanctions checks that actor heads establishment uai.
func mayDecideSanctions(actor Actor, uai string) error {
	if actor.Profile == ProfilePersonnel && actor.Establishment != uai {
		return Errorf(ErrWrongEstablishment, "the student belongs to %s", uai)
	}
	if !actor.IsHead(uai) {
		return Errorf(ErrNotHead, "%s %s", actor.Profile, actor.Function)
	}
	return nil
}

// GivePunishment is the command that gives a student a punishment. Group is
// the group it is given in: required of a teacher, who punishes only in the
// groups they teach. An unset Punishment gets a new id.
type GivePunishment struct {
	Punishment uuid.UUID      `json:"punishment,omitempty"`
	Student    uuid.UUID      `json:"student"`
	Group      uuid.UUID      `json:"group,omitempty"`
	Kind       PunishmentKind `json:"kind"`
	Date       Date           `json:"date" date:"act"`
	Reason     string         `json:"reason" text:"text"`
}

// GivePunishment decides a punishment. student is the student's account
// state; g is the state of cmd.Group (ignored when cmd.Group is unset).
func (d *Discipline) GivePunishment(actor Actor, student *Account, g *Group, cmd GivePunishment) ([]Event, error) {
	if err := recordsSchoolLife(actor); err != nil {
		return nil, err
	}
	if err := student.mustBeStudent(cmd.Student); err != nil {
		return nil, err
	}
	if student.Closed {
		return nil, Errorf(ErrAccountClosed, "%s", cmd.Student)
	}
	switch {
	case cmd.Group != uuid.Nil:
		if g == nil || !g.Exists {
			return nil, Errorf(ErrUnknownGroup, "%s", cmd.Group)
		}
		if err := mayRecordFor(actor, g); err != nil {
			return nil, err
		}
		if !g.HasStudent(cmd.Student) || g.Establishment != student.Establishment {
			return nil, Errorf(ErrStudentNotInGroup, "student %s, group %s", cmd.Student, g.Name)
		}
	case actor.Profile == ProfileTeacher:
		// The write side keeps no index of a student's groups; naming the
		// group is how a teacher shows they teach the student.
		return nil, Errorf(ErrInvalid, "a teacher names the group the punishment is given in")
	case !actor.IsStaff(student.Establishment):
		return nil, Errorf(ErrWrongEstablishment, "the student belongs to %s", student.Establishment)
	}
	if !cmd.Kind.Valid() {
		return nil, Errorf(ErrInvalid, "punishment %q is not devoir_supplementaire, retenue or exclusion_de_cours", cmd.Kind)
	}
	if cmd.Date.IsZero() {
		return nil, Errorf(ErrInvalid, "the date is required")
	}
	if strings.TrimSpace(cmd.Reason) == "" {
		return nil, Errorf(ErrInvalid, "a punishment needs a reason")
	}
	if err := d.checkNewAct(cmd.Punishment); err != nil {
		return nil, err
	}
	return []Event{PunishmentGiven{
		Punishment: cmd.Punishment, Student: cmd.Student, Group: cmd.Group,
		Kind: cmd.Kind, Date: cmd.Date, Reason: cmd.Reason,
	}}, nil
}

// PronounceSanction is the command by which the head, alone or recording
// the disciplinary council's decision, pronounces a sanction. Days is the
// length of a temporary exclusion (0 otherwise), Hours that of a mesure de
// responsabilisation (optional); Incident, when set, is the incident that
// led to it. An unset Sanction gets a new id.
type PronounceSanction struct {
	Sanction uuid.UUID    `json:"sanction,omitempty"`
	Student  uuid.UUID    `json:"student"`
	Kind     SanctionKind `json:"kind"`
	Date     Date         `json:"date" date:"act"`
	Days     int          `json:"days,omitempty"`
	Incident uuid.UUID    `json:"incident,omitempty"`
	Reason   string       `json:"reason" text:"text"`
	// Authority is who pronounces it: the head (the default) or the
	// disciplinary council, whose sitting Council then describes.
	Authority SanctionAuthority `json:"authority,omitempty"`
	Council   *CouncilSession   `json:"council,omitempty"`
	Hours     int               `json:"hours,omitempty"`
	Annex     string            `json:"annex,omitempty" text:"name"`
	Sursis    *Sursis           `json:"sursis,omitempty"`
}

// PronounceSanction decides a sanction. student is the student's account
// state; incident the state of cmd.Incident (ignored when it is unset).
func (d *Discipline) PronounceSanction(actor Actor, student *Account, incident *Incident, cmd PronounceSanction) ([]Event, error) {
	if err := recordsSchoolLife(actor); err != nil {
		return nil, err
	}
	if err := student.mustBeStudent(cmd.Student); err != nil {
		return nil, err
	}
	if student.Closed {
		return nil, Errorf(ErrAccountClosed, "%s", cmd.Student)
	}
	if err := mayDecideSanctions(actor, student.Establishment); err != nil {
		return nil, err
	}
	if !cmd.Kind.Valid() {
		return nil, Errorf(ErrInvalid, "sanction %q is unknown", cmd.Kind)
	}
	if cmd.Date.IsZero() {
		return nil, Errorf(ErrInvalid, "the date is required")
	}
	if strings.TrimSpace(cmd.Reason) == "" {
		return nil, Errorf(ErrInvalid, "a sanction needs a reason")
	}
	if err := checkSanctionTerms(cmd); err != nil {
		return nil, err
	}
	if cmd.Incident != uuid.Nil {
		if incident == nil || !incident.Exists {
			return nil, Errorf(ErrUnknownIncident, "%s", cmd.Incident)
		}
		if incident.Establishment != student.Establishment {
			return nil, Errorf(ErrWrongEstablishment, "incident %s happened in %s, the student belongs to %s", cmd.Incident, incident.Establishment, student.Establishment)
		}
	}
	if err := d.checkNewAct(cmd.Sanction); err != nil {
		return nil, err
	}
	eff, _ := EffacementDate(cmd.Kind, cmd.Date)
	authority := cmd.Authority
	if authority == "" {
		authority = AuthorityHead
	}
	return []Event{SanctionPronounced{
		Sanction: cmd.Sanction, Student: cmd.Student, Kind: cmd.Kind, Date: cmd.Date,
		Days: cmd.Days, Incident: cmd.Incident, Reason: cmd.Reason,
		Authority: authority, Council: cmd.Council, Hours: cmd.Hours, Annex: strings.TrimSpace(cmd.Annex), Sursis: cmd.Sursis, EffacedOn: eff,
	}}, nil
}

// AnnulSanction is the command by which the head annuls a sanction.
type AnnulSanction struct {
	Student  uuid.UUID `json:"student"`
	Sanction uuid.UUID `json:"sanction"`
	Reason   string    `json:"reason" text:"reason"`
}

// AnnulSanction decides a sanction's annulment. student is the student's
// account state; a student who has left may still see a sanction annulled.
func (d *Discipline) AnnulSanction(actor Actor, student *Account, cmd AnnulSanction) ([]Event, error) {
	if err := mayDecideOnFile(actor, student, cmd.Student); err != nil {
		return nil, err
	}
	if strings.TrimSpace(cmd.Reason) == "" {
		return nil, Errorf(ErrInvalid, "an annulment needs a reason")
	}
	s := d.Sanctions[cmd.Sanction]
	if s == nil {
		return nil, Errorf(ErrSanctionNotFound, "sanction %s, student %s", cmd.Sanction, cmd.Student)
	}
	if s.Annulled {
		return nil, Errorf(ErrSanctionAnnulled, "%s", cmd.Sanction)
	}
	return []Event{SanctionAnnulled{Sanction: cmd.Sanction, Student: cmd.Student, Reason: cmd.Reason}}, nil
}
