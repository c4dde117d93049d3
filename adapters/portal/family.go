package portal

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) familyPages() []page {
	return []page{
		{method: "GET", path: "/feed", profiles: []domain.Profile{domain.ProfileRelative, domain.ProfileStudent}, handle: p.feedPage},
		{method: "GET", path: "/students/{student}", handle: p.studentPage},
		{method: "POST", path: "/students/{student}/absences/{lesson}/reason", profiles: []domain.Profile{domain.ProfileRelative},
			handle: p.onForm(reasonForm, p.showReasonPage, p.declareReason)},
		{method: "POST", path: "/homework/{homework}/done", profiles: []domain.Profile{domain.ProfileStudent}, handle: p.homeworkDone},
	}
}

// liveTypes are the event types the live feed shows as they happen: those
// a family is notified of (the acts about a child, their homework, one's
// messages), as visibility derives them from the registry.
var liveTypes = visibility.FamilyFeed(domain.NewRegistry().Types())

// feedData is a notification feed that the live script extends: After is
// the position to resume from, Names and Labels (JSON, in data-
// attributes) let the script write an entry as the server does.
type feedData struct {
	Items  []feedItem
	After  string
	Names  string
	Labels string
	Live   string
}

// feedItem is one notification.
type feedItem struct {
	Position string
	Time     time.Time
	Label    string
	Students string
	Detail   string
}

var (
	feedHomeworkRE = regexp.MustCompile(`^Homework in (.+?) (?:amended, )?due (\S+)`)
	feedMinutesRE  = regexp.MustCompile(`\((\d+) min\)`)
)

var feedDateRE = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)

// feedDetail is the part of a notification's summary after its English
// label, in the reader's words: days as a sentence says them, kinds,
// seriousness and roles as their labels (the label itself is translated).
func feedDetail(v *view, n projections.Notification) string {
	s := n.Summary
	if m := feedHomeworkRE.FindStringSubmatch(s); m != nil {
		return m[1] + " → " + feedDates(v, m[2])
	}
	detail := ""
	if i := strings.Index(s, ": "); i >= 0 {
		detail = s[i+2:]
	}
	switch n.Type {
	case "punishment.given.v1", "sanction.pronounced.v1", "sanction.annulled.v1":
		kind, rest, _ := strings.Cut(detail, ",")
		kind, days, hasDays := strings.Cut(kind, " (")
		label := v.Label(strings.SplitN(n.Type, ".", 2)[0], kind)
		if hasDays {
			if d, err := strconv.Atoi(strings.TrimSuffix(days, " days)")); err == nil {
				label += " (" + v.N("file.days", d) + ")"
			}
		}
		if detail != "" {
			detail = label + "," + rest
		}
	case "incident.reported.v1":
		var roles []string
		for _, r := range strings.Split(detail, ", ") {
			if r != "" {
				roles = append(roles, v.Label("protagonist", r))
			}
		}
		detail = strings.Join(roles, ", ")
	}
	if m := feedMinutesRE.FindStringSubmatch(s); m != nil {
		detail += " (+" + m[1] + " min)"
	}
	return feedDates(v, detail)
}

// feedDates writes the ISO days of a text as a sentence says them.
func feedDates(v *view, s string) string {
	return feedDateRE.ReplaceAllStringFunc(s, func(iso string) string {
		if d, err := domain.ParseDate(iso); err == nil {
			return v.Day(d)
		}
		return iso
	})
}

// feed builds the feed of account from its notifications; names are the
// students the reader follows.
func (p *Portal) feed(v *view, notes []projections.Notification, names map[uuid.UUID]string) feedData {
	f := feedData{Live: "/api/v1/live"}
	for _, n := range notes {
		var students []string
		for _, s := range n.Students {
			if name, ok := names[s]; ok {
				students = append(students, name)
			}
		}
		f.Items = append(f.Items, feedItem{
			Position: n.Position.String(), Time: n.Time, Label: v.Label("event", n.Type),
			Students: strings.Join(students, ", "), Detail: feedDetail(v, n),
		})
	}
	if len(notes) > 0 {
		f.After = notes[0].Position.String()
	}
	byID := map[string]string{}
	for id, name := range names {
		byID[id.String()] = name
	}
	labels := map[string]string{}
	for _, t := range liveTypes {
		labels[t] = v.Label("event", t)
	}
	nb, _ := json.Marshal(byID)
	lb, _ := json.Marshal(labels)
	f.Names, f.Labels = string(nb), string(lb)
	return f
}

// parentHomeData is a relative's home: each child, the live feed.
type parentHomeData struct {
	View *projections.RelativeView
	Feed feedData
}

// NeedsReason reports whether a relative may still explain an absence.
func (parentHomeData) NeedsReason(a projections.FileAbsence) bool { return needsReason(a) }

func needsReason(a projections.FileAbsence) bool {
	return a.State == domain.AbsenceUnjustified || a.State == domain.AbsenceRefused
}

// reasonForm is the form of an absence's reason, on the parent's home and
// on the student's file, named after the lesson: a form whose student was
// changed is still shown again where it was filled.
var reasonForm = formSpec{
	named: func(r *http.Request) string {
		return "reason-" + r.PathValue("lesson")
	},
	fields: []string{"reason"},
}

// showReasonPage renders the page a refused reason was sent from: the
// student's file, or the parent's home.
func (p *Portal) showReasonPage(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	if reasonBack(r) == "/" {
		return p.showParentHome(w, r, v, status)
	}
	return p.showStudent(w, r, v, status)
}

// reasonBack is where a reason's form goes back to: the parent's home or
// the student's file.
func reasonBack(r *http.Request) string {
	back := localPath(r.PostForm.Get("back"))
	if back != "/students/"+r.PathValue("student") {
		back = "/"
	}
	return back
}

// parentHome shows each child's file and homework, and the notification
// feed that updates live.
func (p *Portal) parentHome(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showParentHome(w, r, v, http.StatusOK)
}

func (p *Portal) showParentHome(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	if err := web.MayReadRelative(v.principal, v.Me); err != nil {
		return err
	}
	rv, err := p.cfg.Queries.RelativeView(r.Context(), v.Me.ID, p.now())
	if err != nil {
		return err
	}
	names := map[uuid.UUID]string{}
	for _, c := range rv.Children {
		names[c.Student] = c.DisplayName
	}
	p.loadReasons(r, v, v.Me.Establishment)
	p.render(w, r, status, v, "parent_home", "title.parent", parentHomeData{View: rv, Feed: p.feed(v, rv.Notifications, names)})
	return nil
}

// feedPage is the notification feed alone, longer.
func (p *Portal) feedPage(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := web.MayUseMailbox(v.principal); err != nil {
		return err
	}
	page, err := p.cfg.Queries.Notifications(r.Context(), v.Me.ID, projections.Page{Limit: 100})
	if err != nil {
		return err
	}
	notes := page.Items
	names := map[uuid.UUID]string{v.Me.ID: v.Me.DisplayName}
	for _, c := range v.Me.Children {
		names[c.Account] = c.DisplayName
	}
	return p.ok(w, r, v, "feed", "title.feed", p.feed(v, notes, names))
}

// studentHomeData is a student's home.
type studentHomeData struct {
	View   *projections.StudentView
	Unread *projections.UnreadSummary
}

// studentHome shows the student's own file, homework (to mark done) and
// unread messages.
func (p *Portal) studentHome(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := web.MayReadStudent(v.principal, v.Me); err != nil {
		return err
	}
	sv, err := p.cfg.Queries.StudentView(r.Context(), v.Me.ID, p.now())
	if err != nil {
		return err
	}
	unread, err := p.cfg.Queries.UnreadMessages(r.Context(), v.Me.ID)
	if err != nil {
		return err
	}
	p.loadReasons(r, v, v.Me.Establishment)
	return p.ok(w, r, v, "student_home", "title.student", studentHomeData{View: sv, Unread: unread})
}

// studentData is a student's file page.
type studentData struct {
	Student *projections.AccountEntry
	File    *projections.StudentFile
	Agenda  []projections.AgendaHomework
	// Relative is set when the reader is one of the student's relatives:
	// they may explain absences.
	Relative bool
	Names    map[uuid.UUID]string
}

// NeedsReason reports whether a relative may still explain an absence.
func (studentData) NeedsReason(a projections.FileAbsence) bool { return needsReason(a) }

// studentPage is a student's file for the school year and their homework
// agenda, for whoever may read them (web.MayReadStudent).
func (p *Portal) studentPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showStudent(w, r, v, http.StatusOK)
}

func (p *Portal) showStudent(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	student, err := web.PathStudent(r, p.cfg.Queries)
	if err != nil {
		return err
	}
	if err := web.MayReadStudent(v.principal, student); err != nil {
		return err
	}
	t := today(p.now(), p.cfg.Location)
	file, err := p.cfg.Queries.StudentFile(r.Context(), student.ID, schoolYearStart(t), domain.Date{})
	if err != nil {
		return err
	}
	p.cfg.Trail.ReadStudent(v.principal, student.Establishment, student.ID, domain.ConsultView)
	var groups []uuid.UUID
	groupNames := map[uuid.UUID]string{}
	for _, m := range student.Groups {
		if m.Role == domain.RoleStudent {
			groups = append(groups, m.Group)
			groupNames[m.Group] = m.Shown()
		}
	}
	hw, err := p.cfg.Queries.Homework(r.Context(), groups, t, domain.Date{}, projections.Page{Limit: projections.ViewHomework})
	if err != nil {
		return err
	}
	data := studentData{
		Student: student, File: file, Names: map[uuid.UUID]string{},
		Relative: v.Me.Profile == domain.ProfileRelative && v.Me.HasChild(student.ID),
	}
	for _, h := range hw.Items {
		data.Agenda = append(data.Agenda, projections.AgendaHomework{
			Homework: h.Homework, Group: h.Group, GroupName: groupNames[h.Group], Subject: h.Subject,
			Given: h.Given, Due: h.Due, Instructions: h.Instructions, WorkloadMinutes: h.WorkloadMinutes,
			Done: h.DoneByStudent(student.ID),
		})
	}
	n := p.names()
	for _, pu := range file.Punishments {
		data.Names[pu.GivenBy] = n.of(r, pu.GivenBy)
	}
	for _, sa := range file.Sanctions {
		data.Names[sa.PronouncedBy] = n.of(r, sa.PronouncedBy)
	}
	p.loadReasons(r, v, student.Establishment)
	p.render(w, r, status, v, "student", "title.file", data)
	return nil
}

// schoolYearStart is the 1 September that starts d's school year.
func schoolYearStart(d domain.Date) domain.Date {
	y := d.Year
	if d.Month < time.September {
		y--
	}
	return domain.Date{Year: y, Month: time.September, Day: 1}
}

// declareReason records a relative's explanation of an absence.
func (p *Portal) declareReason(w http.ResponseWriter, r *http.Request, v *view) error {
	student, err := web.PathID(r, "student")
	if err != nil {
		return err
	}
	lesson, err := web.PathID(r, "lesson")
	if err != nil {
		return err
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	f := web.FormOf(r)
	reason := f.Need("reason")
	if f.Err() != nil {
		return f.Err()
	}
	res, err := p.cfg.Commands.DeclareAbsenceReason(r.Context(), req, domain.DeclareAbsenceReason{
		Lesson: lesson, Student: student, Reason: reason,
	})
	if err != nil {
		return err
	}
	return done(w, r, reasonBack(r), "reason", res)
}

// homeworkDone marks a homework done by the signed-in student.
func (p *Portal) homeworkDone(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := web.PathID(r, "homework")
	if err != nil {
		return err
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.MarkHomeworkDone(r.Context(), req, domain.MarkHomeworkDone{Homework: id})
	if err != nil {
		return err
	}
	return done(w, r, "/", "homework_done", res)
}
