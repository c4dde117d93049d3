package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func TestOffice(t *testing.T) {
	w := school(t)
	officeAbsence := func(abs, student uuid.UUID, name, date string, slot domain.Slot, subject string, st domain.AbsenceState, reason string) projections.OfficeAbsence {
		return projections.OfficeAbsence{
			Absence: abs, Establishment: uaiLycee, Student: student, StudentName: name, Group: class2A, GroupName: "2nde A",
			Lesson: lesson(class2A, date, slot), Date: domain.MustDate(date), Slot: slot, Subject: subject, State: st, DeclaredReason: reason,
		}
	}
	todayAlice := officeAbsence(absToday, alice, "Alice Martin-Dupont", "2006-03-13", slot8, "maths", domain.AbsenceUnjustified, "")
	awaiting := []projections.OfficeAbsence{
		officeAbsence(absDeclared, alice, "Alice Martin-Dupont", "2006-03-06", slot10, "francais", domain.AbsenceDeclared, "Grève des transports"),
		officeAbsence(absBruno, bruno, "Bruno Petit", "2006-03-07", slot9, "maths", domain.AbsenceUnjustified, ""),
		todayAlice,
	}
	brunoLate := projections.OfficeLateness{
		Student: bruno, StudentName: "Bruno Petit", Group: class2A, GroupName: "2nde A",
		Lesson: lesson(class2A, "2006-03-13", slot8), Date: today, Slot: slot8, Subject: "maths", Minutes: 10,
	}
	missing := func(date string, e uuid.UUID, group uuid.UUID, groupName string, slot domain.Slot, subject string, teacher uuid.UUID, teacherName string) projections.MissingRollCall {
		return projections.MissingRollCall{
			Lesson: lesson(group, date, slot), Entry: e, Group: group, GroupName: groupName, Date: domain.MustDate(date),
			Slot: slot, Subject: subject, Teacher: teacher, TeacherName: teacherName,
		}
	}
	french := missing("2006-03-13", eFrench, class2A, "2nde A", slot10, "francais", leroy, "Anne Leroy")
	latinToday := missing("2006-03-13", eLatin, latin, "Latin 2nde", slot14, "latin", durand, "Paul Durand")
	tuesday := missing("2006-03-14", eTuesday, class2A, "2nde A", slot9, "maths", durand, "Paul Durand")

	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 512, projections.NewDirectory(), projections.NewOffice())
		for _, tc := range []struct {
			name string
			uai  string
			now  time.Time
			want projections.Office
		}{
			// Maths was called (twice), French started at 10:00 and was not,
			// Latin has not started; the expired and the dropped entries at
			// 09:00 hold no lesson.
			{name: "monday 10:30", uai: uaiLycee, now: now, want: projections.Office{
				Absences: []projections.OfficeAbsence{todayAlice}, Lateness: []projections.OfficeLateness{brunoLate},
				Awaiting: awaiting, MissingRollCalls: []projections.MissingRollCall{french},
			}},
			{name: "same instant in UTC", uai: uaiLycee, now: now.UTC(), want: projections.Office{
				Absences: []projections.OfficeAbsence{todayAlice}, Lateness: []projections.OfficeLateness{brunoLate},
				Awaiting: awaiting, MissingRollCalls: []projections.MissingRollCall{french},
			}},
			{name: "monday 07:59", uai: uaiLycee, now: at("2006-03-13 07:59"), want: projections.Office{
				Absences: []projections.OfficeAbsence{todayAlice}, Lateness: []projections.OfficeLateness{brunoLate},
				Awaiting: awaiting, MissingRollCalls: []projections.MissingRollCall{},
			}},
			{name: "monday 10:00 sharp", uai: uaiLycee, now: at("2006-03-13 10:00"), want: projections.Office{
				Absences: []projections.OfficeAbsence{todayAlice}, Lateness: []projections.OfficeLateness{brunoLate},
				Awaiting: awaiting, MissingRollCalls: []projections.MissingRollCall{french},
			}},
			{name: "monday 16:00", uai: uaiLycee, now: at("2006-03-13 16:00"), want: projections.Office{
				Absences: []projections.OfficeAbsence{todayAlice}, Lateness: []projections.OfficeLateness{brunoLate},
				Awaiting: awaiting, MissingRollCalls: []projections.MissingRollCall{french, latinToday},
			}},
			{name: "tuesday 09:30", uai: uaiLycee, now: at("2006-03-14 09:30"), want: projections.Office{
				Absences: []projections.OfficeAbsence{}, Lateness: []projections.OfficeLateness{},
				Awaiting: awaiting, MissingRollCalls: []projections.MissingRollCall{tuesday},
			}},
			// Monday after the end of the timetable: no lesson.
			{name: "after the school year", uai: uaiLycee, now: at("2006-07-03 16:00"), want: projections.Office{
				Absences: []projections.OfficeAbsence{}, Lateness: []projections.OfficeLateness{},
				Awaiting: awaiting, MissingRollCalls: []projections.MissingRollCall{},
			}},
			{name: "the other establishment", uai: uaiCollege, now: now, want: projections.Office{
				Absences: []projections.OfficeAbsence{{
					Absence: absCollege, Establishment: uaiCollege, Student: chloe, StudentName: "Chloé Roux",
					Group: class6B, GroupName: "6e B", Lesson: lesson(class6B, "2006-03-13", slot8), Date: today,
					Slot: slot8, Subject: "maths", State: domain.AbsenceUnjustified,
				}},
				Lateness: []projections.OfficeLateness{},
				Awaiting: []projections.OfficeAbsence{{
					Absence: absCollege, Establishment: uaiCollege, Student: chloe, StudentName: "Chloé Roux",
					Group: class6B, GroupName: "6e B", Lesson: lesson(class6B, "2006-03-13", slot8), Date: today,
					Slot: slot8, Subject: "maths", State: domain.AbsenceUnjustified,
				}},
				MissingRollCalls: []projections.MissingRollCall{},
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := mustOK[*projections.Office](t)(q.Office(ctx, tc.uai, tc.now, projections.Page{}))
				tc.want.Establishment, tc.want.Date = tc.uai, domain.DateOf(tc.now.In(paris))
				mustEqualJSON(t, "Office", got, tc.want)
			})
		}
	})
}

// An absence leaves the awaiting list when decided or cancelled, and comes
// back when a reason is declared after a refusal.
func TestOfficeAwaiting(t *testing.T) {
	l := lesson(class2A, "2006-03-06", slot8)
	abs := domain.AbsenceID(l, bruno)
	by := teacherOf(uaiLycee, durand)
	staff := actor{id: head, profile: domain.ProfilePersonnel, uai: uaiLycee}
	relative := actor{id: mother, profile: domain.ProfileRelative, uai: uaiLycee}
	steps := []struct {
		who   actor
		event domain.Event
		want  domain.AbsenceState // "" when not awaiting
	}{
		{by, domain.AbsenceRecorded{Absence: abs, Lesson: l, Student: bruno, Group: class2A, Date: domain.MustDate("2006-03-06"), Slot: slot8, Subject: "maths"}, domain.AbsenceUnjustified},
		{relative, domain.AbsenceReasonDeclared{Absence: abs, Lesson: l, Student: bruno, Relative: mother, Reason: "réveil"}, domain.AbsenceDeclared},
		{staff, domain.JustificationRefused{Absence: abs, Lesson: l, Student: bruno, ReasonCode: "convenance"}, ""},
		{relative, domain.AbsenceReasonDeclared{Absence: abs, Lesson: l, Student: bruno, Relative: mother, Reason: "malade"}, domain.AbsenceDeclared},
		{staff, domain.JustificationAccepted{Absence: abs, Lesson: l, Student: bruno, ReasonCode: "maladie"}, ""},
		{by, domain.AbsenceCancelled{Absence: abs, Lesson: l, Student: bruno, Reason: "erreur"}, ""},
	}
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		w := newWorld(t)
		for _, s := range steps {
			w.emit(s.who, domain.LessonStream(l), s.event)
			q := w.MustProject(t, docs, 1, projections.NewOffice())
			o := mustOK[*projections.Office](t)(q.Office(ctx, uaiLycee, at("2006-03-06 12:00"), projections.Page{}))
			var got []domain.AbsenceState
			for _, a := range o.Awaiting {
				got = append(got, a.State)
			}
			var want []domain.AbsenceState
			if s.want != "" {
				want = append(want, s.want)
			}
			mustEqualJSON(t, "awaiting after "+s.event.EventType(), got, want)
			// Cancelled absences leave the day's list; others stay.
			wantDay := 1
			if s.want == "" && s.event.EventType() == (domain.AbsenceCancelled{}).EventType() {
				wantDay = 0
			}
			if len(o.Absences) != wantDay {
				t.Errorf("after %s: %d absences today, want %d", s.event.EventType(), len(o.Absences), wantDay)
			}
		}
	})
}
