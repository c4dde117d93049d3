package domain

import (
	"fmt"
	"time"
)

// Date is a calendar day, "2006-01-02" on the wire.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// MustDate is ParseDate for literals in tests and fixtures.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// In returns midnight of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Compare returns -1, 0 or 1.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return DateOf(d.In(time.UTC).AddDate(0, 0, n)) }

// Weekday returns d's day of the week.
func (d Date) Weekday() time.Weekday { return d.In(time.UTC).Weekday() }

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText writes "2006-01-02".
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "2006-01-02" (or nothing, for the zero date).
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Slot is a lesson's time slot, "08:00" to "08:55", local time of the
// establishment.
type Slot struct {
	Start string `json:"start" text:"code"`
	End   string `json:"end" text:"code"`
}

// Validate checks both ends are "HH:MM" and Start is before End.
func (s Slot) Validate() error {
	a, err := time.Parse("15:04", s.Start)
	if err != nil {
		return Errorf(ErrInvalid, "slot start %q is not HH:MM", s.Start)
	}
	b, err := time.Parse("15:04", s.End)
	if err != nil {
		return Errorf(ErrInvalid, "slot end %q is not HH:MM", s.End)
	}
	if !a.Before(b) {
		return Errorf(ErrInvalid, "slot %s-%s ends before it starts", s.Start, s.End)
	}
	return nil
}

// StartOn returns the moment the slot starts on day d in loc.
func (s Slot) StartOn(d Date, loc *time.Location) time.Time {
	t, _ := time.Parse("15:04", s.Start)
	return time.Date(d.Year, d.Month, d.Day, t.Hour(), t.Minute(), 0, 0, loc)
}

func (s Slot) String() string { return s.Start + "-" + s.End }

// Paris is the time zone lessons are held in unless an establishment says
// otherwise. Loaded once by the caller that needs it.
func Paris() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return loc
}
