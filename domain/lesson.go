package domain

import (
	"strings"

	"github.com/google/uuid"
)

// School-life errors of the lesson aggregate.
var (
	ErrNotTeacherOfGroup       = newError(CodeForbidden, "not-teacher-of-group", "the actor does not teach this group")
	ErrNoSchoolLifeActs        = newError(CodeForbidden, "no-school-life-acts", "this profile records no school-life acts")
	ErrStudentNotInGroup       = newError(CodeRule, "student-not-in-group", "student is not in the group")
	ErrAbsenceAlreadyRecorded  = newError(CodeRule, "absence-already-recorded", "absence already recorded for this student and lesson")
	ErrLatenessAlreadyRecorded = newError(CodeRule, "lateness-already-recorded", "lateness already recorded for this student and lesson")
	ErrAbsentAndLate           = newError(CodeInvalid, "absent-and-late", "a student is either absent or late")
	ErrAbsenceNotFound         = newError(CodeNotFound, "absence-not-found", "no absence recorded for this student and lesson")
	ErrAbsenceCancelled        = newError(CodeRule, "absence-cancelled", "the absence was cancelled")
	ErrAbsenceDecided          = newError(CodeRule, "absence-decided", "the absence's justification was already accepted")
	ErrNotRelativeOfStudent    = newError(CodeForbidden, "not-relative-of-student", "only the student's own relatives declare reasons")
	ErrUnknownReason           = newError(CodeRule, "unknown-reason", "reason is not in the establishment's list")
	ErrReasonDoesNotJustify    = newError(CodeRule, "reason-does-not-justify", "this reason does not justify an absence")
	ErrReasonJustifies         = newError(CodeRule, "reason-justifies", "a refusal needs a reason that does not justify")
)

// AbsenceState is where an absence stands.
type AbsenceState string

// Absence states.
const (
	AbsenceUnjustified    AbsenceState = "unjustified"
	AbsenceDeclared       AbsenceState = "reason_declared"
	AbsenceJustified      AbsenceState = "justified"
	AbsenceRefused        AbsenceState = "refused"
	AbsenceCancelledState AbsenceState = "cancelled"
)

// Absence is one student's absence from a lesson.
type Absence struct {
	ID      uuid.UUID
	Student uuid.UUID
	State   AbsenceState
}

// Lesson is one lesson of a group (group, date, slot): its roll calls,
// absences, lateness and content.
type Lesson struct {
	ID        uuid.UUID
	Group     uuid.UUID
	Date      Date
	Slot      Slot
	Subject   string
	RollCalls int
	Absences  map[uuid.UUID]*Absence // by student
	Late      map[uuid.UUID]int      // student -> minutes
	Content   string
}

// Apply folds an event.
func (l *Lesson) Apply(e Event) {
	switch e := e.(type) {
	case RollCallCompleted:
		l.ID, l.Group, l.Date, l.Slot, l.Subject = e.Lesson, e.Group, e.Date, e.Slot, e.Subject
		l.RollCalls++
	case AbsenceRecorded:
		if l.Absences == nil {
			l.Absences = make(map[uuid.UUID]*Absence)
		}
		l.Absences[e.Student] = &Absence{ID: e.Absence, Student: e.Student, State: AbsenceUnjustified}
	case LatenessRecorded:
		if l.Late == nil {
			l.Late = make(map[uuid.UUID]int)
		}
		l.Late[e.Student] = e.Minutes
	case AbsenceCancelled:
		l.setState(e.Student, AbsenceCancelledState)
	case AbsenceReasonDeclared:
		l.setState(e.Student, AbsenceDeclared)
	case JustificationAccepted:
		l.setState(e.Student, AbsenceJustified)
	case JustificationRefused:
		l.setState(e.Student, AbsenceRefused)
	case LessonContentRecorded:
		l.ID, l.Group, l.Date, l.Slot, l.Subject = e.Lesson, e.Group, e.Date, e.Slot, e.Subject
		l.Content = e.Content
	}
}

func (l *Lesson) setState(student uuid.UUID, s AbsenceState) {
	if a := l.Absences[student]; a != nil {
		a.State = s
	}
}

// Late is a student arriving late, in minutes.
type Late struct {
	Student uuid.UUID `json:"student"`
	Minutes int       `json:"minutes"`
}

// RecordRollCall is the roll call of a lesson: the absent and the late.
// Everyone else in the group is present.
type RecordRollCall struct {
	Group   uuid.UUID   `json:"group"`
	Date    Date        `json:"date" date:"act"`
	Slot    Slot        `json:"slot"`
	Subject string      `json:"subject" text:"title"`
	Absent  []uuid.UUID `json:"absent"`
	Late    []Late      `json:"late"`
}

// LessonID is the id of the lesson the roll call is for.
func (c RecordRollCall) LessonID() uuid.UUID { return LessonID(c.Group, c.Date, c.Slot) }

// mayRecordFor checks that actor may record school-life acts for group g:
// a teacher of the group, or staff of its establishment.
func mayRecordFor(actor Actor, g *Group) error {
	switch actor.Profile {
	case ProfileTeacher:
		if !g.Teaches(actor.Account) {
			return Errorf(ErrNotTeacherOfGroup, "group %s", g.Name)
		}
		return nil
	case ProfilePersonnel, ProfileSystem:
		if !actor.IsStaff(g.Establishment) {
			return Errorf(ErrWrongEstablishment, "group %s belongs to %s", g.Name, g.Establishment)
		}
		return nil
	default:
		return Errorf(ErrNoSchoolLifeActs, "profile %s", actor.Profile)
	}
}

// RecordRollCall decides a roll call of lesson l for group g.
func (l *Lesson) RecordRollCall(actor Actor, g *Group, cmd RecordRollCall) ([]Event, error) {
	if !g.Exists {
		return nil, Errorf(ErrUnknownGroup, "%s", cmd.Group)
	}
	if err := mayRecordFor(actor, g); err != nil {
		return nil, err
	}
	if cmd.Date.IsZero() {
		return nil, Errorf(ErrInvalid, "date is required")
	}
	if err := cmd.Slot.Validate(); err != nil {
		return nil, err
	}
	lesson := cmd.LessonID()
	seen := make(map[uuid.UUID]bool, len(cmd.Absent)+len(cmd.Late))
	check := func(student uuid.UUID) error {
		if seen[student] {
			return Errorf(ErrAbsentAndLate, "student %s is listed twice", student)
		}
		seen[student] = true
		if !g.HasStudent(student) {
			return Errorf(ErrStudentNotInGroup, "student %s, group %s", student, g.Name)
		}
		return nil
	}
	events := make([]Event, 0, 1+len(cmd.Absent)+len(cmd.Late))
	events = append(events, RollCallCompleted{
		Lesson: lesson, Group: cmd.Group, Date: cmd.Date, Slot: cmd.Slot, Subject: cmd.Subject,
		Teacher: actor.Account, Absent: len(cmd.Absent), Late: len(cmd.Late),
	})
	for _, s := range cmd.Absent {
		if err := check(s); err != nil {
			return nil, err
		}
		if _, done := l.Absences[s]; done {
			return nil, Errorf(ErrAbsenceAlreadyRecorded, "student %s", s)
		}
		events = append(events, AbsenceRecorded{
			Absence: AbsenceID(lesson, s), Lesson: lesson, Student: s, Group: cmd.Group,
			Date: cmd.Date, Slot: cmd.Slot, Subject: cmd.Subject,
		})
	}
	for _, lt := range cmd.Late {
		if err := check(lt.Student); err != nil {
			return nil, err
		}
		if lt.Minutes <= 0 || lt.Minutes > 240 {
			return nil, Errorf(ErrInvalid, "lateness of %d minutes for student %s", lt.Minutes, lt.Student)
		}
		if _, done := l.Late[lt.Student]; done {
			return nil, Errorf(ErrLatenessAlreadyRecorded, "student %s", lt.Student)
		}
		if _, absent := l.Absences[lt.Student]; absent {
			return nil, Errorf(ErrAbsentAndLate, "student %s is already recorded absent", lt.Student)
		}
		events = append(events, LatenessRecorded{
			Lesson: lesson, Student: lt.Student, Group: cmd.Group,
			Date: cmd.Date, Slot: cmd.Slot, Subject: cmd.Subject, Minutes: lt.Minutes,
		})
	}
	return events, nil
}

// absence returns the student's absence, or the error that applies.
func (l *Lesson) absence(student uuid.UUID) (*Absence, error) {
	a := l.Absences[student]
	if a == nil {
		return nil, Errorf(ErrAbsenceNotFound, "student %s, lesson %s", student, l.ID)
	}
	return a, nil
}

// CancelAbsence corrects an absence recorded by mistake.
type CancelAbsence struct {
	Lesson  uuid.UUID `json:"lesson"`
	Student uuid.UUID `json:"student"`
	Reason  string    `json:"reason" text:"reason"`
}

// CancelAbsence decides an absence's cancellation: by a teacher of the
// group or staff of its establishment.
func (l *Lesson) CancelAbsence(actor Actor, g *Group, cmd CancelAbsence) ([]Event, error) {
	if err := mayRecordFor(actor, g); err != nil {
		return nil, err
	}
	if strings.TrimSpace(cmd.Reason) == "" {
		return nil, Errorf(ErrInvalid, "a cancellation needs a reason")
	}
	a, err := l.absence(cmd.Student)
	if err != nil {
		return nil, err
	}
	if a.State == AbsenceCancelledState {
		return nil, Errorf(ErrAbsenceCancelled, "absence %s", a.ID)
	}
	return []Event{AbsenceCancelled{Absence: a.ID, Lesson: l.ID, Student: cmd.Student, Reason: cmd.Reason}}, nil
}

// DeclareAbsenceReason is a relative's explanation of an absence.
type DeclareAbsenceReason struct {
	Lesson  uuid.UUID `json:"lesson"`
	Student uuid.UUID `json:"student"`
	Reason  string    `json:"reason" text:"reason"`
}

// DeclareReason decides a relative's declaration; student is the student's
// account state (it holds the relative links).
func (l *Lesson) DeclareReason(actor Actor, student *Account, cmd DeclareAbsenceReason) ([]Event, error) {
	if actor.Profile != ProfileRelative || !student.HasRelative(actor.Account) {
		return nil, Errorf(ErrNotRelativeOfStudent, "student %s", cmd.Student)
	}
	if strings.TrimSpace(cmd.Reason) == "" {
		return nil, Errorf(ErrInvalid, "the reason is required")
	}
	a, err := l.absence(cmd.Student)
	if err != nil {
		return nil, err
	}
	switch a.State {
	case AbsenceCancelledState:
		return nil, Errorf(ErrAbsenceCancelled, "absence %s", a.ID)
	case AbsenceJustified:
		return nil, Errorf(ErrAbsenceDecided, "absence %s", a.ID)
	}
	return []Event{AbsenceReasonDeclared{Absence: a.ID, Lesson: l.ID, Student: cmd.Student, Relative: actor.Account, Reason: cmd.Reason}}, nil
}

// DecideJustification is staff accepting or refusing an absence's
// justification with a reason code from the establishment's list.
type DecideJustification struct {
	Lesson     uuid.UUID `json:"lesson"`
	Student    uuid.UUID `json:"student"`
	Accept     bool      `json:"accept"`
	ReasonCode string    `json:"reason_code" text:"code"`
	Comment    string    `json:"comment,omitempty" text:"reason"`
}

// DecideJustification decides on a justification; g is the lesson's group,
// est its establishment.
func (l *Lesson) DecideJustification(actor Actor, g *Group, est *Establishment, cmd DecideJustification) ([]Event, error) {
	if !actor.IsStaff(g.Establishment) {
		if actor.Profile == ProfilePersonnel {
			return nil, Errorf(ErrWrongEstablishment, "group %s belongs to %s", g.Name, g.Establishment)
		}
		return nil, Errorf(ErrForbidden, "only the establishment's staff decide on justifications")
	}
	a, err := l.absence(cmd.Student)
	if err != nil {
		return nil, err
	}
	switch a.State {
	case AbsenceCancelledState:
		return nil, Errorf(ErrAbsenceCancelled, "absence %s", a.ID)
	case AbsenceJustified:
		return nil, Errorf(ErrAbsenceDecided, "absence %s", a.ID)
	}
	reason, ok := est.Reason(cmd.ReasonCode)
	if !ok {
		return nil, Errorf(ErrUnknownReason, "%q", cmd.ReasonCode)
	}
	if cmd.Accept {
		if !reason.Justifies {
			return nil, Errorf(ErrReasonDoesNotJustify, "%q", cmd.ReasonCode)
		}
		return []Event{JustificationAccepted{Absence: a.ID, Lesson: l.ID, Student: cmd.Student, ReasonCode: cmd.ReasonCode, Comment: cmd.Comment}}, nil
	}
	if reason.Justifies {
		return nil, Errorf(ErrReasonJustifies, "%q", cmd.ReasonCode)
	}
	return []Event{JustificationRefused{Absence: a.ID, Lesson: l.ID, Student: cmd.Student, ReasonCode: cmd.ReasonCode, Comment: cmd.Comment}}, nil
}

// RecordLessonContent fills the cahier de textes for a lesson.
type RecordLessonContent struct {
	Group   uuid.UUID `json:"group"`
	Date    Date      `json:"date" date:"act"`
	Slot    Slot      `json:"slot"`
	Subject string    `json:"subject" text:"title"`
	Content string    `json:"content" text:"text"`
}

// RecordContent decides the content of a lesson; only its teachers write it.
func (l *Lesson) RecordContent(actor Actor, g *Group, cmd RecordLessonContent) ([]Event, error) {
	if !g.Exists {
		return nil, Errorf(ErrUnknownGroup, "%s", cmd.Group)
	}
	if actor.Profile != ProfileTeacher || !g.Teaches(actor.Account) {
		if actor.Profile == ProfileTeacher {
			return nil, Errorf(ErrNotTeacherOfGroup, "group %s", g.Name)
		}
		return nil, Errorf(ErrForbidden, "only the group's teachers fill its cahier de textes")
	}
	if cmd.Date.IsZero() || strings.TrimSpace(cmd.Content) == "" {
		return nil, Errorf(ErrInvalid, "date and content are required")
	}
	if err := cmd.Slot.Validate(); err != nil {
		return nil, err
	}
	return []Event{LessonContentRecorded{
		Lesson: LessonID(cmd.Group, cmd.Date, cmd.Slot), Group: cmd.Group, Date: cmd.Date, Slot: cmd.Slot,
		Subject: cmd.Subject, Content: cmd.Content,
	}}, nil
}
