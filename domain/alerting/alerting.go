// Package alerting decides, from what happened and the time it is, which
// alerts the school-life office should see: unjustified half-days of
// absence in a month, lateness in a period, lessons ended without a roll
// call. It is pure: the caller gathers the facts and gives the clock.
package alerting

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/schoolcalendar"
)

// Mark is what a student was at one lesson.
type Mark int

// Marks.
const (
	Present Mark = iota
	// Justified: absent, the absence accepted as justified.
	Justified
	// Unjustified: absent, no justification accepted (yet).
	Unjustified
)

// LessonAttendance is one lesson of a student's day (a lesson whose roll
// was called: a lesson without one tells nothing).
type LessonAttendance struct {
	Student uuid.UUID
	Group   uuid.UUID
	Date    domain.Date
	Slot    domain.Slot
	Mark    Mark
}

// Lateness is one late arrival.
type Lateness struct {
	Student uuid.UUID
	Group   uuid.UUID
	Date    domain.Date
}

// ScheduledLesson is a timetabled lesson of a day and whether its roll was
// called.
type ScheduledLesson struct {
	Lesson  uuid.UUID
	Group   uuid.UUID
	Teacher uuid.UUID
	Date    domain.Date
	Slot    domain.Slot
	Called  bool
}

// Facts are what the process read for one establishment.
type Facts struct {
	Establishment string
	Attendance    []LessonAttendance
	Lateness      []Lateness
	Lessons       []ScheduledLesson
	// Open are the ids of the establishment's open alerts.
	Open map[uuid.UUID]bool
}

// Month names the calendar month of d: "2026-11".
func Month(d domain.Date) string { return fmt.Sprintf("%04d-%02d", d.Year, d.Month) }

// Week names the ISO week of d: "2026-W48".
func Week(d domain.Date) string {
	y, w := d.In(time.UTC).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// StudentPeriod keys a count.
type StudentPeriod struct {
	Student uuid.UUID
	Period  string
}

// Policy turns the establishment's settings into schoolcalendar's.
func Policy(s domain.AlertSettings) schoolcalendar.HalfDayPolicy {
	p := schoolcalendar.HalfDayPolicy{Cut: s.HalfDayCut, Rule: schoolcalendar.MissedEveryLesson}
	if s.HalfDayRule == domain.CountAnyLesson {
		p.Rule = schoolcalendar.MissedAnyLesson
	}
	return p
}

// UnjustifiedHalfDays counts, per student and calendar month, the
// half-days missed without justification: a half-day counts when it is
// missed by the establishment's rule, a justified absence counting as a
// presence (a half-day missed partly with a justification is not an
// unjustified one under "every lesson"). It returns the last group seen for
// each student, for display.
func UnjustifiedHalfDays(att []LessonAttendance, p schoolcalendar.HalfDayPolicy) (map[StudentPeriod]int, map[uuid.UUID]uuid.UUID, error) {
	type studentDay struct {
		student uuid.UUID
		date    domain.Date
	}
	days := make(map[studentDay][]schoolcalendar.AttendedLesson)
	groups := make(map[uuid.UUID]uuid.UUID)
	for _, a := range att {
		k := studentDay{a.Student, a.Date}
		days[k] = append(days[k], schoolcalendar.AttendedLesson{Slot: a.Slot, Absent: a.Mark == Unjustified})
		groups[a.Student] = a.Group
	}
	counts := make(map[StudentPeriod]int)
	for k, lessons := range days {
		missed, err := schoolcalendar.MissedHalfDays(lessons, p)
		if err != nil {
			return nil, nil, fmt.Errorf("half-days of %s on %s: %w", k.student, k.date, err)
		}
		if len(missed) > 0 {
			counts[StudentPeriod{k.student, Month(k.date)}] += len(missed)
		}
	}
	return counts, groups, nil
}

// Evaluate returns the alerts due at now (in loc, the establishment's time
// zone) from facts, by the settings, sorted; the commands' ids make
// raising one twice a no-op, so the caller may raise them all every time.
// The current month's half-days count as they come: the alert is raised as
// soon as the threshold is reached, not at the month's end.
func Evaluate(now time.Time, loc *time.Location, s domain.AlertSettings, f Facts) ([]domain.RaiseAlert, error) {
	var out []domain.RaiseAlert
	counts, groups, err := UnjustifiedHalfDays(f.Attendance, Policy(s))
	if err != nil {
		return nil, err
	}
	for k, n := range counts {
		if n >= s.HalfDaysPerMonth {
			out = append(out, domain.RaiseAlert{Establishment: f.Establishment, Kind: domain.AlertHalfDays,
				Student: k.Student, Group: groups[k.Student], Period: k.Period, Count: n, Threshold: s.HalfDaysPerMonth})
		}
	}
	late := make(map[StudentPeriod]int)
	lateGroup := make(map[uuid.UUID]uuid.UUID)
	for _, l := range f.Lateness {
		period := Month(l.Date)
		if s.LatenessPeriod == domain.PeriodWeek {
			period = Week(l.Date)
		}
		late[StudentPeriod{l.Student, period}]++
		lateGroup[l.Student] = l.Group
	}
	for k, n := range late {
		if n >= s.LatenessCount {
			out = append(out, domain.RaiseAlert{Establishment: f.Establishment, Kind: domain.AlertLateness,
				Student: k.Student, Group: lateGroup[k.Student], Period: k.Period, Count: n, Threshold: s.LatenessCount})
		}
	}
	delay := time.Duration(s.OfficeDelayMinutes) * time.Minute
	for _, l := range f.Lessons {
		if l.Called {
			continue
		}
		end, err := lessonEnd(l, loc)
		if err != nil {
			return nil, err
		}
		if now.Before(end) {
			continue
		}
		a := domain.RaiseAlert{Establishment: f.Establishment, Kind: domain.AlertRollCallTeacher,
			Group: l.Group, Lesson: l.Lesson, Teacher: l.Teacher, Period: l.Date.String(), Slot: l.Slot}
		out = append(out, a)
		if !now.Before(end.Add(delay)) {
			a.Kind = domain.AlertRollCallOffice
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b domain.RaiseAlert) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Period, b.Period),
			cmp.Compare(a.Student.String(), b.Student.String()), cmp.Compare(a.Lesson.String(), b.Lesson.String()))
	})
	return out, nil
}

func lessonEnd(l ScheduledLesson, loc *time.Location) (time.Time, error) {
	if err := l.Slot.Validate(); err != nil {
		return time.Time{}, err
	}
	hm, _ := time.Parse("15:04", l.Slot.End) // checked by Validate
	day := l.Date.In(loc)
	return time.Date(day.Year(), day.Month(), day.Day(), hm.Hour(), hm.Minute(), 0, 0, loc), nil
}

// Resolved returns the open forgotten-roll-call alerts whose roll was
// called since: the process records them handled (roll call done).
func Resolved(f Facts) []uuid.UUID {
	var out []uuid.UUID
	for _, l := range f.Lessons {
		if !l.Called {
			continue
		}
		for _, k := range []domain.AlertKind{domain.AlertRollCallTeacher, domain.AlertRollCallOffice} {
			if id := domain.AlertID(f.Establishment, k, l.Lesson, l.Date.String()); f.Open[id] {
				out = append(out, id)
			}
		}
	}
	return out
}
