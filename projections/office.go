package projections

// schoollife.v1: the school-life office (vie scolaire) of each
// establishment: the day's absences and lateness, the absences awaiting a
// decision, and which lessons had their roll called.
//
// Collections (key -> document):
//
//	absences      absence id -> OfficeAbsence (the absence as it stands; the
//	              other two copies are found from it)
//	day_absences  "UAI|date|HH:MM|absence id" -> OfficeAbsence, every state
//	awaiting      "UAI|date|HH:MM|absence id" -> OfficeAbsence, only while it
//	              is unjustified or reason_declared (a refused absence whose
//	              reason is declared again comes back)
//	day_lateness  "UAI|date|HH:MM|lesson id|student id" -> OfficeLateness
//	rollcalls     "UAI|date|lesson id" -> RollCallEntry
//
// The establishment is the event's metadata establishment (the lesson's
// group's). Documents hold account and group ids, not names: the query
// joins display names from directory.v1. Names are personal data that the
// directory alone keeps (and forgets, if a person's data is erased), a name
// corrected there shows here at once, and a reducer reads only its own
// projection, so copying names would mean a second copy of the directory
// in this one.
//
// The roll calls not done are computed at query time from directory.v1's
// timetable (the establishment's lessons on today's weekday, within their
// from/until dates, started by now in the establishments' time zone) minus
// the roll calls of today.

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ProjectionOffice is the persisted name of the school-life office read
// model.
const ProjectionOffice = "schoollife.v1"

// Collections of schoollife.v1.
const (
	offAbsences    = "absences"
	offDayAbsences = "day_absences"
	offAwaiting    = "awaiting"
	offDayLateness = "day_lateness"
	offRollCalls   = "rollcalls"
)

var officeCollections = []string{offAbsences, offAwaiting, offDayAbsences, offDayLateness, offRollCalls}

// Office is the school-life office's dashboard for one establishment and
// day.
type Office struct {
	Establishment string      `json:"establishment"`
	Date          domain.Date `json:"date"`
	// Absences of the day, cancelled ones left out, by slot.
	Absences []OfficeAbsence `json:"absences"`
	// Lateness of the day, by slot.
	Lateness []OfficeLateness `json:"lateness"`
	// Awaiting lists the absences of the establishment that are
	// unjustified or whose reason is declared, oldest first: one page of
	// them (the query's), AwaitingNext naming the next.
	Awaiting []OfficeAbsence `json:"awaiting"`
	// MissingRollCalls lists today's timetabled lessons that have started
	// and whose roll has not been called, by slot.
	MissingRollCalls []MissingRollCall `json:"missing_roll_calls"`
	// awaitingNext is the cursor of the next page of Awaiting.
	awaitingNext string
}

// AwaitingNext is the cursor of the page of absences awaiting a decision
// after Awaiting's, empty when it was the last.
func (o *Office) AwaitingNext() string { return o.awaitingNext }

// OfficeAbsence is an absence as the office sees it. Names are joined at
// query time.
type OfficeAbsence struct {
	Absence        uuid.UUID           `json:"absence"`
	Establishment  string              `json:"establishment"`
	Student        uuid.UUID           `json:"student"`
	StudentName    string              `json:"student_name,omitempty"`
	Group          uuid.UUID           `json:"group"`
	GroupName      string              `json:"group_name,omitempty"`
	Lesson         uuid.UUID           `json:"lesson"`
	Date           domain.Date         `json:"date"`
	Slot           domain.Slot         `json:"slot"`
	Subject        string              `json:"subject"`
	State          domain.AbsenceState `json:"state"`
	DeclaredReason string              `json:"declared_reason,omitempty"`
}

// OfficeLateness is a late arrival as the office sees it.
type OfficeLateness struct {
	Student     uuid.UUID   `json:"student"`
	StudentName string      `json:"student_name,omitempty"`
	Group       uuid.UUID   `json:"group"`
	GroupName   string      `json:"group_name,omitempty"`
	Lesson      uuid.UUID   `json:"lesson"`
	Date        domain.Date `json:"date"`
	Slot        domain.Slot `json:"slot"`
	Subject     string      `json:"subject"`
	Minutes     int         `json:"minutes"`
}

// RollCallEntry records that a lesson's roll was called.
type RollCallEntry struct {
	Lesson  uuid.UUID   `json:"lesson"`
	Group   uuid.UUID   `json:"group"`
	Date    domain.Date `json:"date"`
	Slot    domain.Slot `json:"slot"`
	Subject string      `json:"subject"`
	Teacher uuid.UUID   `json:"teacher"`
	// Count is how many times it was called; At is when, last.
	Count int       `json:"count"`
	At    time.Time `json:"at"`
}

// MissingRollCall is a started lesson without a roll call.
type MissingRollCall struct {
	Lesson      uuid.UUID   `json:"lesson"`
	Entry       uuid.UUID   `json:"entry"`
	Group       uuid.UUID   `json:"group"`
	GroupName   string      `json:"group_name"`
	Date        domain.Date `json:"date"`
	Slot        domain.Slot `json:"slot"`
	Subject     string      `json:"subject"`
	Teacher     uuid.UUID   `json:"teacher"`
	TeacherName string      `json:"teacher_name,omitempty"`
}

type office struct{}

// NewOffice returns the reducer of schoollife.v1.
func NewOffice() Reducer { return office{} }

func (office) Name() string { return ProjectionOffice }

// Collections lists the collections the reducer writes.
func (office) Collections() []string { return slices.Clone(officeCollections) }

// Prefetch names the roll call an event counts and the absence it edits.
func (office) Prefetch(_ context.Context, _ *Batch, rec domain.Record, e domain.Event, want func(coll, key string)) {
	switch e := e.(type) {
	case domain.RollCallCompleted:
		want(offRollCalls, rec.Metadata.Establishment+"|"+e.Date.String()+"|"+e.Lesson.String())
	case domain.AbsenceCancelled:
		want(offAbsences, e.Absence.String())
	case domain.AbsenceReasonDeclared:
		want(offAbsences, e.Absence.String())
	case domain.JustificationAccepted:
		want(offAbsences, e.Absence.String())
	case domain.JustificationRefused:
		want(offAbsences, e.Absence.String())
	}
}

func (office) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	uai := rec.Metadata.Establishment
	switch e := e.(type) {
	case domain.RollCallCompleted:
		key := uai + "|" + e.Date.String() + "|" + e.Lesson.String()
		rc, _, err := Get[RollCallEntry](ctx, b, offRollCalls, key)
		if err != nil {
			return err
		}
		*rc = RollCallEntry{
			Lesson: e.Lesson, Group: e.Group, Date: e.Date, Slot: e.Slot, Subject: e.Subject,
			Teacher: e.Teacher, Count: rc.Count + 1, At: rec.Metadata.Time.UTC(),
		}
		b.Put(offRollCalls, key, rc)
	case domain.AbsenceRecorded:
		offPutAbsence(b, &OfficeAbsence{
			Absence: e.Absence, Establishment: uai, Student: e.Student, Group: e.Group, Lesson: e.Lesson,
			Date: e.Date, Slot: e.Slot, Subject: e.Subject, State: domain.AbsenceUnjustified,
		})
	case domain.AbsenceCancelled:
		return offEditAbsence(ctx, b, e.Absence, func(a *OfficeAbsence) { a.State = domain.AbsenceCancelledState })
	case domain.AbsenceReasonDeclared:
		return offEditAbsence(ctx, b, e.Absence, func(a *OfficeAbsence) {
			a.State, a.DeclaredReason = domain.AbsenceDeclared, e.Reason
		})
	case domain.JustificationAccepted:
		return offEditAbsence(ctx, b, e.Absence, func(a *OfficeAbsence) { a.State = domain.AbsenceJustified })
	case domain.JustificationRefused:
		return offEditAbsence(ctx, b, e.Absence, func(a *OfficeAbsence) { a.State = domain.AbsenceRefused })
	case domain.LatenessRecorded:
		b.Put(offDayLateness, uai+"|"+e.Date.String()+"|"+e.Slot.Start+"|"+e.Lesson.String()+"|"+e.Student.String(), &OfficeLateness{
			Student: e.Student, Group: e.Group, Lesson: e.Lesson, Date: e.Date, Slot: e.Slot, Subject: e.Subject, Minutes: e.Minutes,
		})
	}
	return nil
}

// offPutAbsence writes an absence's three documents.
func offPutAbsence(b *Batch, a *OfficeAbsence) {
	key := a.Establishment + "|" + a.Date.String() + "|" + a.Slot.Start + "|" + a.Absence.String()
	b.Put(offAbsences, a.Absence.String(), a)
	day := *a
	b.Put(offDayAbsences, key, &day)
	if a.State == domain.AbsenceUnjustified || a.State == domain.AbsenceDeclared {
		waiting := *a
		b.Put(offAwaiting, key, &waiting)
	} else {
		b.Delete(offAwaiting, key)
	}
}

func offEditAbsence(ctx context.Context, b *Batch, absence uuid.UUID, edit func(*OfficeAbsence)) error {
	a, ok, err := Get[OfficeAbsence](ctx, b, offAbsences, absence.String())
	if err != nil || !ok {
		return err
	}
	edit(a)
	offPutAbsence(b, a)
	return nil
}

// Office returns the dashboard of establishment uai for the day of now (in
// the establishments' time zone), with one page of the absences awaiting a
// decision: they pile up over the years where nobody decides, the day's
// lists are bounded by one day.
func (q *Queries) Office(ctx context.Context, uai string, now time.Time, awaiting Page) (*Office, error) {
	today := domain.DateOf(now.In(q.loc))
	r, err := q.reader(ctx, ProjectionOffice)
	if err != nil {
		return nil, err
	}
	o := &Office{
		Establishment: uai, Date: today,
		Absences: []OfficeAbsence{}, Lateness: []OfficeLateness{}, Awaiting: []OfficeAbsence{}, MissingRollCalls: []MissingRollCall{},
	}
	day := uai + "|" + today.String() + "|"
	if err := ScanJSON(ctx, r, offDayAbsences, day, PrefixEnd(day), func(_ string, a OfficeAbsence) error {
		if a.State != domain.AbsenceCancelledState {
			o.Absences = append(o.Absences, a)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := ScanJSON(ctx, r, offDayLateness, day, PrefixEnd(day), func(_ string, l OfficeLateness) error {
		o.Lateness = append(o.Lateness, l)
		return nil
	}); err != nil {
		return nil, err
	}
	est := uai + "|"
	waiting, err := scanPage[OfficeAbsence](ctx, r, offAwaiting, est, est, PrefixEnd(est), awaiting, nil)
	if err != nil {
		return nil, err
	}
	o.Awaiting, o.awaitingNext = waiting.Items, waiting.Next
	done := map[uuid.UUID]bool{}
	if err := ScanJSON(ctx, r, offRollCalls, day, PrefixEnd(day), func(_ string, rc RollCallEntry) error {
		done[rc.Lesson] = true
		return nil
	}); err != nil {
		return nil, err
	}
	entries, err := q.lessonsOn(ctx, dirTimetable, uai, today)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		lesson := e.Lesson(today)
		if done[lesson] || e.Slot.StartOn(today, q.loc).After(now) {
			continue
		}
		o.MissingRollCalls = append(o.MissingRollCalls, MissingRollCall{
			Lesson: lesson, Entry: e.Entry, Group: e.Group, GroupName: e.GroupName, Date: today,
			Slot: e.Slot, Subject: e.Subject, Teacher: e.Teacher,
		})
	}
	slices.SortStableFunc(o.MissingRollCalls, func(a, b MissingRollCall) int {
		return cmp.Or(strings.Compare(a.Slot.Start, b.Slot.Start), strings.Compare(a.GroupName, b.GroupName), uuidOrder(a.Group, b.Group))
	})
	if err := q.offNames(ctx, o); err != nil {
		return nil, err
	}
	return o, nil
}

// offNames fills the display names of students, teachers and groups.
func (q *Queries) offNames(ctx context.Context, o *Office) error {
	names, err := q.newDirNames(ctx)
	if err != nil {
		return err
	}
	for i := range o.Absences {
		if err := names.absence(ctx, &o.Absences[i]); err != nil {
			return err
		}
	}
	for i := range o.Awaiting {
		if err := names.absence(ctx, &o.Awaiting[i]); err != nil {
			return err
		}
	}
	for i := range o.Lateness {
		l := &o.Lateness[i]
		if l.StudentName, err = names.account(ctx, l.Student); err != nil {
			return err
		}
		if l.GroupName, err = names.group(ctx, l.Group); err != nil {
			return err
		}
	}
	for i := range o.MissingRollCalls {
		m := &o.MissingRollCalls[i]
		if m.TeacherName, err = names.account(ctx, m.Teacher); err != nil {
			return err
		}
	}
	return nil
}

// dirNames looks up display names in directory.v1, once per id.
type dirNames struct {
	r        DocReader
	accounts map[uuid.UUID]string
	groups   map[uuid.UUID]string
}

func (q *Queries) newDirNames(ctx context.Context) (dirNames, error) {
	r, err := q.directory(ctx)
	if err != nil {
		return dirNames{}, err
	}
	return dirNames{r: r, accounts: map[uuid.UUID]string{}, groups: map[uuid.UUID]string{}}, nil
}

func (n dirNames) absence(ctx context.Context, a *OfficeAbsence) error {
	var err error
	if a.StudentName, err = n.account(ctx, a.Student); err != nil {
		return err
	}
	a.GroupName, err = n.group(ctx, a.Group)
	return err
}

// account returns an account's display name ("" if it is unknown).
func (n dirNames) account(ctx context.Context, id uuid.UUID) (string, error) {
	if name, ok := n.accounts[id]; ok {
		return name, nil
	}
	var a AccountEntry
	if _, err := GetJSON(ctx, n.r, dirAccounts, id.String(), &a); err != nil {
		return "", err
	}
	n.accounts[id] = a.DisplayName
	return a.DisplayName, nil
}

// group returns a group's name ("" if it is unknown).
func (n dirNames) group(ctx context.Context, id uuid.UUID) (string, error) {
	if name, ok := n.groups[id]; ok {
		return name, nil
	}
	var g GroupEntry
	if _, err := GetJSON(ctx, n.r, dirGroups, id.String(), &g); err != nil {
		return "", err
	}
	n.groups[id] = g.Name
	return g.Name, nil
}
