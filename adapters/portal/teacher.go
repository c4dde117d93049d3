package portal

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) teacherPages() []page {
	recorders := []domain.Profile{domain.ProfileTeacher, domain.ProfilePersonnel}
	return []page{
		{method: "GET", path: "/groups/{group}/rollcall/{entry}/{date}", profiles: recorders, handle: p.rollCallPage},
		{method: "POST", path: "/groups/{group}/rollcall/{entry}/{date}", profiles: recorders, handle: p.onForm(rollCallForm, p.showRollCall, p.recordRollCall)},
		{method: "GET", path: "/groups/{group}/textbook", handle: p.textbookPage},
		{method: "POST", path: "/groups/{group}/textbook/lessons", profiles: []domain.Profile{domain.ProfileTeacher}, handle: p.onForm(contentForm, p.showTextbook, p.recordContent)},
		{method: "POST", path: "/groups/{group}/homework", profiles: []domain.Profile{domain.ProfileTeacher}, handle: p.onForm(homeworkForm, p.showTextbook, p.assignHomework)},
	}
}

// The teachers' forms. The roll call's fields are named after each
// student ("s-<id>", "m-<id>"): a message about one of them goes on top.
var (
	rollCallForm = formSpec{name: "rollcall"}
	contentForm  = formSpec{name: "content", fields: []string{"date", "entry", "content"}}
	homeworkForm = formSpec{
		name: "homework", fields: []string{"given", "due", "instructions", "workload"},
		aliases: map[string]string{"workload_minutes": "workload"},
	}
)

// teacherHomeData is a teacher's day.
type teacherHomeData struct {
	Date, Prev, Next domain.Date
	IsToday          bool
	View             *projections.TeacherView
	// Forgotten are the teacher's lessons ended without a roll call
	// whose alert is open.
	Forgotten []projections.AlertEntry
}

// RollCallURL is the roll-call page of one of the day's lessons.
func (teacherHomeData) RollCallURL(l projections.TeacherLesson) string {
	return rollCallURL(l.Group, l.Entry, l.Date)
}

func rollCallURL(group, entry uuid.UUID, d domain.Date) string {
	return "/groups/" + group.String() + "/rollcall/" + entry.String() + "/" + d.String()
}

// teacherHome lists a day's lessons (today by default) with their
// roll-call state, and the homework to come.
func (p *Portal) teacherHome(w http.ResponseWriter, r *http.Request, v *view) error {
	d, at, err := p.dayParam(r)
	if err != nil {
		return err
	}
	if err := web.MayReadTeacher(v.principal, v.Me); err != nil {
		return err
	}
	tv, err := p.cfg.Queries.TeacherView(r.Context(), v.Me.ID, at)
	if err != nil {
		return err
	}
	forgotten, err := p.cfg.Queries.TeacherAlerts(r.Context(), v.Me.Establishment, v.Me.ID)
	if err != nil {
		return err
	}
	return p.ok(w, r, v, "teacher_home", "title.teacher", teacherHomeData{
		Date: d, Prev: d.AddDays(-1), Next: d.AddDays(1), IsToday: d == today(p.now(), p.cfg.Location), View: tv,
		Forgotten: forgotten,
	})
}

// rollCallData is the roll-call sheet of a lesson.
type rollCallData struct {
	Group    *projections.GroupEntry
	Entry    projections.TimetableEntry
	Date     domain.Date
	Done     bool
	Students []rollCallStudent
	// Absent and Late count what was recorded already.
	Absent, Late int
}

// rollCallStudent is a line of the sheet.
type rollCallStudent struct {
	ID   uuid.UUID
	Name string
	// Recorded is "absent" or "late" once recorded ("" otherwise): the
	// sheet then shows it instead of the choices.
	Recorded string
	Minutes  int
}

// rollCallSheet loads a lesson (a group's timetable entry on a day) for a
// reader who may record its roll call: a teacher of the group or the
// establishment's personnel.
func (p *Portal) rollCallSheet(r *http.Request, v *view) (*rollCallData, error) {
	g, err := web.PathGroup(r, p.cfg.Queries)
	if err != nil {
		return nil, err
	}
	if err := web.MayReadGroup(v.principal, g); err != nil {
		return nil, err
	}
	if !g.Teaches(v.Me.ID) && !v.principal.Actor().IsStaff(g.Establishment) {
		return nil, domain.Errorf(domain.ErrForbidden, "only the group's teachers and the establishment's personnel call its roll")
	}
	entryID, err := web.PathID(r, "entry")
	if err != nil {
		return nil, err
	}
	d, err := domain.ParseDate(r.PathValue("date"))
	if err != nil {
		return nil, web.ErrInvalidPath.With("date %q is not a date (2006-01-02)", r.PathValue("date"))
	}
	i := slices.IndexFunc(g.Timetable, func(e projections.TimetableEntry) bool { return e.Entry == entryID })
	if i < 0 {
		return nil, domain.Errorf(domain.ErrUnknownEntry, "%s in group %s", entryID, g.Name)
	}
	entry := g.Timetable[i]
	if !entry.On(d) {
		return nil, domain.Errorf(domain.ErrInvalid, "group %s has no %s lesson on %s", g.Name, entry.Slot, d)
	}
	data := &rollCallData{Group: g, Entry: entry, Date: d}
	lesson := entry.Lesson(d)
	// What was recorded already: the office's absences and lateness of the
	// day, for this lesson only (students the reader teaches or, for
	// personnel, of their establishment).
	office, err := p.cfg.Queries.Office(r.Context(), g.Establishment, p.momentOf(d), projections.Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	recorded := map[uuid.UUID]rollCallStudent{}
	for _, a := range office.Absences {
		if a.Lesson == lesson {
			recorded[a.Student] = rollCallStudent{Recorded: "absent"}
			data.Absent++
		}
	}
	for _, l := range office.Lateness {
		if l.Lesson == lesson {
			recorded[l.Student] = rollCallStudent{Recorded: "late", Minutes: l.Minutes}
			data.Late++
		}
	}
	data.Done = len(recorded) > 0
	if !data.Done && entry.Teacher == v.Me.ID {
		tv, err := p.cfg.Queries.TeacherView(r.Context(), v.Me.ID, p.momentOf(d))
		if err != nil {
			return nil, err
		}
		for _, l := range tv.Lessons {
			if l.Lesson == lesson {
				data.Done = l.RollCallDone
			}
		}
	}
	for _, m := range g.Members[domain.RoleStudent] {
		st := recorded[m.Account]
		st.ID, st.Name = m.Account, m.DisplayName
		data.Students = append(data.Students, st)
	}
	return data, nil
}

// rollCallPage is the sheet: the class list, one tap per absent or late
// student, one tap to submit.
func (p *Portal) rollCallPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showRollCall(w, r, v, http.StatusOK)
}

// showRollCall renders the sheet with status (a refused sheet's).
func (p *Portal) showRollCall(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	data, err := p.rollCallSheet(r, v)
	if err != nil {
		return err
	}
	p.render(w, r, status, v, "rollcall", "title.rollcall", data)
	return nil
}

// recordRollCall records the sheet: the students marked absent or late
// (with minutes), in one command.
func (p *Portal) recordRollCall(w http.ResponseWriter, r *http.Request, v *view) error {
	data, err := p.rollCallSheet(r, v)
	if err != nil {
		return err
	}
	cmd := domain.RecordRollCall{Group: data.Group.ID, Date: data.Date, Slot: data.Entry.Slot, Subject: data.Entry.Subject}
	for _, st := range data.Students {
		if st.Recorded != "" {
			continue
		}
		switch r.PostForm.Get("s-" + st.ID.String()) {
		case "absent":
			cmd.Absent = append(cmd.Absent, st.ID)
		case "late":
			minutes, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("m-" + st.ID.String())))
			if err != nil {
				return atField(domain.Errorf(domain.ErrInvalid, "the minutes late of %s are not a number", st.Name), "", v.T("rollcall.minutes_invalid", st.Name))
			}
			cmd.Late = append(cmd.Late, domain.Late{Student: st.ID, Minutes: minutes})
		}
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.RecordRollCall(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	target := "/"
	if v.Me.Profile == domain.ProfileTeacher {
		target = "/?date=" + data.Date.String()
	}
	return done(w, r, target, "rollcall", res)
}

// textbookData is a group's cahier de textes over a period.
type textbookData struct {
	Group    *projections.GroupEntry
	From, To domain.Date
	Today    domain.Date
	Textbook *projections.Textbook
	// Teaching is set for the group's teachers: they see the forms.
	Teaching bool
	// Entries are the reader's own timetable entries in the group.
	Entries []projections.TimetableEntry
	Subject string
	Names   map[uuid.UUID]string
}

// textbookPage shows the cahier de textes to whoever may read it; the
// group's teachers fill it from the same page.
func (p *Portal) textbookPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showTextbook(w, r, v, http.StatusOK)
}

// showTextbook renders the cahier de textes with status (a refused
// form's).
func (p *Portal) showTextbook(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	g, err := web.PathGroup(r, p.cfg.Queries)
	if err != nil {
		return err
	}
	seeAll, err := web.MayReadTextbook(v.principal, g)
	if err != nil {
		return err
	}
	q := p.dec.Query(r)
	from, to := q.Date("from"), q.Date("to")
	if q.Err() != nil {
		return q.Err()
	}
	t := today(p.now(), p.cfg.Location)
	if from.IsZero() {
		from = t.AddDays(-14)
	}
	if to.IsZero() {
		to = t.AddDays(28)
	}
	tb, err := p.cfg.Queries.Textbook(r.Context(), g.ID, from, to)
	if err != nil {
		return err
	}
	data := textbookData{Group: g, From: from, To: to, Today: t, Textbook: tb, Teaching: g.Teaches(v.Me.ID), Names: map[uuid.UUID]string{}}
	for _, e := range g.Timetable {
		if e.Teacher == v.Me.ID {
			data.Entries = append(data.Entries, e)
		}
	}
	for _, m := range v.Me.Groups {
		if m.Group == g.ID && m.Teaching() && m.Subject != "" {
			data.Subject = m.Subject
		}
	}
	n := p.names()
	for _, l := range tb.Lessons {
		data.Names[l.RecordedBy] = n.of(r, l.RecordedBy)
	}
	for i, h := range tb.Homework {
		data.Names[h.AssignedBy] = n.of(r, h.AssignedBy)
		if !seeAll {
			// A student sees their own mark, a relative their children's.
			visible := web.VisibleStudents(v.principal)
			tb.Homework[i].DoneBy = slices.DeleteFunc(slices.Clone(h.DoneBy), func(id uuid.UUID) bool { return !slices.Contains(visible, id) })
		}
	}
	p.render(w, r, status, v, "textbook", "title.textbook", data)
	return nil
}

// recordContent records what a lesson covered.
func (p *Portal) recordContent(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := web.PathGroup(r, p.cfg.Queries)
	if err != nil {
		return err
	}
	f := web.FormOf(r)
	d, entryID, content := f.Date("date"), f.ID("entry"), f.Need("content")
	if f.Err() != nil {
		return f.Err()
	}
	i := slices.IndexFunc(g.Timetable, func(e projections.TimetableEntry) bool { return e.Entry == entryID })
	if i < 0 {
		return atField(domain.Errorf(domain.ErrUnknownEntry, "%s in group %s", entryID, g.Name), "entry", "")
	}
	e := g.Timetable[i]
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.RecordLessonContent(r.Context(), req, domain.RecordLessonContent{
		Group: g.ID, Date: d, Slot: e.Slot, Subject: e.Subject, Content: content,
	})
	if err != nil {
		return err
	}
	return done(w, r, "/groups/"+g.ID.String()+"/textbook", "content", res)
}

// assignHomework sets homework to the group.
func (p *Portal) assignHomework(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := web.PathGroup(r, p.cfg.Queries)
	if err != nil {
		return err
	}
	f := web.FormOf(r)
	cmd := domain.AssignHomework{
		Group: g.ID, Subject: f.Str("subject"), Given: f.Date("given"), Due: f.Date("due"),
		Instructions: f.Need("instructions"), WorkloadMinutes: f.OptInt("workload"),
	}
	if f.Err() != nil {
		return f.Err()
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.AssignHomework(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/groups/"+g.ID.String()+"/textbook", "homework", res)
}
