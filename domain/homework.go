package domain

import (
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Homework errors (cahier de textes).
var (
	ErrHomeworkExists      = newError(CodeConflict, "homework-exists", "homework already assigned")
	ErrHomeworkNotFound    = newError(CodeNotFound, "homework-not-found", "unknown homework")
	ErrHomeworkWithdrawn   = newError(CodeRule, "homework-withdrawn", "the homework was withdrawn")
	ErrHomeworkAlreadyDone = newError(CodeRule, "homework-already-done", "the student already marked this homework done")
	ErrDueBeforeLesson     = newError(CodeRule, "due-before-lesson", "a homework's due date is not before its lesson")
	ErrNotStudentOfGroup   = newError(CodeForbidden, "not-student-of-group", "only the group's students mark its homework done")
)

// Homework limits.
const (
	MaxWorkloadMinutes   = 600
	MaxInstructionsRunes = 10000
)

// Homework is one homework given to a group, folded from its stream.
type Homework struct {
	ID              uuid.UUID
	Exists          bool
	Group           uuid.UUID
	Subject         string
	Given           Date
	Due             Date
	Instructions    string
	WorkloadMinutes int
	Withdrawn       bool
	// Done holds the students who marked it done.
	Done map[uuid.UUID]bool
}

// Apply folds an event.
func (h *Homework) Apply(e Event) {
	switch e := e.(type) {
	case HomeworkAssigned:
		h.ID, h.Exists, h.Group, h.Subject = e.Homework, true, e.Group, e.Subject
		h.Given, h.Due, h.Instructions, h.WorkloadMinutes = e.Given, e.Due, e.Instructions, e.WorkloadMinutes
	case HomeworkAmended:
		h.Due, h.Instructions, h.WorkloadMinutes = e.Due, e.Instructions, e.WorkloadMinutes
	case HomeworkWithdrawn:
		h.Withdrawn = true
	case HomeworkDone:
		if h.Done == nil {
			h.Done = make(map[uuid.UUID]bool)
		}
		h.Done[e.Student] = true
	}
}

// mayTeachHomework checks that actor teaches group g: homework is set only
// by the group's own teachers (a personnel member who teaches it included).
func mayTeachHomework(actor Actor, g *Group) error {
	switch actor.Profile {
	case ProfileTeacher:
	case ProfilePersonnel:
		if actor.Establishment != g.Establishment {
			return Errorf(ErrWrongEstablishment, "group %s belongs to %s", g.Name, g.Establishment)
		}
	case ProfileStudent, ProfileRelative, ProfileGuest:
		return Errorf(ErrNoSchoolLifeActs, "profile %s sets no homework", actor.Profile)
	default:
		return Errorf(ErrForbidden, "only the group's teachers set its homework")
	}
	if !g.Teaches(actor.Account) {
		return Errorf(ErrNotTeacherOfGroup, "group %s", g.Name)
	}
	return nil
}

// checkHomeworkContent validates what Assign and Amend share.
func checkHomeworkContent(given, due Date, instructions string, workload int) error {
	if due.IsZero() {
		return Errorf(ErrInvalid, "due date is required")
	}
	if due.Before(given) {
		return Errorf(ErrDueBeforeLesson, "due %s, lesson %s", due, given)
	}
	if strings.TrimSpace(instructions) == "" {
		return Errorf(ErrInvalid, "instructions are required")
	}
	if n := utf8.RuneCountInString(instructions); n > MaxInstructionsRunes {
		return Errorf(ErrInvalid, "instructions are %d characters long, at most %d", n, MaxInstructionsRunes)
	}
	if workload < 0 || workload > MaxWorkloadMinutes {
		return Errorf(ErrInvalid, "workload of %d minutes is not within 0 to %d", workload, MaxWorkloadMinutes)
	}
	return nil
}

// AssignHomework gives homework to a group at a lesson (Given), due on Due.
// Subject defaults to the subject the teacher teaches the group.
type AssignHomework struct {
	Homework        uuid.UUID `json:"homework,omitempty"`
	Group           uuid.UUID `json:"group"`
	Subject         string    `json:"subject,omitempty" text:"title"`
	Given           Date      `json:"given" date:"plan"`
	Due             Date      `json:"due" date:"plan"`
	Instructions    string    `json:"instructions" text:"text"`
	WorkloadMinutes int       `json:"workload_minutes"`
}

// Assign decides a new homework for group g.
func (h *Homework) Assign(actor Actor, g *Group, cmd AssignHomework) ([]Event, error) {
	if !g.Exists {
		return nil, Errorf(ErrUnknownGroup, "%s", cmd.Group)
	}
	if err := mayTeachHomework(actor, g); err != nil {
		return nil, err
	}
	if cmd.Homework == uuid.Nil {
		return nil, Errorf(ErrInvalid, "homework id is required")
	}
	if cmd.Given.IsZero() {
		return nil, Errorf(ErrInvalid, "the lesson's date (given) is required")
	}
	if err := checkHomeworkContent(cmd.Given, cmd.Due, cmd.Instructions, cmd.WorkloadMinutes); err != nil {
		return nil, err
	}
	if h.Exists {
		return nil, Errorf(ErrHomeworkExists, "%s", cmd.Homework)
	}
	subject := strings.TrimSpace(cmd.Subject)
	if subject == "" {
		subject = g.Members[actor.Account][RoleTeacher]
	}
	if subject == "" {
		subject = g.Members[actor.Account][RoleHeadTeacher]
	}
	return []Event{HomeworkAssigned{
		Homework: cmd.Homework, Group: g.ID, Subject: subject, Given: cmd.Given, Due: cmd.Due,
		Instructions: cmd.Instructions, WorkloadMinutes: cmd.WorkloadMinutes,
	}}, nil
}

// existing returns the error that stops a decision on this homework: it is
// unknown, or withdrawn.
func (h *Homework) existing(id uuid.UUID) error {
	if !h.Exists {
		return Errorf(ErrHomeworkNotFound, "%s", id)
	}
	if h.Withdrawn {
		return Errorf(ErrHomeworkWithdrawn, "%s", id)
	}
	return nil
}

// AmendHomework changes a homework's due date, instructions and workload.
type AmendHomework struct {
	Homework        uuid.UUID `json:"homework"`
	Due             Date      `json:"due" date:"plan"`
	Instructions    string    `json:"instructions" text:"text"`
	WorkloadMinutes int       `json:"workload_minutes"`
}

// Amend decides an amendment; g is the homework's group. An amendment that
// changes nothing emits nothing.
func (h *Homework) Amend(actor Actor, g *Group, cmd AmendHomework) ([]Event, error) {
	if !h.Exists {
		return nil, Errorf(ErrHomeworkNotFound, "%s", cmd.Homework)
	}
	if err := mayTeachHomework(actor, g); err != nil {
		return nil, err
	}
	if err := h.existing(cmd.Homework); err != nil {
		return nil, err
	}
	if err := checkHomeworkContent(h.Given, cmd.Due, cmd.Instructions, cmd.WorkloadMinutes); err != nil {
		return nil, err
	}
	if cmd.Due == h.Due && cmd.Instructions == h.Instructions && cmd.WorkloadMinutes == h.WorkloadMinutes {
		return nil, nil
	}
	return []Event{HomeworkAmended{
		Homework: h.ID, Group: h.Group, Due: cmd.Due, Instructions: cmd.Instructions, WorkloadMinutes: cmd.WorkloadMinutes,
	}}, nil
}

// WithdrawHomework withdraws a homework; its history stays.
type WithdrawHomework struct {
	Homework uuid.UUID `json:"homework"`
}

// Withdraw decides a withdrawal; g is the homework's group.
func (h *Homework) Withdraw(actor Actor, g *Group, cmd WithdrawHomework) ([]Event, error) {
	if !h.Exists {
		return nil, Errorf(ErrHomeworkNotFound, "%s", cmd.Homework)
	}
	if err := mayTeachHomework(actor, g); err != nil {
		return nil, err
	}
	if err := h.existing(cmd.Homework); err != nil {
		return nil, err
	}
	return []Event{HomeworkWithdrawn{Homework: h.ID, Group: h.Group}}, nil
}

// MarkHomeworkDone is a student marking a homework done.
type MarkHomeworkDone struct {
	Homework uuid.UUID `json:"homework"`
}

// MarkDone decides a student's "done"; only a current student of the
// homework's group g marks it, for themself.
func (h *Homework) MarkDone(actor Actor, g *Group, cmd MarkHomeworkDone) ([]Event, error) {
	if !h.Exists {
		return nil, Errorf(ErrHomeworkNotFound, "%s", cmd.Homework)
	}
	if actor.Profile != ProfileStudent || !g.HasStudent(actor.Account) {
		return nil, Errorf(ErrNotStudentOfGroup, "group %s", g.Name)
	}
	if err := h.existing(cmd.Homework); err != nil {
		return nil, err
	}
	if h.Done[actor.Account] {
		return nil, Errorf(ErrHomeworkAlreadyDone, "%s", cmd.Homework)
	}
	return []Event{HomeworkDone{Homework: h.ID, Group: h.Group, Student: actor.Account}}, nil
}
