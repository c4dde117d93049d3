package projections_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// sortedIDs returns ids in the order the read models keep them.
func sortedIDs(ids ...uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// lastTime returns the server time of the last event of w's log that
// matches.
func lastTime(t *testing.T, w *world, match func(domain.Event) bool) time.Time {
	t.Helper()
	recs, err := w.log.ReadAll(context.Background(), domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for _, r := range recs {
		e, err := w.reg.DecodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if match(e) {
			last = r.Metadata.Time.UTC()
		}
	}
	if last.IsZero() {
		t.Fatal("no event matches")
	}
	return last
}

// contentOf matches the content events of a lesson.
func contentOf(l uuid.UUID) func(domain.Event) bool {
	return func(e domain.Event) bool {
		c, ok := e.(domain.LessonContentRecorded)
		return ok && c.Lesson == l
	}
}

// The school's homework as the cahier de textes shows it.
var (
	tbPast = projections.HomeworkEntry{
		Homework: hwPast, Group: class2A, Subject: "maths", Given: domain.MustDate("2006-03-01"), Due: domain.MustDate("2006-03-08"),
		Instructions: "Exercices 5 à 8", WorkloadMinutes: 30, AssignedBy: durand, DoneBy: sortedIDs(alice, bruno),
	}
	tbExercises = projections.HomeworkEntry{
		Homework: hwExercises, Group: class2A, Subject: "maths", Given: domain.MustDate("2006-03-06"), Due: domain.MustDate("2006-03-14"),
		Instructions: "Exercices 1 et 2 p. 12", WorkloadMinutes: 45, AssignedBy: durand, DoneBy: []uuid.UUID{bruno},
	}
	tbReading = projections.HomeworkEntry{
		Homework: hwReading, Group: class2A, Subject: "francais", Given: domain.MustDate("2006-03-06"), Due: domain.MustDate("2006-03-20"),
		Instructions: "Lire les chapitres 1 et 2", WorkloadMinutes: 90, AssignedBy: leroy, DoneBy: []uuid.UUID{},
	}
	tbRosa = projections.HomeworkEntry{
		Homework: hwRosa, Group: latin, Subject: "latin", Given: domain.MustDate("2006-03-06"), Due: today,
		Instructions: "Décliner rosa", WorkloadMinutes: 20, AssignedBy: durand, DoneBy: []uuid.UUID{alice},
	}
)

func TestTextbook(t *testing.T) {
	w := school(t)
	lessonEntry := func(g uuid.UUID, date string, s domain.Slot, subject, content string) projections.LessonEntry {
		l := lesson(g, date, s)
		return projections.LessonEntry{
			Lesson: l, Group: g, Date: domain.MustDate(date), Slot: s, Subject: subject, Content: content,
			RecordedBy: durand, RecordedAt: lastTime(t, w, contentOf(l)),
		}
	}
	// The second content of the 6th replaced the first.
	affines := lessonEntry(class2A, "2006-03-06", slot8, "maths", "Fonctions affines (suite)")
	vecteurs := lessonEntry(class2A, "2006-03-13", slot8, "maths", "Vecteurs")
	rosa := lessonEntry(latin, "2006-03-06", slot14, "latin", "Rosa, rosae")

	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 512, projections.NewTextbook())
		for _, tc := range []struct {
			name     string
			group    uuid.UUID
			from, to string
			want     projections.Textbook
		}{
			// The withdrawn homework is gone; the reading moved to the 20th.
			{name: "2nde A, all", group: class2A, want: projections.Textbook{
				Lessons:  []projections.LessonEntry{affines, vecteurs},
				Homework: []projections.HomeworkEntry{tbPast, tbExercises, tbReading},
			}},
			// The last date there is: no key sorts after its day.
			{name: "2nde A, to the last date", group: class2A, from: "0000-01-01", to: "9999-12-31", want: projections.Textbook{
				Lessons:  []projections.LessonEntry{affines, vecteurs},
				Homework: []projections.HomeworkEntry{tbPast, tbExercises, tbReading},
			}},
			{name: "2nde A, a week", group: class2A, from: "2006-03-09", to: "2006-03-14", want: projections.Textbook{
				Lessons:  []projections.LessonEntry{vecteurs},
				Homework: []projections.HomeworkEntry{tbExercises},
			}},
			{name: "2nde A, the 15th and 16th", group: class2A, from: "2006-03-15", to: "2006-03-16", want: projections.Textbook{
				Lessons: []projections.LessonEntry{}, Homework: []projections.HomeworkEntry{},
			}},
			{name: "latin", group: latin, want: projections.Textbook{
				Lessons: []projections.LessonEntry{rosa}, Homework: []projections.HomeworkEntry{tbRosa},
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				from, to := optDate(tc.from), optDate(tc.to)
				got := mustOK[*projections.Textbook](t)(q.Textbook(ctx, tc.group, from, to))
				tc.want.Group, tc.want.From, tc.want.To = tc.group, from, to
				mustEqualJSON(t, "Textbook", got, tc.want)
			})
		}

		t.Run("agenda", func(t *testing.T) {
			got := mustItems[projections.HomeworkEntry](t)(q.Homework(ctx, []uuid.UUID{class2A, latin, class2A}, today, domain.Date{}, projections.Page{}))
			mustEqualJSON(t, "Homework from today", got, []projections.HomeworkEntry{tbRosa, tbExercises, tbReading})
			got = mustItems[projections.HomeworkEntry](t)(q.Homework(ctx, []uuid.UUID{class2A}, domain.Date{}, domain.MustDate("2006-03-13"), projections.Page{}))
			mustEqualJSON(t, "Homework to today", got, []projections.HomeworkEntry{tbPast})
			got = mustItems[projections.HomeworkEntry](t)(q.Homework(ctx, nil, domain.Date{}, domain.Date{}, projections.Page{}))
			mustEqualJSON(t, "Homework of no group", got, []projections.HomeworkEntry{})
			if !tbExercises.DoneByStudent(bruno) || tbExercises.DoneByStudent(alice) {
				t.Error("DoneByStudent")
			}
		})
	})
}

// A homework moved twice within one batch, then marked done, ends up once,
// under its last due date.
func TestTextbookHomeworkMovesInOneBatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		w := newWorld(t)
		by := teacherOf(uaiLycee, durand)
		hw := id("moving")
		w.emit(by, domain.HomeworkStream(hw), domain.HomeworkAssigned{
			Homework: hw, Group: class2A, Subject: "maths", Given: domain.MustDate("2006-03-06"), Due: domain.MustDate("2006-03-10"),
			Instructions: "A", WorkloadMinutes: 10})
		for i, due := range []string{"2006-03-12", "2006-03-11"} {
			w.emit(by, domain.HomeworkStream(hw), domain.HomeworkAmended{
				Homework: hw, Group: class2A, Due: domain.MustDate(due), Instructions: string(rune('B' + i)), WorkloadMinutes: 20 + i})
		}
		w.emit(actor{id: alice, profile: domain.ProfileStudent, uai: uaiLycee}, domain.HomeworkStream(hw),
			domain.HomeworkDone{Homework: hw, Group: class2A, Student: alice})
		w.emit(actor{id: alice, profile: domain.ProfileStudent, uai: uaiLycee}, domain.HomeworkStream(hw),
			domain.HomeworkDone{Homework: hw, Group: class2A, Student: alice})
		q := w.MustProject(t, docs, 512, projections.NewTextbook())
		got := mustOK[*projections.Textbook](t)(q.Textbook(ctx, class2A, domain.Date{}, domain.Date{}))
		mustEqualJSON(t, "homework", got.Homework, []projections.HomeworkEntry{{
			Homework: hw, Group: class2A, Subject: "maths", Given: domain.MustDate("2006-03-06"), Due: domain.MustDate("2006-03-11"),
			Instructions: "C", WorkloadMinutes: 21, AssignedBy: durand, DoneBy: []uuid.UUID{alice},
		}})
		w.emit(by, domain.HomeworkStream(hw), domain.HomeworkWithdrawn{Homework: hw, Group: class2A})
		q = w.MustProject(t, docs, 512, projections.NewTextbook())
		got = mustOK[*projections.Textbook](t)(q.Textbook(ctx, class2A, domain.Date{}, domain.Date{}))
		mustEqualJSON(t, "homework after withdrawal", got.Homework, []projections.HomeworkEntry{})
	})
}
