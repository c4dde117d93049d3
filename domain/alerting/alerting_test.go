package alerting_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/alerting"
)

var paris = mustLoc("Europe/Paris")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func slot(a, b string) domain.Slot { return domain.Slot{Start: a, End: b} }

// day returns a student's attendance on a day with the given lessons.
func day(student uuid.UUID, date string, marks map[domain.Slot]alerting.Mark) []alerting.LessonAttendance {
	var out []alerting.LessonAttendance
	for s, m := range marks {
		out = append(out, alerting.LessonAttendance{Student: student, Date: domain.MustDate(date), Slot: s, Mark: m})
	}
	return out
}

func TestHalfDaysOfAMixedDay(t *testing.T) {
	lea := uuid.New()
	// Monday: 8-9 absent unjustified, 9-10 present, 10-11 absent
	// unjustified; afternoon 14-15 and 15-16 absent, one of them justified.
	att := day(lea, "2026-11-30", map[domain.Slot]alerting.Mark{
		slot("08:00", "09:00"): alerting.Unjustified,
		slot("09:00", "10:00"): alerting.Present,
		slot("10:00", "11:00"): alerting.Unjustified,
		slot("14:00", "15:00"): alerting.Unjustified,
		slot("15:00", "16:00"): alerting.Justified,
	})
	for _, tc := range []struct {
		rule domain.HalfDayCounting
		want int
	}{
		// Every lesson: the morning had a presence, the afternoon a
		// justified absence: no unjustified half-day.
		{domain.CountEveryLesson, 0},
		// Any lesson: both half-days had an unjustified absence.
		{domain.CountAnyLesson, 2},
	} {
		t.Run(string(tc.rule), func(t *testing.T) {
			s := domain.DefaultAlertSettings()
			s.HalfDayRule = tc.rule
			counts, _, err := alerting.UnjustifiedHalfDays(att, alerting.Policy(s))
			if err != nil {
				t.Fatal(err)
			}
			if got := counts[alerting.StudentPeriod{Student: lea, Period: "2026-11"}]; got != tc.want {
				t.Fatalf("half-days = %d, want %d (%v)", got, tc.want, counts)
			}
		})
	}

	// A cut at 09:00 leaves 8-9 alone in the morning, missed; the
	// afternoon (9-10 present, a justified absence) is not.
	s := domain.DefaultAlertSettings()
	s.HalfDayCut = "09:00"
	counts, _, err := alerting.UnjustifiedHalfDays(att, alerting.Policy(s))
	if err != nil {
		t.Fatal(err)
	}
	if got := counts[alerting.StudentPeriod{Student: lea, Period: "2026-11"}]; got != 1 {
		t.Fatalf("with a 09:00 cut: %d half-days, want 1", got)
	}
}

// wholeDayAbsent is a day of four lessons, every one missed unjustified.
func wholeDayAbsent(student uuid.UUID, date string) []alerting.LessonAttendance {
	return day(student, date, map[domain.Slot]alerting.Mark{
		slot("08:00", "09:00"): alerting.Unjustified,
		slot("10:00", "11:00"): alerting.Unjustified,
		slot("13:30", "14:30"): alerting.Unjustified,
		slot("14:30", "15:30"): alerting.Unjustified,
	})
}

func TestThresholdAcrossAMonthBoundary(t *testing.T) {
	lea, tom := uuid.New(), uuid.New()
	s := domain.DefaultAlertSettings()
	f := alerting.Facts{Establishment: "0750001A"}
	// Léa: Friday 27 and Monday 30 November whole days absent (4
	// half-days in November); Tom: Monday 30 November and Tuesday
	// 1 December (2 + 2, in two months).
	f.Attendance = append(f.Attendance, wholeDayAbsent(lea, "2026-11-27")...)
	f.Attendance = append(f.Attendance, wholeDayAbsent(lea, "2026-11-30")...)
	f.Attendance = append(f.Attendance, wholeDayAbsent(tom, "2026-11-30")...)

	// The clock on 30 November, evening.
	now := time.Date(2026, 11, 30, 19, 0, 0, 0, paris)
	got, err := alerting.Evaluate(now, paris, s, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Student != lea || got[0].Kind != domain.AlertHalfDays || got[0].Period != "2026-11" ||
		got[0].Count != 4 || got[0].Threshold != 4 {
		t.Fatalf("on 30 November: %+v, want Léa's alert for 2026-11 (4 of 4)", got)
	}

	// 1 December: Tom misses two more half-days, his fourth in two
	// calendar months but the second of December: no alert for him.
	f.Attendance = append(f.Attendance, day(tom, "2026-12-01", map[domain.Slot]alerting.Mark{
		slot("08:00", "09:00"): alerting.Unjustified,
		slot("14:00", "15:00"): alerting.Unjustified,
	})...)
	now = time.Date(2026, 12, 1, 19, 0, 0, 0, paris)
	got2, err := alerting.Evaluate(now, paris, s, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got2) != 1 || got2[0].Student != lea || got2[0].ID() != got[0].ID() {
		t.Fatalf("on 1 December: %+v, want Léa's November alert alone, the same id", got2)
	}

	// A threshold of 2 set by the establishment: Tom is alerted for both
	// months, two alerts with different ids.
	s.HalfDaysPerMonth = 2
	got3, err := alerting.Evaluate(now, paris, s, f)
	if err != nil {
		t.Fatal(err)
	}
	var tomPeriods []string
	for _, a := range got3 {
		if a.Student == tom {
			tomPeriods = append(tomPeriods, a.Period)
		}
	}
	if len(tomPeriods) != 2 || tomPeriods[0] != "2026-11" || tomPeriods[1] != "2026-12" {
		t.Fatalf("threshold 2: Tom's alerts %v, want 2026-11 and 2026-12", tomPeriods)
	}
}

func TestLatenessPerPeriod(t *testing.T) {
	lea := uuid.New()
	s := domain.DefaultAlertSettings()
	s.LatenessCount = 3
	f := alerting.Facts{Establishment: "0750001A"}
	// Friday 27 November (ISO week 48), Monday 30 November and Tuesday
	// 1 December (week 49).
	for _, d := range []string{"2026-11-27", "2026-11-30", "2026-12-01"} {
		f.Lateness = append(f.Lateness, alerting.Lateness{Student: lea, Date: domain.MustDate(d)})
	}
	now := time.Date(2026, 12, 1, 19, 0, 0, 0, paris)
	for _, tc := range []struct {
		period domain.LatenessPeriod
		count  int
		want   []string
	}{
		{domain.PeriodMonth, 3, nil},                 // 2 in November, 1 in December
		{domain.PeriodMonth, 2, []string{"2026-11"}}, // November reaches 2
		{domain.PeriodWeek, 2, []string{"2026-W49"}}, // week 49 has 2
		{domain.PeriodWeek, 1, []string{"2026-W48", "2026-W49"}},
	} {
		s.LatenessPeriod, s.LatenessCount = tc.period, tc.count
		got, err := alerting.Evaluate(now, paris, s, f)
		if err != nil {
			t.Fatal(err)
		}
		var periods []string
		for _, a := range got {
			if a.Kind != domain.AlertLateness {
				t.Fatalf("unexpected %+v", a)
			}
			periods = append(periods, a.Period)
		}
		if len(periods) != len(tc.want) || (len(periods) > 0 && (periods[0] != tc.want[0] || periods[len(periods)-1] != tc.want[len(tc.want)-1])) {
			t.Errorf("%s/%d: %v, want %v", tc.period, tc.count, periods, tc.want)
		}
	}
}

func TestForgottenRollCallTeacherThenOffice(t *testing.T) {
	teacher, group := uuid.New(), uuid.New()
	s := domain.DefaultAlertSettings()
	s.OfficeDelayMinutes = 30
	date := domain.MustDate("2026-11-30")
	maths := alerting.ScheduledLesson{Lesson: domain.LessonID(group, date, slot("08:00", "09:00")), Group: group,
		Teacher: teacher, Date: date, Slot: slot("08:00", "09:00")}
	french := maths
	french.Slot = slot("09:00", "10:00")
	french.Lesson = domain.LessonID(group, date, french.Slot)
	french.Called = true
	f := alerting.Facts{Establishment: "0750001A", Lessons: []alerting.ScheduledLesson{maths, french}}

	kinds := func(now time.Time) []domain.AlertKind {
		t.Helper()
		got, err := alerting.Evaluate(now, paris, s, f)
		if err != nil {
			t.Fatal(err)
		}
		var ks []domain.AlertKind
		for _, a := range got {
			if a.Lesson != maths.Lesson || a.Teacher != teacher {
				t.Fatalf("alert about another lesson: %+v", a)
			}
			ks = append(ks, a.Kind)
		}
		return ks
	}
	at := func(hm string) time.Time {
		h, _ := time.Parse("15:04", hm)
		return time.Date(2026, 11, 30, h.Hour(), h.Minute(), 0, 0, paris)
	}
	if ks := kinds(at("08:59")); len(ks) != 0 {
		t.Fatalf("during the lesson: %v, want none", ks)
	}
	if ks := kinds(at("09:00")); len(ks) != 1 || ks[0] != domain.AlertRollCallTeacher {
		t.Fatalf("at the lesson's end: %v, want the teacher's alert", ks)
	}
	if ks := kinds(at("09:29")); len(ks) != 1 {
		t.Fatalf("before the delay: %v, want the teacher's alert alone", ks)
	}
	if ks := kinds(at("09:30")); len(ks) != 2 || ks[0] != domain.AlertRollCallOffice || ks[1] != domain.AlertRollCallTeacher {
		t.Fatalf("after the delay: %v, want the office's and the teacher's", ks)
	}
	// The roll call done late: nothing more is due.
	f.Lessons[0].Called = true
	if ks := kinds(at("11:00")); len(ks) != 0 {
		t.Fatalf("roll call done: %v, want none", ks)
	}
}
