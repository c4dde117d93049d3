package schoolcalendar

import (
	"errors"
	"fmt"
	"time"

	"github.com/schoollife/ledger/domain"
)

// ErrNoClassWeek is returned, when school weeks are counted, for a week
// without a school day: it has no A/B label.
var ErrNoClassWeek = errors.New("week without a school day")

// WeekCounting is how alternating weeks advance.
type WeekCounting int

const (
	// CountSchoolWeeks advances the label only over weeks with at least
	// one school day: the week after a holiday continues the alternation
	// where the week before it left it, as French timetables do.
	CountSchoolWeeks WeekCounting = iota
	// CountCalendarWeeks advances the label every calendar week, holidays
	// included (the label follows the parity of the week's distance from
	// the reference week).
	CountCalendarWeeks
)

// WeekLabel is the label of an alternating week.
type WeekLabel string

// The two labels.
const (
	WeekA WeekLabel = "A"
	WeekB WeekLabel = "B"
)

// WeekPattern is an establishment's alternation of A and B weeks.
type WeekPattern struct {
	// Zone is the establishment's vacation zone.
	Zone Zone
	// Reference is any day of a week labelled A (often the week of the
	// rentrée).
	Reference domain.Date
	// Counting says which weeks advance the label.
	Counting WeekCounting
}

// Week returns the label of the week of d (weeks run Monday to Sunday).
// Counting school weeks, the week of d and the reference week must each
// hold a school day and fall in the calendar's school years.
func (c *Calendar) Week(p WeekPattern, d domain.Date) (WeekLabel, error) {
	ref, target := monday(p.Reference), monday(d)
	var n int
	switch p.Counting {
	case CountCalendarWeeks:
		n = daysBetween(ref, target) / 7
	case CountSchoolWeeks:
		for _, w := range []domain.Date{ref, target} {
			ok, err := c.classWeek(p.Zone, w)
			if err != nil {
				return "", err
			}
			if !ok {
				return "", fmt.Errorf("week of %s: %w", w, ErrNoClassWeek)
			}
		}
		step, from, to := 1, ref, target
		if target.Before(ref) {
			step, from, to = -1, target, ref
		}
		for w := from; w.Before(to); w = w.AddDays(7) {
			ok, err := c.classWeek(p.Zone, w)
			if err != nil {
				return "", err
			}
			if ok {
				n += step
			}
		}
	default:
		return "", fmt.Errorf("week counting %d: unknown", p.Counting)
	}
	if n%2 == 0 {
		return WeekA, nil
	}
	return WeekB, nil
}

// classWeek reports whether the week starting on Monday m has a school day
// in zone z. Days outside the calendar count as days without class, but a
// week wholly outside it is an error.
func (c *Calendar) classWeek(z Zone, m domain.Date) (bool, error) {
	covered := false
	for i := range 7 {
		ok, err := c.IsSchoolDay(z, m.AddDays(i))
		if errors.Is(err, ErrNotCovered) {
			continue
		}
		if err != nil {
			return false, err
		}
		covered = true
		if ok {
			return true, nil
		}
	}
	if !covered {
		return false, fmt.Errorf("week of %s: %w", m, ErrNotCovered)
	}
	return false, nil
}

// monday returns the Monday of d's week.
func monday(d domain.Date) domain.Date {
	back := (int(d.Weekday()) + 6) % 7 // Monday 0 … Sunday 6
	return d.AddDays(-back)
}

// daysBetween returns the number of days from a to b (negative when b is
// before a).
func daysBetween(a, b domain.Date) int {
	return int(b.In(time.UTC).Sub(a.In(time.UTC)).Hours() / 24)
}
