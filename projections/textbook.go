package projections

// textbook.v1: the cahier de textes of each group: what each lesson covered
// and the homework set, by due date.
//
// Collections (key -> document):
//
//	lessons        "group|date|HH:MM|lesson id" -> LessonEntry (a later
//	               content for the same lesson replaces it)
//	homework       "group|due date|homework id" -> HomeworkEntry (amended in
//	               place, moved when its due date changes, deleted when
//	               withdrawn)
//	homework_keys  homework id -> {"key": key in homework}
//
// A period is one range scan per group; a student's or a parent's agenda is
// one scan per group of the student.

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ProjectionTextbook is the persisted name of the cahier de textes read
// model.
const ProjectionTextbook = "textbook.v1"

// Collections of textbook.v1.
const (
	tbLessons      = "lessons"
	tbHomework     = "homework"
	tbHomeworkKeys = "homework_keys"
)

var textbookCollections = []string{tbHomework, tbHomeworkKeys, tbLessons}

// Textbook is a group's cahier de textes over a period.
type Textbook struct {
	Group uuid.UUID   `json:"group"`
	From  domain.Date `json:"from,omitzero"`
	To    domain.Date `json:"to,omitzero"`
	// Lessons held in the period, by date and slot.
	Lessons []LessonEntry `json:"lessons"`
	// Homework due in the period, by due date.
	Homework []HomeworkEntry `json:"homework"`
	// next is where the rest of a period cut short begins.
	next domain.Date
}

// LessonEntry is the content of a lesson.
type LessonEntry struct {
	Lesson     uuid.UUID   `json:"lesson"`
	Group      uuid.UUID   `json:"group"`
	Date       domain.Date `json:"date"`
	Slot       domain.Slot `json:"slot"`
	Subject    string      `json:"subject"`
	Content    string      `json:"content"`
	RecordedBy uuid.UUID   `json:"recorded_by"`
	RecordedAt time.Time   `json:"recorded_at"`
}

// HomeworkEntry is a homework set to a group.
type HomeworkEntry struct {
	Homework        uuid.UUID   `json:"homework"`
	Group           uuid.UUID   `json:"group"`
	Subject         string      `json:"subject"`
	Given           domain.Date `json:"given"`
	Due             domain.Date `json:"due"`
	Instructions    string      `json:"instructions"`
	WorkloadMinutes int         `json:"workload_minutes"`
	AssignedBy      uuid.UUID   `json:"assigned_by"`
	// DoneBy lists the students who marked it done, sorted.
	DoneBy []uuid.UUID `json:"done_by"`
}

// DoneByStudent reports whether student marked the homework done.
func (h HomeworkEntry) DoneByStudent(student uuid.UUID) bool {
	_, found := slices.BinarySearchFunc(h.DoneBy, student, uuidOrder)
	return found
}

type textbook struct{}

// NewTextbook returns the reducer of textbook.v1.
func NewTextbook() Reducer { return textbook{} }

func (textbook) Name() string { return ProjectionTextbook }

// Collections lists the collections the reducer writes.
func (textbook) Collections() []string { return slices.Clone(textbookCollections) }

// Prefetch names the key of the homework an event edits or withdraws, then
// (once that is preloaded) its document.
func (textbook) Prefetch(_ context.Context, b *Batch, _ domain.Record, e domain.Event, want func(coll, key string)) {
	var id string
	switch e := e.(type) {
	case domain.HomeworkAmended:
		id = e.Homework.String()
	case domain.HomeworkDone:
		id = e.Homework.String()
	case domain.HomeworkWithdrawn:
		want(tbHomeworkKeys, e.Homework.String())
		return
	default:
		return
	}
	want(tbHomeworkKeys, id)
	if ref, ok := Peek[sfKeyRef](b, tbHomeworkKeys, id); ok {
		want(tbHomework, ref.Key)
	}
}

func (textbook) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	switch e := e.(type) {
	case domain.LessonContentRecorded:
		b.Put(tbLessons, e.Group.String()+"|"+e.Date.String()+"|"+e.Slot.Start+"|"+e.Lesson.String(), &LessonEntry{
			Lesson: e.Lesson, Group: e.Group, Date: e.Date, Slot: e.Slot, Subject: e.Subject, Content: e.Content,
			RecordedBy: rec.Metadata.Actor, RecordedAt: rec.Metadata.Time.UTC(),
		})
	case domain.HomeworkAssigned:
		tbPutHomework(b, "", &HomeworkEntry{
			Homework: e.Homework, Group: e.Group, Subject: e.Subject, Given: e.Given, Due: e.Due,
			Instructions: e.Instructions, WorkloadMinutes: e.WorkloadMinutes, AssignedBy: rec.Metadata.Actor,
			DoneBy: []uuid.UUID{},
		})
	case domain.HomeworkAmended:
		return tbEditHomework(ctx, b, e.Homework, func(h *HomeworkEntry) {
			h.Due, h.Instructions, h.WorkloadMinutes = e.Due, e.Instructions, e.WorkloadMinutes
		})
	case domain.HomeworkDone:
		return tbEditHomework(ctx, b, e.Homework, func(h *HomeworkEntry) {
			if i, found := slices.BinarySearchFunc(h.DoneBy, e.Student, uuidOrder); !found {
				h.DoneBy = slices.Insert(h.DoneBy, i, e.Student)
			}
		})
	case domain.HomeworkWithdrawn:
		ref, ok, err := Get[sfKeyRef](ctx, b, tbHomeworkKeys, e.Homework.String())
		if err != nil || !ok {
			return err
		}
		b.Delete(tbHomework, ref.Key)
		b.Delete(tbHomeworkKeys, e.Homework.String())
	}
	return nil
}

// tbPutHomework writes h under its key, deleting it from old when it moved.
func tbPutHomework(b *Batch, old string, h *HomeworkEntry) {
	key := h.Group.String() + "|" + h.Due.String() + "|" + h.Homework.String()
	if old != "" && old != key {
		b.Delete(tbHomework, old)
	}
	b.Put(tbHomework, key, h)
	b.Put(tbHomeworkKeys, h.Homework.String(), &sfKeyRef{Key: key})
}

func tbEditHomework(ctx context.Context, b *Batch, homework uuid.UUID, edit func(*HomeworkEntry)) error {
	ref, ok, err := Get[sfKeyRef](ctx, b, tbHomeworkKeys, homework.String())
	if err != nil || !ok {
		return err
	}
	h, ok, err := Get[HomeworkEntry](ctx, b, tbHomework, ref.Key)
	if err != nil || !ok {
		return err
	}
	edit(h)
	tbPutHomework(b, ref.Key, h)
	return nil
}

// Textbook returns a group's cahier de textes: the lessons held and the
// homework due from `from` to `to` inclusive (a zero date is no bound). A
// period holding more than MaxDatedItems lessons or homework is answered
// up to the last whole day that fits: To says which, and Next where the
// rest begins.
func (q *Queries) Textbook(ctx context.Context, group uuid.UUID, from, to domain.Date) (*Textbook, error) {
	r, err := q.reader(ctx, ProjectionTextbook)
	if err != nil {
		return nil, err
	}
	t := &Textbook{Group: group, From: from, To: to, Lessons: []LessonEntry{}, Homework: []HomeworkEntry{}}
	owner := group.String()
	lo, hi := datedKeyRange(owner, from, to)
	var cut datedCut
	lesson := func(l *LessonEntry) domain.Date { return l.Date }
	homework := func(h *HomeworkEntry) domain.Date { return h.Due }
	if err := scanDated(ctx, r, tbLessons, lo, hi, lesson, &cut, &t.Lessons); err != nil {
		return nil, err
	}
	if err := scanDated(ctx, r, tbHomework, lo, cut.hi(owner, hi), homework, &cut, &t.Homework); err != nil {
		return nil, err
	}
	t.Lessons, t.Homework = trimDated(t.Lessons, cut, lesson), trimDated(t.Homework, cut, homework)
	if !cut.day.IsZero() {
		t.To, t.next = cut.day.AddDays(-1), cut.day
	}
	return t, nil
}

// Next is the first day of the period after the cahier de textes, when its
// period was cut short (zero otherwise).
func (t *Textbook) Next() domain.Date { return t.next }

// Homework returns a page of the homework of several groups due from
// `from` to `to` inclusive (a zero date is no bound), by due date, subject
// and id: a student's or a parent's agenda.
func (q *Queries) Homework(ctx context.Context, groups []uuid.UUID, from, to domain.Date, p Page) (List[HomeworkEntry], error) {
	r, err := q.reader(ctx, ProjectionTextbook)
	if err != nil {
		return List[HomeworkEntry]{}, err
	}
	return homeworkOf(ctx, r, groups, from, to, p)
}

// homeworkOf reads a page of the homework of groups from a textbook.v1
// reader.
func homeworkOf(ctx context.Context, r DocReader, groups []uuid.UUID, from, to domain.Date, p Page) (List[HomeworkEntry], error) {
	page, err := newSorted[HomeworkEntry](p)
	if err != nil {
		return List[HomeworkEntry]{}, err
	}
	seen := map[uuid.UUID]bool{}
	for _, g := range groups {
		if seen[g] {
			continue
		}
		seen[g] = true
		lo, hi := datedKeyRange(g.String(), from, to)
		if err := ScanJSON(ctx, r, tbHomework, lo, hi, func(_ string, h HomeworkEntry) error {
			page.add(h.Due.String()+"\x00"+h.Subject+"\x00"+h.Homework.String(), h)
			return nil
		}); err != nil {
			return List[HomeworkEntry]{}, err
		}
	}
	return page.list(), nil
}

// datedKeyRange returns the range of keys "owner|date..." with a date from
// `from` to `to` inclusive (a zero date is no bound). The end is the prefix
// of to's keys, not the day after: 9999-12-31's is 10000-01-01, which sorts
// before every four-digit year.
func datedKeyRange(owner string, from, to domain.Date) (lo, hi string) {
	prefix := owner + "|"
	lo, hi = prefix, PrefixEnd(prefix)
	if !from.IsZero() {
		lo = prefix + from.String()
	}
	if !to.IsZero() {
		hi = PrefixEnd(prefix + to.String())
	}
	return lo, hi
}
