package domain

import (
	"fmt"
	"time"
)

// SchoolYearOf returns the year the school year of d starts in (school
// years run from 1 September to 31 August).
func SchoolYearOf(d Date) int {
	if d.Month >= time.September {
		return d.Year
	}
	return d.Year - 1
}

// DateWindow is the span of school years a command's dates may fall in,
// counted from the school year of today: Before years before it, After
// years after it, the current one always included.
type DateWindow struct {
	Before int `json:"before"`
	After  int `json:"after"`
}

// Bounds returns the first and last days of the window around today.
func (w DateWindow) Bounds(today Date) (first, last Date) {
	y := SchoolYearOf(today)
	return Date{y - w.Before, time.September, 1}, Date{y + w.After + 1, time.August, 31}
}

// Validate refuses negative spans.
func (w DateWindow) Validate() error {
	if w.Before < 0 || w.After < 0 {
		return fmt.Errorf("date window %d years before, %d after: negative", w.Before, w.After)
	}
	return nil
}

// Default windows. Acts (a roll call, a sanction) happened in this school
// year or the one before, when a correction may still come; plans (homework,
// timetables, bookings, publications) may also look one school year ahead.
// Wider ones are refused: a date in 0001 or 9999 is a typing or client
// error, and nothing a school records needs it.
var (
	DefaultActsWindow  = DateWindow{Before: 1, After: 0}
	DefaultPlansWindow = DateWindow{Before: 1, After: 1}
)

// Calendar is what a command's dates are checked against: the server's
// today and the windows around it.
type Calendar struct {
	Today Date
	// Acts bounds the dates of what happened (tag `date:"act"`).
	Acts DateWindow
	// Plans bounds the dates of what is planned (tag `date:"plan"`).
	Plans DateWindow
}

// CalendarOn returns the default calendar of today.
func CalendarOn(today Date) Calendar {
	return Calendar{Today: today, Acts: DefaultActsWindow, Plans: DefaultPlansWindow}
}

// window returns the window a `date` tag names.
func (c Calendar) window(tag string) (DateWindow, bool) {
	switch tag {
	case "act":
		return c.Acts, true
	case "plan":
		return c.Plans, true
	}
	return DateWindow{}, false
}

// check refuses d, the value of field, outside w around today. A zero date
// passes: whether a date is required is each command's own rule.
func (c Calendar) check(field string, w DateWindow, d Date) error {
	if d.IsZero() {
		return nil
	}
	first, last := w.Bounds(c.Today)
	if d.Before(first) || d.After(last) {
		return fieldError(field, RuleCalendar, 0, "%s is outside %s to %s", d, first, last)
	}
	return nil
}
