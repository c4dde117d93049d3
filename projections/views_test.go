package projections_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func TestViews(t *testing.T) {
	w := school(t)
	w.emit(teacherOf(uaiLycee, leroy), domain.MessageStream(id("message")), domain.MessageSent{
		Message: id("message"), From: leroy, ToAccounts: []uuid.UUID{mother}, Subject: "Rendez-vous", Body: "Pouvez-vous passer jeudi ?"})
	classA := func(r domain.Role, subject string) projections.Membership {
		return projections.Membership{Group: class2A, Name: "2nde A", Kind: domain.GroupClass, Role: r, Subject: subject}
	}
	latinAs := func(r domain.Role, subject string) projections.Membership {
		return projections.Membership{Group: latin, Name: "Latin 2nde", Kind: domain.GroupTeaching, Role: r, Subject: subject}
	}
	teacherLesson := func(e, g uuid.UUID, groupName string, s domain.Slot, subject string, started, done bool) projections.TeacherLesson {
		return projections.TeacherLesson{
			Lesson: domain.LessonID(g, today, s), Entry: e, Group: g, GroupName: groupName, Establishment: uaiLycee,
			Date: today, Slot: s, Subject: subject, Started: started, RollCallDone: done,
		}
	}
	agenda := func(h projections.HomeworkEntry, groupName string, done bool) projections.AgendaHomework {
		return projections.AgendaHomework{
			Homework: h.Homework, Group: h.Group, GroupName: groupName, Subject: h.Subject, Given: h.Given, Due: h.Due,
			Instructions: h.Instructions, WorkloadMinutes: h.WorkloadMinutes, Done: done,
		}
	}

	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 512, append(allReducers(), projections.NewMailbox(), projections.NewNotifications())...)

		t.Run("teacher", func(t *testing.T) {
			// Maths was called; Latin, at 14:00, has not started. The
			// dropped 09:00 entry and Tuesday's hold no lesson today.
			got := mustOK[*projections.TeacherView](t)(q.TeacherView(ctx, durand, now))
			mustEqualJSON(t, "TeacherView durand", got, projections.TeacherView{
				Teacher: durand, DisplayName: "Paul Durand", Date: today,
				Groups: []projections.Membership{classA(domain.RoleTeacher, "maths"), latinAs(domain.RoleTeacher, "latin")},
				Lessons: []projections.TeacherLesson{
					teacherLesson(eMath, class2A, "2nde A", slot8, "maths", true, true),
					teacherLesson(eLatin, latin, "Latin 2nde", slot14, "latin", false, false),
				},
				Homework: []projections.GroupHomework{
					{Group: class2A, GroupName: "2nde A", Homework: []projections.HomeworkEntry{tbExercises, tbReading}},
					{Group: latin, GroupName: "Latin 2nde", Homework: []projections.HomeworkEntry{tbRosa}},
				},
			})
			// Leroy's expired history entry holds no lesson; her two roles
			// in 2nde A give one homework list.
			got = mustOK[*projections.TeacherView](t)(q.TeacherView(ctx, leroy, now))
			mustEqualJSON(t, "TeacherView leroy", got, projections.TeacherView{
				Teacher: leroy, DisplayName: "Anne Leroy", Date: today,
				Groups:  []projections.Membership{classA(domain.RoleHeadTeacher, ""), classA(domain.RoleTeacher, "francais")},
				Lessons: []projections.TeacherLesson{teacherLesson(eFrench, class2A, "2nde A", slot10, "francais", true, false)},
				Homework: []projections.GroupHomework{
					{Group: class2A, GroupName: "2nde A", Homework: []projections.HomeworkEntry{tbExercises, tbReading}},
				},
			})
		})

		aliceView := projections.StudentView{
			Student: alice, DisplayName: "Alice Martin-Dupont", Date: today,
			Groups: []projections.Membership{classA(domain.RoleStudent, ""), latinAs(domain.RoleStudent, "")},
			// This school year: last June's absence is left out.
			File: mustOK[*projections.StudentFile](t)(q.StudentFile(ctx, alice, domain.MustDate("2005-09-01"), domain.Date{})),
			Homework: []projections.AgendaHomework{
				agenda(tbRosa, "Latin 2nde", true), agenda(tbExercises, "2nde A", false), agenda(tbReading, "2nde A", false),
			},
		}
		t.Run("student", func(t *testing.T) {
			if n := len(aliceView.File.Absences); n != 4 {
				t.Fatalf("alice has %d absences this school year, want 4", n)
			}
			got := mustOK[*projections.StudentView](t)(q.StudentView(ctx, alice, now))
			mustEqualJSON(t, "StudentView alice", got, aliceView)
		})

		t.Run("relative", func(t *testing.T) {
			got := mustOK[*projections.RelativeView](t)(q.RelativeView(ctx, mother, now))
			unread := mustOK[*projections.UnreadSummary](t)(q.UnreadMessages(ctx, mother))
			if unread.Count != 1 {
				t.Errorf("mother has %d unread messages, want 1", unread.Count)
			}
			notes := mustItems[projections.Notification](t)(q.Notifications(ctx, mother, projections.Page{Limit: projections.RelativeViewNotifications}))
			if len(notes) == 0 {
				t.Error("mother has no notifications")
			}
			mustEqualJSON(t, "RelativeView mother", got, projections.RelativeView{
				Relative: mother, DisplayName: "Claire Martin", Date: today,
				Children:      []projections.ChildView{{StudentView: aliceView, LegalGuardian: true}},
				Unread:        unread,
				Notifications: notes,
			})
		})

		t.Run("unknown accounts", func(t *testing.T) {
			for name, f := range map[string]func() error{
				"teacher":  func() error { _, err := q.TeacherView(ctx, id("nobody"), now); return err },
				"student":  func() error { _, err := q.StudentView(ctx, id("nobody"), now); return err },
				"relative": func() error { _, err := q.RelativeView(ctx, id("nobody"), now); return err },
			} {
				if err := f(); domain.CodeOf(err) != domain.CodeNotFound {
					t.Errorf("%s view of an unknown account: %v", name, err)
				}
			}
		})
	})
}
