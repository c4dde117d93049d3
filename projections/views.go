package projections

// Views compose the read models for one person's home page. They store
// nothing of their own: each is a handful of point lookups and range scans
// over directory.v1, studentfile.v1, schoollife.v1 and textbook.v1 (and
// mailbox.v1 and notifications.v1 for relatives).
//
//	TeacherView   the teacher's groups; today's lessons from their own
//	              timetable entries, each with its roll-call status; the
//	              upcoming homework (due today or later) of each group
//	StudentView   the student's groups, file for the current school year,
//	              upcoming homework with their own done flag
//	RelativeView  a StudentView per child, the relative's unread messages
//	              (mailbox.v1) and latest notifications (notifications.v1)
//
// "Today" and "now" are in the establishments' time zone (Queries.loc). The
// file covers the current school year (from 1 September) rather than the
// last 30 days: the counts families and staff talk about (half-days
// missed, sanctions) are yearly, and a year's file is small.

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// TeacherView is a teacher's home page.
type TeacherView struct {
	Teacher     uuid.UUID   `json:"teacher"`
	DisplayName string      `json:"display_name"`
	Date        domain.Date `json:"date"`
	// Groups the teacher teaches (one entry per role and group).
	Groups []Membership `json:"groups"`
	// Lessons of today from the teacher's timetable entries, by slot.
	Lessons []TeacherLesson `json:"lessons"`
	// Homework due today or later, per group taught.
	Homework []GroupHomework `json:"homework"`
}

// TeacherLesson is one of today's lessons of a teacher.
type TeacherLesson struct {
	Lesson        uuid.UUID   `json:"lesson"`
	Entry         uuid.UUID   `json:"entry"`
	Group         uuid.UUID   `json:"group"`
	GroupName     string      `json:"group_name"`
	Establishment string      `json:"establishment"`
	Date          domain.Date `json:"date"`
	Slot          domain.Slot `json:"slot"`
	Subject       string      `json:"subject"`
	Started       bool        `json:"started"`
	RollCallDone  bool        `json:"roll_call_done"`
}

// GroupHomework is the homework of one group.
type GroupHomework struct {
	Group     uuid.UUID       `json:"group"`
	GroupName string          `json:"group_name"`
	Homework  []HomeworkEntry `json:"homework"`
}

// StudentView is a student's home page (and, per child, a relative's).
type StudentView struct {
	Student     uuid.UUID   `json:"student"`
	DisplayName string      `json:"display_name"`
	Date        domain.Date `json:"date"`
	// MEF is the student's course of study and year (or level), in words
	// when a feed gave them.
	MEF string `json:"mef,omitempty"`
	// Groups the student belongs to.
	Groups []Membership `json:"groups"`
	// File covers the current school year.
	File *StudentFile `json:"file"`
	// Homework due today or later, with the student's own done flag.
	Homework []AgendaHomework `json:"homework"`
}

// AgendaHomework is a homework in a student's agenda.
type AgendaHomework struct {
	Homework        uuid.UUID   `json:"homework"`
	Group           uuid.UUID   `json:"group"`
	GroupName       string      `json:"group_name"`
	Subject         string      `json:"subject"`
	Given           domain.Date `json:"given"`
	Due             domain.Date `json:"due"`
	Instructions    string      `json:"instructions"`
	WorkloadMinutes int         `json:"workload_minutes"`
	Done            bool        `json:"done"`
}

// RelativeView is a relative's home page.
type RelativeView struct {
	Relative    uuid.UUID   `json:"relative"`
	DisplayName string      `json:"display_name"`
	Date        domain.Date `json:"date"`
	Children    []ChildView `json:"children"`
	// Unread is the relative's unread messages (mailbox.v1).
	Unread *UnreadSummary `json:"unread_messages"`
	// Notifications are the relative's latest notifications, newest first
	// (notifications.v1).
	Notifications []Notification `json:"notifications"`
}

// RelativeViewNotifications is how many notifications a relative's page
// shows.
const RelativeViewNotifications = 20

// ViewHomework is how many upcoming homework a page shows (per group on a
// teacher's), the soonest due: the plans' window bounds due dates, not
// their number.
const ViewHomework = 100

// ChildView is one child on a relative's page, with what the relative is
// to the child.
type ChildView struct {
	StudentView
	LegalGuardian bool            `json:"legal_guardian"`
	Relation      domain.Relation `json:"relation,omitempty"`
	LegalRank     int             `json:"legal_rank,omitempty"`
	Financial     bool            `json:"financial,omitempty"`
	Contact       bool            `json:"contact,omitempty"`
}

// viewFileFrom returns the first day (1 September) of the school year
// that d belongs to.
func viewFileFrom(d domain.Date) domain.Date {
	y := d.Year
	if d.Month < time.September {
		y--
	}
	return domain.Date{Year: y, Month: time.September, Day: 1}
}

// TeacherView returns a teacher's page for the day of now.
func (q *Queries) TeacherView(ctx context.Context, teacher uuid.UUID, now time.Time) (*TeacherView, error) {
	today := domain.DateOf(now.In(q.loc))
	acc, err := q.Account(ctx, teacher)
	if err != nil {
		return nil, err
	}
	v := &TeacherView{
		Teacher: teacher, DisplayName: acc.DisplayName, Date: today,
		Groups: []Membership{}, Lessons: []TeacherLesson{}, Homework: []GroupHomework{},
	}
	var groups []uuid.UUID
	names := map[uuid.UUID]string{}
	for _, m := range acc.Groups {
		if !m.Teaching() {
			continue
		}
		v.Groups = append(v.Groups, m)
		if _, dup := names[m.Group]; !dup {
			groups = append(groups, m.Group)
			names[m.Group] = m.Shown()
		}
	}

	entries, err := q.lessonsOn(ctx, dirTeacherTimetable, teacher.String(), today)
	if err != nil {
		return nil, err
	}
	office, err := q.reader(ctx, ProjectionOffice)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		lesson := e.Lesson(today)
		_, called, err := office.Get(ctx, offRollCalls, e.Establishment+"|"+today.String()+"|"+lesson.String())
		if err != nil {
			return nil, err
		}
		v.Lessons = append(v.Lessons, TeacherLesson{
			Lesson: lesson, Entry: e.Entry, Group: e.Group, GroupName: e.GroupName, Establishment: e.Establishment,
			Date: today, Slot: e.Slot, Subject: e.Subject,
			Started: !e.Slot.StartOn(today, q.loc).After(now), RollCallDone: called,
		})
	}

	textbook, err := q.reader(ctx, ProjectionTextbook)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		hw, err := homeworkOf(ctx, textbook, []uuid.UUID{g}, today, domain.Date{}, Page{Limit: ViewHomework})
		if err != nil {
			return nil, err
		}
		v.Homework = append(v.Homework, GroupHomework{Group: g, GroupName: names[g], Homework: hw.Items})
	}
	return v, nil
}

// StudentView returns a student's page for the day of now.
func (q *Queries) StudentView(ctx context.Context, student uuid.UUID, now time.Time) (*StudentView, error) {
	acc, err := q.Account(ctx, student)
	if err != nil {
		return nil, err
	}
	return q.studentView(ctx, acc, domain.DateOf(now.In(q.loc)))
}

func (q *Queries) studentView(ctx context.Context, acc *AccountEntry, today domain.Date) (*StudentView, error) {
	v := &StudentView{Student: acc.ID, DisplayName: acc.DisplayName, Date: today, MEF: acc.ShownMEF(),
		Groups: []Membership{}, Homework: []AgendaHomework{}}
	var groups []uuid.UUID
	names := map[uuid.UUID]string{}
	for _, m := range acc.Groups {
		if m.Role != domain.RoleStudent {
			continue
		}
		v.Groups = append(v.Groups, m)
		groups = append(groups, m.Group)
		names[m.Group] = m.Shown()
	}
	file, err := q.StudentFile(ctx, acc.ID, viewFileFrom(today), domain.Date{})
	if err != nil {
		return nil, err
	}
	v.File = file
	hw, err := q.Homework(ctx, groups, today, domain.Date{}, Page{Limit: ViewHomework})
	if err != nil {
		return nil, err
	}
	for _, h := range hw.Items {
		v.Homework = append(v.Homework, AgendaHomework{
			Homework: h.Homework, Group: h.Group, GroupName: names[h.Group], Subject: h.Subject,
			Given: h.Given, Due: h.Due, Instructions: h.Instructions, WorkloadMinutes: h.WorkloadMinutes,
			Done: h.DoneByStudent(acc.ID),
		})
	}
	return v, nil
}

// RelativeView returns a relative's page for the day of now: a student page
// per child, by child id.
func (q *Queries) RelativeView(ctx context.Context, relative uuid.UUID, now time.Time) (*RelativeView, error) {
	today := domain.DateOf(now.In(q.loc))
	acc, err := q.Account(ctx, relative)
	if err != nil {
		return nil, err
	}
	v := &RelativeView{Relative: relative, DisplayName: acc.DisplayName, Date: today, Children: []ChildView{}}
	for _, link := range acc.Children {
		child, err := q.Account(ctx, link.Account)
		if err != nil {
			return nil, err
		}
		sv, err := q.studentView(ctx, child, today)
		if err != nil {
			return nil, err
		}
		v.Children = append(v.Children, ChildView{StudentView: *sv, LegalGuardian: link.LegalGuardian, Relation: link.Relation,
			LegalRank: link.LegalRank, Financial: link.Financial, Contact: link.Contact})
	}
	if v.Unread, err = q.UnreadMessages(ctx, relative); err != nil {
		return nil, err
	}
	notes, err := q.Notifications(ctx, relative, Page{Limit: RelativeViewNotifications})
	if err != nil {
		return nil, err
	}
	v.Notifications = notes.Items
	return v, nil
}
