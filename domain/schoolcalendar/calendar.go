package schoolcalendar

import (
	"errors"
	"fmt"
	"time"

	"github.com/schoollife/ledger/domain"
)

// ErrNotCovered is returned for a date outside the school years the
// calendar holds.
var ErrNotCovered = errors.New("date outside the shipped school calendar")

// Options are the establishment's choices the calendar depends on.
type Options struct {
	// SaturdayClasses makes Saturdays school days (some schools teach on
	// Saturday mornings). Wednesday afternoons are the establishment's
	// timetable, not the calendar: a Wednesday is a school day.
	SaturdayClasses bool
}

// Calendar answers which days are school days in each zone.
type Calendar struct {
	opts      Options
	years     []SchoolYear
	academies map[string]Zone
}

// SchoolYear is one school year of the calendar.
type SchoolYear struct {
	// Name is "2026-2027".
	Name string
	// Source names the text that fixed the year's dates.
	Source string
	// Rentree is the first day of classes.
	Rentree domain.Date
	// Last is the last day of the school year: the day before the next
	// rentrée, or the first day of the summer holidays when the next year
	// is not in the calendar.
	Last domain.Date
	// SummerFrom is the first day of the summer holidays.
	SummerFrom domain.Date
	// Holidays are the year's holidays in order, summer's last.
	Holidays []Holiday
}

// Holiday is a holiday period as days without classes.
type Holiday struct {
	Name string
	// First and Last are the first and last days without classes in each
	// zone (the day after "after class", the day before classes resume).
	First, Last map[Zone]domain.Date
}

// Load returns the calendar of the shipped data.
func Load(opts Options) (*Calendar, error) { return Parse(shipped, opts) }

// Parse returns the calendar of data in the format of the shipped file.
func Parse(data []byte, opts Options) (*Calendar, error) {
	f, err := parse(data)
	if err != nil {
		return nil, err
	}
	c := &Calendar{opts: opts, academies: map[string]Zone{}}
	for z, list := range f.Zones {
		for _, a := range list {
			c.academies[foldAcademy(a)] = z
		}
	}
	for i, y := range f.Years {
		sy := SchoolYear{Name: y.Name, Source: y.Source, Rentree: y.Rentree}
		for _, h := range y.Holidays {
			spans, _ := h.spans() // checked by parse
			hol := Holiday{Name: h.Name, First: map[Zone]domain.Date{}, Last: map[Zone]domain.Date{}}
			for z, s := range spans {
				hol.First[z] = s.AfterClass.AddDays(1)
				if !s.Resume.IsZero() {
					hol.Last[z] = s.Resume.AddDays(-1)
				}
			}
			sy.Holidays = append(sy.Holidays, hol)
		}
		sy.SummerFrom = y.summer().AfterClass.AddDays(1)
		sy.Last = sy.SummerFrom
		if i+1 < len(f.Years) {
			sy.Last = f.Years[i+1].Rentree.AddDays(-1)
		}
		summer := &sy.Holidays[len(sy.Holidays)-1]
		for _, z := range zones {
			if _, ok := summer.Last[z]; !ok {
				summer.Last[z] = sy.Last
			}
		}
		c.years = append(c.years, sy)
	}
	return c, nil
}

// Years returns the school years the calendar holds, in order.
func (c *Calendar) Years() []SchoolYear { return c.years }

// Covers reports whether d is in one of the calendar's school years.
func (c *Calendar) Covers(d domain.Date) bool {
	_, ok := c.SchoolYear(d)
	return ok
}

// SchoolYear returns the school year d is in: from its rentrée to the day
// before the next one ("l'année scolaire s'étend du jour de la rentrée des
// élèves au jour précédant la rentrée suivante").
func (c *Calendar) SchoolYear(d domain.Date) (SchoolYear, bool) {
	for _, y := range c.years {
		if !d.Before(y.Rentree) && !d.After(y.Last) {
			return y, true
		}
	}
	return SchoolYear{}, false
}

// Zone returns the vacation zone of an académie, named as in the arrêtés
// (case, accents and hyphens do not matter). Corse and the overseas
// académies are in no zone.
func (c *Calendar) Zone(academy string) (Zone, bool) {
	z, ok := c.academies[foldAcademy(academy)]
	return z, ok
}

// Holiday returns the name of the holiday period d falls in for zone z.
// Bank holidays outside holiday periods are not holidays here: see
// BankHoliday.
func (c *Calendar) Holiday(z Zone, d domain.Date) (string, bool) {
	y, ok := c.SchoolYear(d)
	if !ok {
		return "", false
	}
	for _, h := range y.Holidays {
		if !d.Before(h.First[z]) && !d.After(h.Last[z]) {
			return h.Name, true
		}
	}
	return "", false
}

// TeachesOn reports whether classes may be held on a weekday at all: never
// on Sundays, on Saturdays only when the establishment has Saturday
// classes.
func (c *Calendar) TeachesOn(wd time.Weekday) bool {
	return wd != time.Sunday && (wd != time.Saturday || c.opts.SaturdayClasses)
}

// IsSchoolDay reports whether classes are held on d in zone z: not on
// Sundays, bank holidays or holidays, nor on Saturdays unless the
// establishment has Saturday classes. It fails for a date outside the
// calendar's school years and for an unknown zone.
func (c *Calendar) IsSchoolDay(z Zone, d domain.Date) (bool, error) {
	if !z.valid() {
		return false, fmt.Errorf("vacation zone %q: not A, B or C", z)
	}
	if !c.Covers(d) {
		return false, fmt.Errorf("%s: %w", d, ErrNotCovered)
	}
	switch d.Weekday() {
	case time.Sunday:
		return false, nil
	case time.Saturday:
		if !c.opts.SaturdayClasses {
			return false, nil
		}
	}
	if _, ok := BankHoliday(d); ok {
		return false, nil
	}
	if _, ok := c.Holiday(z, d); ok {
		return false, nil
	}
	return true, nil
}
