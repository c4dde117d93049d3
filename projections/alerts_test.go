package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/alerting"
	"github.com/schoollife/ledger/projections"
)

func TestAlertFacts(t *testing.T) {
	w := school(t)
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 512, projections.NewDirectory(), projections.NewAlerts())
		f, err := q.AlertFacts(ctx, uaiLycee, now)
		if err != nil {
			t.Fatal(err)
		}
		// Roll calls from 1 February: 6 March 8:00 (Alice absent,
		// justified) and 10:00 (Alice, reason declared again: unjustified),
		// 7 March (Bruno absent; Alice's absence cancelled), 10 March
		// (nobody absent), 13 March (Alice absent); the June 2005 roll call
		// is out of the window, the other establishment's too.
		marks := map[string]alerting.Mark{}
		for _, a := range f.Attendance {
			name := map[uuid.UUID]string{alice: "alice", bruno: "bruno"}[a.Student]
			marks[name+" "+a.Date.String()+" "+a.Slot.Start] = a.Mark
		}
		want := map[string]alerting.Mark{
			"alice 2006-03-06 08:00": alerting.Justified, "bruno 2006-03-06 08:00": alerting.Present,
			"alice 2006-03-06 10:00": alerting.Unjustified, "bruno 2006-03-06 10:00": alerting.Present,
			"alice 2006-03-07 09:00": alerting.Present, "bruno 2006-03-07 09:00": alerting.Unjustified,
			"alice 2006-03-10 08:00": alerting.Present, "bruno 2006-03-10 08:00": alerting.Present,
			"alice 2006-03-13 08:00": alerting.Unjustified, "bruno 2006-03-13 08:00": alerting.Present,
		}
		if len(marks) != len(want) {
			t.Fatalf("attendance: %v, want %v", marks, want)
		}
		for k, m := range want {
			if marks[k] != m {
				t.Errorf("%s: mark %d, want %d", k, marks[k], m)
			}
		}
		if len(f.Lateness) != 2 {
			t.Errorf("lateness: %v, want Alice's of 10 March and Bruno's of 13 March", f.Lateness)
		}
		called := map[string]bool{}
		for _, l := range f.Lessons {
			called[l.Slot.Start] = l.Called
		}
		if len(called) != 3 || !called["08:00"] || called["10:00"] || called["14:00"] {
			t.Errorf("today's lessons: %v, want maths called, French and Latin not", called)
		}

		for _, tc := range []struct {
			rule         domain.HalfDayCounting
			alice, bruno int
		}{
			// Every lesson: 6 March morning has a justified absence beside
			// the unjustified one; 13 March morning counts.
			{domain.CountEveryLesson, 1, 1},
			{domain.CountAnyLesson, 2, 1},
		} {
			s := domain.DefaultAlertSettings()
			s.HalfDayRule = tc.rule
			counts, _, err := alerting.UnjustifiedHalfDays(f.Attendance, alerting.Policy(s))
			if err != nil {
				t.Fatal(err)
			}
			if a, b := counts[alerting.StudentPeriod{Student: alice, Period: "2006-03"}], counts[alerting.StudentPeriod{Student: bruno, Period: "2006-03"}]; a != tc.alice || b != tc.bruno {
				t.Errorf("%s: Alice %d, Bruno %d half-days, want %d and %d", tc.rule, a, b, tc.alice, tc.bruno)
			}
		}
	})
}

// TestAlertProcess runs the process as `serve` does: the commands append
// to the log, the projection catches up, the process reads it, with an
// injected clock.
func TestAlertProcess(t *testing.T) {
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		w := school(t)
		clock := now
		h, err := commands.New(commands.Config{Store: w.log, Registry: w.reg, Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		var q *projections.Queries
		project := func() { q = w.MustProject(t, docs, 512, projections.NewDirectory(), projections.NewAlerts()) }
		project()
		p := &commands.AlertProcess{Handlers: h, Facts: q, Now: func() time.Time { return clock }, Loc: paris}
		tick := func(at time.Time) commands.AlertTick {
			t.Helper()
			clock = at
			project()
			p.Facts = q
			got, err := p.Tick(ctx, uaiLycee)
			if err != nil {
				t.Fatal(err)
			}
			project()
			return got
		}
		french := domain.AlertID(uaiLycee, domain.AlertRollCallTeacher, lesson(class2A, "2006-03-13", slot10), "2006-03-13")
		frenchOffice := domain.AlertID(uaiLycee, domain.AlertRollCallOffice, lesson(class2A, "2006-03-13", slot10), "2006-03-13")
		latinOffice := domain.AlertID(uaiLycee, domain.AlertRollCallOffice, lesson(latin, "2006-03-13", slot14), "2006-03-13")

		// 10:30: French is under way; nothing is due (one unjustified
		// half-day each, one lateness each: under the defaults).
		if got := tick(at("2006-03-13 10:30")); got != (commands.AlertTick{}) {
			t.Fatalf("10:30: %+v, want nothing", got)
		}
		// French ended at 10:55: its teacher is alerted, the office not
		// yet (an hour's delay by default).
		if got := tick(at("2006-03-13 11:30")); got.Raised != 1 {
			t.Fatalf("11:30: %+v, want the teacher's alert", got)
		}
		if got := tick(at("2006-03-13 11:31")); got.Raised != 0 {
			t.Fatalf("looking again: %+v, want nothing new", got)
		}
		mine, err := q.TeacherAlerts(ctx, uaiLycee, leroy)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != 1 || mine[0].Alert != french || mine[0].TeacherName != "Anne Leroy" || mine[0].GroupName != "2nde A" {
			t.Fatalf("Leroy's home: %+v, want the French lesson", mine)
		}
		// 16:00: French is the office's too; Latin (ended 14:55) is
		// its teacher's and, an hour on, the office's.
		if got := tick(at("2006-03-13 16:00")); got.Raised != 3 {
			t.Fatalf("16:00: %+v, want 3 alerts", got)
		}
		// Leroy calls the roll of French late: both its alerts are closed
		// by the ledger.
		w.emit(teacherOf(uaiLycee, leroy), domain.LessonStream(lesson(class2A, "2006-03-13", slot10)), domain.RollCallCompleted{
			Lesson: lesson(class2A, "2006-03-13", slot10), Group: class2A, Date: domain.MustDate("2006-03-13"), Slot: slot10,
			Subject: "francais", Teacher: leroy})
		if got := tick(at("2006-03-13 16:05")); got.Resolved != 2 || got.Raised != 0 {
			t.Fatalf("after the late roll call: %+v, want 2 resolved", got)
		}
		// The head handles the Latin lesson's office alert.
		if _, err := h.HandleAlert(ctx, commands.Request{Actor: head}, domain.HandleAlert{Alert: latinOffice, Action: domain.ActionOther}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.HandleAlert(ctx, commands.Request{Actor: durand}, domain.HandleAlert{Alert: latinOffice, Action: domain.ActionOther}); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("a teacher handling an alert: %v, want forbidden", err)
		}
		project()
		all, err := q.Alerts(ctx, uaiLycee, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 4 || all[0].Handled || all[0].Kind != domain.AlertRollCallTeacher || all[0].TeacherName != "Paul Durand" {
			t.Fatalf("alerts: %+v, want Latin's teacher alert open first", all)
		}
		byID := map[uuid.UUID]projections.AlertEntry{}
		for _, a := range all {
			byID[a.Alert] = a
		}
		if a := byID[frenchOffice]; !a.Handled || a.Action != domain.ActionRollCallDone || a.HandledBy != uuid.Nil {
			t.Errorf("French office alert: %+v, want closed by the ledger, roll call done", a)
		}
		if a := byID[latinOffice]; !a.Handled || a.Action != domain.ActionOther || a.HandlerName != "Hélène Proviseur" {
			t.Errorf("Latin office alert: %+v, want handled by the head", a)
		}
		open, err := q.Alerts(ctx, uaiLycee, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 1 {
			t.Errorf("open alerts: %d, want 1", len(open))
		}

		// The head lowers the threshold to one half-day: Bruno is alerted
		// for March, once. Alice is not: since French's late roll call, her
		// 13 March morning has a lesson she attended, and by the default
		// rule a half-day is missed when every lesson of it was.
		set := domain.DefaultAlertSettings()
		set.HalfDaysPerMonth = 1
		if _, err := h.SetAlertSettings(ctx, commands.Request{Actor: head}, domain.SetAlertSettings{Establishment: uaiLycee, AlertSettings: set}); err != nil {
			t.Fatal(err)
		}
		if got := tick(at("2006-03-13 16:10")); got.Raised != 1 {
			t.Fatalf("threshold 1: %+v, want Bruno's", got)
		}
		open, err = q.Alerts(ctx, uaiLycee, true)
		if err != nil {
			t.Fatal(err)
		}
		if a := open[0]; len(open) != 2 || a.Kind != domain.AlertHalfDays || a.Student != bruno || a.StudentName != "Bruno Petit" ||
			a.Period != "2006-03" || a.Count != 1 || a.Threshold != 1 {
			t.Fatalf("open alerts: %+v, want Bruno's half-days alert first", open)
		}
		if got := tick(at("2006-03-13 16:11")); got.Raised != 0 {
			t.Fatalf("threshold 1, again: %+v, want nothing new", got)
		}
	})
}

// alertsHistory is the school with two alerts: Bruno's unjustified
// half-days, handled by the head with a call to the family, and a French
// lesson without a roll call, open.
func alertsHistory(t *testing.T) *world {
	w := school(t)
	halfDays := domain.AlertRaised{Alert: domain.AlertID(uaiLycee, domain.AlertHalfDays, bruno, "2006-03"), Establishment: uaiLycee,
		Kind: domain.AlertHalfDays, Student: bruno, Group: class2A, Period: "2006-03", Count: 4, Threshold: 4}
	french := lesson(class2A, "2006-03-13", slot10)
	rollCall := domain.AlertRaised{Alert: domain.AlertID(uaiLycee, domain.AlertRollCallTeacher, french, "2006-03-13"), Establishment: uaiLycee,
		Kind: domain.AlertRollCallTeacher, Group: class2A, Lesson: french, Teacher: leroy, Period: "2006-03-13", Slot: slot10}
	w.emit(system(uaiLycee), domain.AlertStream(halfDays.Alert), halfDays)
	w.emit(system(uaiLycee), domain.AlertStream(rollCall.Alert), rollCall)
	w.emit(actor{id: head, profile: domain.ProfilePersonnel, uai: uaiLycee}, domain.AlertStream(halfDays.Alert), domain.AlertHandled{
		Alert: halfDays.Alert, Establishment: uaiLycee, Kind: domain.AlertHalfDays, Student: bruno, Action: domain.ActionFamilyCall})
	return w
}

func TestLetterCandidates(t *testing.T) {
	w := school(t)
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 512, projections.NewDirectory(), projections.NewAlerts())
		march := projections.LetterFilter{From: domain.MustDate("2006-03-01"), To: domain.MustDate("2006-03-13"), Threshold: 1}
		got, err := q.LetterCandidates(ctx, uaiLycee, march, domain.DefaultAlertSettings())
		if err != nil {
			t.Fatal(err)
		}
		// Alice: 13 March morning (6 March morning had a justified
		// absence); her two unjustified absences listed. Bruno: 7 March;
		// his relative's link was undone, so no guardian.
		if len(got) != 2 || got[0].Student != alice || got[1].Student != bruno {
			t.Fatalf("candidates: %+v, want Alice then Bruno", got)
		}
		a := got[0]
		if a.StudentName != "Alice Martin-Dupont" || a.GroupName != "2nde A" || a.HalfDays != 1 || len(a.Absences) != 2 ||
			a.Absences[0].Date != domain.MustDate("2006-03-06") || a.Absences[0].Subject != "francais" ||
			a.Absences[1].Date != domain.MustDate("2006-03-13") || a.Absences[1].Subject != "maths" {
			t.Errorf("Alice: %+v", a)
		}
		if len(a.Guardians) != 1 || a.Guardians[0].Account != mother || a.Guardians[0].DisplayName != "Claire Martin" {
			t.Errorf("Alice's guardians: %+v, want her mother", a.Guardians)
		}
		if len(got[1].Guardians) != 0 {
			t.Errorf("Bruno's guardians: %+v, want none", got[1].Guardians)
		}
		// Counting any lesson, Alice has two half-days; a threshold of 2
		// keeps her alone.
		s := domain.DefaultAlertSettings()
		s.HalfDayRule = domain.CountAnyLesson
		march.Threshold = 2
		if got, err = q.LetterCandidates(ctx, uaiLycee, march, s); err != nil || len(got) != 1 || got[0].Student != alice || got[0].HalfDays != 2 {
			t.Errorf("threshold 2, any lesson: %+v %v, want Alice with 2", got, err)
		}
		// Another group, or a period before, selects nobody.
		march.Group = latin
		if got, err = q.LetterCandidates(ctx, uaiLycee, march, s); err != nil || len(got) != 0 {
			t.Errorf("Latin: %+v %v, want nobody", got, err)
		}
		feb := projections.LetterFilter{From: domain.MustDate("2006-02-01"), To: domain.MustDate("2006-02-28"), Threshold: 1}
		if got, err = q.LetterCandidates(ctx, uaiLycee, feb, s); err != nil || len(got) != 0 {
			t.Errorf("February: %+v %v, want nobody", got, err)
		}
	})
}
