package projections

// alerts.v1: what the alert process reads (the roll calls, the members of
// the groups called, the absences and lateness of each lesson) and the
// alerts themselves, open or handled, for the office's list.
//
// Collections (key -> document):
//
//	rollcalls  "UAI|date|lesson id" -> AlertRollCall
//	members    "group id|student id" -> {} (students only)
//	absences   "lesson id|student id" -> AlertAbsence (the absence as it stands)
//	lateness   "UAI|date|lesson id|student id" -> AlertLateness
//	alerts     "UAI|alert id" -> AlertEntry
//	letters    "student id|sent at (UTC, RFC 3339)|letter id" -> LetterEntry
//
// A group's members are the members as they stand when the process reads
// them: a student who joined a class mid-month is counted on the roll
// calls of that class before they joined as present, never as absent.

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/alerting"
)

// ProjectionAlerts is the persisted name of the alerts read model.
const ProjectionAlerts = "alerts.v1"

// Collections of alerts.v1.
const (
	alRollCalls = "rollcalls"
	alMembers   = "members"
	alAbsences  = "absences"
	alLateness  = "lateness"
	alAlerts    = "alerts"
	alLetters   = "letters"
)

var alertsCollections = []string{alRollCalls, alMembers, alAbsences, alLateness, alAlerts, alLetters}

// LetterEntry is a letter sent to a student's family.
type LetterEntry struct {
	Letter   uuid.UUID             `json:"letter"`
	Template domain.LetterTemplate `json:"template"`
	Channel  domain.LetterChannel  `json:"channel"`
	SentAt   time.Time             `json:"sent_at"`
	SentBy   uuid.UUID             `json:"sent_by"`
	From     domain.Date           `json:"from"`
	To       domain.Date           `json:"to"`
}

// AlertRollCall is a lesson whose roll was called.
type AlertRollCall struct {
	Lesson  uuid.UUID   `json:"lesson"`
	Group   uuid.UUID   `json:"group"`
	Date    domain.Date `json:"date"`
	Slot    domain.Slot `json:"slot"`
	Subject string      `json:"subject"`
	Teacher uuid.UUID   `json:"teacher"`
}

// AlertAbsence is an absence as the alerts count it.
type AlertAbsence struct {
	Absence uuid.UUID           `json:"absence"`
	State   domain.AbsenceState `json:"state"`
}

// AlertLateness is a late arrival.
type AlertLateness struct {
	Student uuid.UUID   `json:"student"`
	Group   uuid.UUID   `json:"group"`
	Date    domain.Date `json:"date"`
}

// AlertEntry is an alert as the office sees it. Names are joined at query
// time.
type AlertEntry struct {
	domain.AlertRaised
	RaisedAt    time.Time          `json:"raised_at"`
	StudentName string             `json:"student_name,omitempty"`
	GroupName   string             `json:"group_name,omitempty"`
	TeacherName string             `json:"teacher_name,omitempty"`
	Handled     bool               `json:"handled"`
	Action      domain.AlertAction `json:"action,omitempty"`
	HandledBy   uuid.UUID          `json:"handled_by,omitempty"`
	HandlerName string             `json:"handler_name,omitempty"`
	HandledAt   time.Time          `json:"handled_at,omitzero"`
}

// AboutStudent reports whether the alert is about a student (thresholds),
// not a lesson (forgotten roll calls).
func (a AlertEntry) AboutStudent() bool { return a.Student != uuid.Nil }

// ByLedger reports whether the ledger handled the alert (a roll call
// taken late).
func (a AlertEntry) ByLedger() bool { return a.Handled && a.HandledBy == uuid.Nil }

type alertsModel struct{}

// NewAlerts returns the reducer of alerts.v1.
func NewAlerts() Reducer { return alertsModel{} }

func (alertsModel) Name() string { return ProjectionAlerts }

// Collections lists the collections the reducer writes.
func (alertsModel) Collections() []string { return slices.Clone(alertsCollections) }

func (alertsModel) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	uai := rec.Metadata.Establishment
	switch e := e.(type) {
	case domain.RollCallCompleted:
		b.Put(alRollCalls, uai+"|"+e.Date.String()+"|"+e.Lesson.String(), &AlertRollCall{
			Lesson: e.Lesson, Group: e.Group, Date: e.Date, Slot: e.Slot, Subject: e.Subject, Teacher: e.Teacher,
		})
	case domain.MemberJoined:
		if e.Role == domain.RoleStudent {
			b.Put(alMembers, e.Group.String()+"|"+e.Account.String(), &struct{}{})
		}
	case domain.MemberLeft:
		b.Delete(alMembers, e.Group.String()+"|"+e.Account.String())
	case domain.AbsenceRecorded:
		b.Put(alAbsences, e.Lesson.String()+"|"+e.Student.String(), &AlertAbsence{Absence: e.Absence, State: domain.AbsenceUnjustified})
	case domain.AbsenceCancelled:
		return alSetState(ctx, b, e.Lesson, e.Student, e.Absence, domain.AbsenceCancelledState)
	case domain.AbsenceReasonDeclared:
		return alSetState(ctx, b, e.Lesson, e.Student, e.Absence, domain.AbsenceDeclared)
	case domain.JustificationAccepted:
		return alSetState(ctx, b, e.Lesson, e.Student, e.Absence, domain.AbsenceJustified)
	case domain.JustificationRefused:
		return alSetState(ctx, b, e.Lesson, e.Student, e.Absence, domain.AbsenceRefused)
	case domain.LatenessRecorded:
		b.Put(alLateness, uai+"|"+e.Date.String()+"|"+e.Lesson.String()+"|"+e.Student.String(), &AlertLateness{
			Student: e.Student, Group: e.Group, Date: e.Date,
		})
	case domain.LetterSent:
		at := rec.Metadata.Time.UTC()
		b.Put(alLetters, e.Student.String()+"|"+at.Format(time.RFC3339)+"|"+e.Letter.String(), &LetterEntry{
			Letter: e.Letter, Template: e.Template, Channel: e.Channel, SentAt: at, SentBy: rec.Metadata.Actor, From: e.From, To: e.To,
		})
	case domain.AlertRaised:
		b.Put(alAlerts, e.Establishment+"|"+e.Alert.String(), &AlertEntry{AlertRaised: e, RaisedAt: rec.Metadata.Time.UTC()})
	case domain.AlertHandled:
		key := e.Establishment + "|" + e.Alert.String()
		a, ok, err := Get[AlertEntry](ctx, b, alAlerts, key)
		if err != nil || !ok {
			return err
		}
		a.Handled, a.Action, a.HandledBy, a.HandledAt = true, e.Action, rec.Metadata.Actor, rec.Metadata.Time.UTC()
		b.Put(alAlerts, key, a)
	}
	return nil
}

func alSetState(ctx context.Context, b *Batch, lesson, student, absence uuid.UUID, s domain.AbsenceState) error {
	key := lesson.String() + "|" + student.String()
	a, ok, err := Get[AlertAbsence](ctx, b, alAbsences, key)
	if err != nil || !ok || a.Absence != absence {
		return err
	}
	a.State = s
	b.Put(alAbsences, key, a)
	return nil
}

// AlertFacts gathers what the alert process needs for establishment uai at
// now: the roll calls, absences and lateness from the first day of the
// previous month (so that a month just ended is counted whole) to today,
// today's timetabled lessons and whether their roll was called, and the
// ids of the open alerts.
func (q *Queries) AlertFacts(ctx context.Context, uai string, now time.Time) (alerting.Facts, error) {
	today := domain.DateOf(now.In(q.loc))
	first := domain.Date{Year: today.Year, Month: today.Month, Day: 1}
	from := domain.DateOf(first.In(time.UTC).AddDate(0, -1, 0))
	f := alerting.Facts{Establishment: uai, Open: map[uuid.UUID]bool{}}
	r, err := q.reader(ctx, ProjectionAlerts)
	if err != nil {
		return f, err
	}
	lo, hi := uai+"|"+from.String(), PrefixEnd(uai+"|"+today.String())
	att, called, err := alAttendance(ctx, r, uai, from, today)
	if err != nil {
		return f, err
	}
	for _, a := range att {
		f.Attendance = append(f.Attendance, a.LessonAttendance)
	}
	if err := ScanJSON(ctx, r, alLateness, lo, hi, func(_ string, l AlertLateness) error {
		f.Lateness = append(f.Lateness, alerting.Lateness{Student: l.Student, Group: l.Group, Date: l.Date})
		return nil
	}); err != nil {
		return f, err
	}
	entries, err := q.lessonsOn(ctx, dirTimetable, uai, today)
	if err != nil {
		return f, err
	}
	for _, e := range entries {
		lesson := e.Lesson(today)
		f.Lessons = append(f.Lessons, alerting.ScheduledLesson{Lesson: lesson, Group: e.Group, Teacher: e.Teacher,
			Date: today, Slot: e.Slot, Called: called[lesson]})
	}
	est := uai + "|"
	if err := ScanJSON(ctx, r, alAlerts, est, PrefixEnd(est), func(_ string, a AlertEntry) error {
		if !a.Handled {
			f.Open[a.Alert] = true
		}
		return nil
	}); err != nil {
		return f, err
	}
	return f, nil
}

// Alerts lists establishment uai's alerts: the open ones first, then the
// handled ones, newest first in each, with names joined; open only when
// openOnly.
func (q *Queries) Alerts(ctx context.Context, uai string, openOnly bool) ([]AlertEntry, error) {
	r, err := q.reader(ctx, ProjectionAlerts)
	if err != nil {
		return nil, err
	}
	out := []AlertEntry{}
	est := uai + "|"
	if err := ScanJSON(ctx, r, alAlerts, est, PrefixEnd(est), func(_ string, a AlertEntry) error {
		if !openOnly || !a.Handled {
			out = append(out, a)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b AlertEntry) int {
		if a.Handled != b.Handled {
			if a.Handled {
				return 1
			}
			return -1
		}
		return cmp.Or(b.RaisedAt.Compare(a.RaisedAt), cmp.Compare(a.Alert.String(), b.Alert.String()))
	})
	names, err := q.newDirNames(ctx)
	if err != nil {
		return nil, err
	}
	for i := range out {
		a := &out[i]
		for _, n := range []struct {
			id   uuid.UUID
			name *string
		}{{a.Student, &a.StudentName}, {a.Teacher, &a.TeacherName}, {a.HandledBy, &a.HandlerName}} {
			if n.id == uuid.Nil {
				continue
			}
			if *n.name, err = names.account(ctx, n.id); err != nil {
				return nil, err
			}
		}
		if a.Group != uuid.Nil {
			if a.GroupName, err = names.group(ctx, a.Group); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// TeacherAlerts lists the open forgotten-roll-call alerts of a teacher in
// establishment uai, for their home page.
func (q *Queries) TeacherAlerts(ctx context.Context, uai string, teacher uuid.UUID) ([]AlertEntry, error) {
	all, err := q.Alerts(ctx, uai, true)
	if err != nil {
		return nil, err
	}
	out := []AlertEntry{}
	for _, a := range all {
		if a.Kind == domain.AlertRollCallTeacher && a.Teacher == teacher {
			out = append(out, a)
		}
	}
	return out, nil
}

// attended is a student's mark at a lesson, with the lesson.
type attended struct {
	alerting.LessonAttendance
	Lesson  uuid.UUID
	Subject string
}

// alAttendance returns the mark of every member of each group whose roll
// was called in establishment uai from from to to, and the lessons
// called.
func alAttendance(ctx context.Context, r DocReader, uai string, from, to domain.Date) ([]attended, map[uuid.UUID]bool, error) {
	var calls []AlertRollCall
	called := map[uuid.UUID]bool{}
	if err := ScanJSON(ctx, r, alRollCalls, uai+"|"+from.String(), PrefixEnd(uai+"|"+to.String()), func(_ string, rc AlertRollCall) error {
		calls = append(calls, rc)
		called[rc.Lesson] = true
		return nil
	}); err != nil {
		return nil, nil, err
	}
	var out []attended
	members := map[uuid.UUID][]uuid.UUID{}
	for _, rc := range calls {
		students, ok := members[rc.Group]
		if !ok {
			prefix := rc.Group.String() + "|"
			if err := r.Scan(ctx, alMembers, prefix, PrefixEnd(prefix), func(key string, _ []byte) error {
				if id, err := uuid.Parse(key[len(prefix):]); err == nil {
					students = append(students, id)
				}
				return nil
			}); err != nil {
				return nil, nil, err
			}
			members[rc.Group] = students
		}
		for _, s := range students {
			var a AlertAbsence
			ok, err := GetJSON(ctx, r, alAbsences, rc.Lesson.String()+"|"+s.String(), &a)
			if err != nil {
				return nil, nil, err
			}
			mark := alerting.Present
			if ok {
				switch a.State {
				case domain.AbsenceJustified:
					mark = alerting.Justified
				case domain.AbsenceCancelledState:
				default:
					mark = alerting.Unjustified
				}
			}
			out = append(out, attended{LessonAttendance: alerting.LessonAttendance{Student: s, Group: rc.Group, Date: rc.Date, Slot: rc.Slot, Mark: mark},
				Lesson: rc.Lesson, Subject: rc.Subject})
		}
	}
	return out, called, nil
}

// LetterFilter selects the students a letter is written about.
type LetterFilter struct {
	From, To domain.Date
	// Threshold is the fewest unjustified half-days in the period
	// (counted by the establishment's rule).
	Threshold int
	// Group, when set, keeps the students of that class or group.
	Group uuid.UUID
}

// LetterCandidate is a student with unjustified absences in a period.
type LetterCandidate struct {
	Student     uuid.UUID       `json:"student"`
	StudentName string          `json:"student_name"`
	Group       uuid.UUID       `json:"group"`
	GroupName   string          `json:"group_name"`
	HalfDays    int             `json:"half_days"`
	Absences    []LetterAbsence `json:"absences"`
	Guardians   []AccountLink   `json:"guardians"`
	// Letters are the letters sent to the family so far, the latest
	// first.
	Letters []LetterEntry `json:"letters"`
}

// LetterAbsence is a lesson missed without justification.
type LetterAbsence struct {
	Date    domain.Date `json:"date"`
	Slot    domain.Slot `json:"slot"`
	Subject string      `json:"subject"`
}

// LetterCandidates returns the students of establishment uai with at
// least f.Threshold unjustified half-days from f.From to f.To, by the
// establishment's half-day rule in s, sorted by class and name, with their unjustified absences and
// their legal guardians from the directory.
func (q *Queries) LetterCandidates(ctx context.Context, uai string, f LetterFilter, s domain.AlertSettings) ([]LetterCandidate, error) {
	r, err := q.reader(ctx, ProjectionAlerts)
	if err != nil {
		return nil, err
	}
	att, _, err := alAttendance(ctx, r, uai, f.From, f.To)
	if err != nil {
		return nil, err
	}
	type key struct {
		student uuid.UUID
		date    domain.Date
	}
	days := map[key][]alerting.LessonAttendance{}
	missed := map[uuid.UUID][]LetterAbsence{}
	groups := map[uuid.UUID]uuid.UUID{}
	for _, a := range att {
		if f.Group != uuid.Nil && a.Group != f.Group {
			continue
		}
		days[key{a.Student, a.Date}] = append(days[key{a.Student, a.Date}], a.LessonAttendance)
		if a.Mark == alerting.Unjustified {
			missed[a.Student] = append(missed[a.Student], LetterAbsence{Date: a.Date, Slot: a.Slot, Subject: a.Subject})
		}
		groups[a.Student] = a.Group
	}
	halfDays := map[uuid.UUID]int{}
	for k, lessons := range days {
		counts, _, err := alerting.UnjustifiedHalfDays(lessons, alerting.Policy(s))
		if err != nil {
			return nil, err
		}
		for _, n := range counts {
			halfDays[k.student] += n
		}
	}
	names, err := q.newDirNames(ctx)
	if err != nil {
		return nil, err
	}
	threshold := max(f.Threshold, 1)
	out := []LetterCandidate{}
	for student, n := range halfDays {
		if n < threshold {
			continue
		}
		c := LetterCandidate{Student: student, Group: groups[student], HalfDays: n, Absences: missed[student]}
		slices.SortFunc(c.Absences, func(a, b LetterAbsence) int {
			return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.Slot.Start, b.Slot.Start))
		})
		if c.GroupName, err = names.group(ctx, c.Group); err != nil {
			return nil, err
		}
		acc, err := q.Account(ctx, student)
		if err != nil {
			return nil, err
		}
		c.StudentName = acc.DisplayName
		if c.Letters, err = alLettersOf(ctx, r, student); err != nil {
			return nil, err
		}
		for _, l := range acc.Relatives {
			if l.LegalGuardian {
				c.Guardians = append(c.Guardians, l)
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b LetterCandidate) int {
		return cmp.Or(cmp.Compare(a.GroupName, b.GroupName), cmp.Compare(a.StudentName, b.StudentName), cmp.Compare(a.Student.String(), b.Student.String()))
	})
	return out, nil
}

// alLettersOf returns the letters sent about a student, the latest first.
func alLettersOf(ctx context.Context, r DocReader, student uuid.UUID) ([]LetterEntry, error) {
	out := []LetterEntry{}
	prefix := student.String() + "|"
	err := ScanJSON(ctx, r, alLetters, prefix, PrefixEnd(prefix), func(_ string, l LetterEntry) error {
		out = append(out, l)
		return nil
	})
	slices.Reverse(out)
	return out, err
}
