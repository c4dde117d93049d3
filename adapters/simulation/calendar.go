package simulation

import (
	"time"

	"github.com/schoollife/ledger/domain"
)

// The school calendar of the académie d'Aix-Marseille (zone B), roughly:
// the holidays of 2005-2006 and 2006-2007 are written out; other years get
// a generic calendar of the same shape. Public holidays (and the Ascension
// bridge) are off in every year.

// slotGrid is the day's lesson slots; lessons start on the hour in the
// morning and at half past in the afternoon.
var slotGrid = []domain.Slot{
	{Start: "08:00", End: "08:55"}, {Start: "09:00", End: "09:55"},
	{Start: "10:00", End: "10:55"}, {Start: "11:00", End: "11:55"},
	{Start: "13:30", End: "14:25"}, {Start: "14:30", End: "15:25"},
	{Start: "15:30", End: "16:25"}, {Start: "16:30", End: "17:25"},
}

// morningSlots is how many slots of slotGrid are in the morning.
const morningSlots = 4

// span is a period of days, both ends included.
type span struct{ from, to domain.Date }

func (s span) has(d domain.Date) bool { return !d.Before(s.from) && !d.After(s.to) }

// schoolYear is one school year: its first lesson day, its last lesson day
// per kind of establishment (lycées stop earlier, for the baccalauréat) and
// its holidays.
type schoolYear struct {
	start      int // 2005 for 2005-2006
	first      domain.Date
	lastCol    domain.Date
	lastLyc    domain.Date
	holidays   []span
	publicDays map[domain.Date]bool
}

func ymd(y int, m time.Month, day int) domain.Date { return domain.Date{Year: y, Month: m, Day: day} }

// newSchoolYear returns the calendar of the school year starting in
// September of y.
func newSchoolYear(y int) *schoolYear {
	sy := &schoolYear{start: y, publicDays: publicHolidays(y)}
	switch y {
	case 2005:
		sy.first, sy.lastCol, sy.lastLyc = ymd(2005, 9, 2), ymd(2006, 7, 3), ymd(2006, 6, 16)
		sy.holidays = []span{
			{ymd(2005, 10, 22), ymd(2005, 11, 2)}, // Toussaint
			{ymd(2005, 12, 17), ymd(2006, 1, 2)},  // Noël
			{ymd(2006, 2, 18), ymd(2006, 3, 5)},   // hiver, zone B
			{ymd(2006, 4, 15), ymd(2006, 5, 1)},   // printemps, zone B
		}
	case 2006:
		sy.first, sy.lastCol, sy.lastLyc = ymd(2006, 9, 4), ymd(2007, 7, 3), ymd(2007, 6, 15)
		sy.holidays = []span{
			{ymd(2006, 10, 25), ymd(2006, 11, 5)},
			{ymd(2006, 12, 23), ymd(2007, 1, 7)},
			{ymd(2007, 2, 10), ymd(2007, 2, 25)},
			{ymd(2007, 4, 7), ymd(2007, 4, 22)},
		}
	default:
		sy.first = ymd(y, 9, 2)
		for sy.first.Weekday() == time.Saturday || sy.first.Weekday() == time.Sunday {
			sy.first = sy.first.AddDays(1)
		}
		sy.lastCol, sy.lastLyc = ymd(y+1, 7, 3), ymd(y+1, 6, 15)
		toussaint := saturdayOnOrAfter(ymd(y, 10, 21))
		noel := saturdayOnOrAfter(ymd(y, 12, 17))
		hiver := saturdayOnOrAfter(ymd(y+1, 2, 11))
		printemps := saturdayOnOrAfter(ymd(y+1, 4, 8))
		sy.holidays = []span{
			{toussaint, toussaint.AddDays(9)},
			{noel, noel.AddDays(15)},
			{hiver, hiver.AddDays(15)},
			{printemps, printemps.AddDays(15)},
		}
	}
	return sy
}

func saturdayOnOrAfter(x domain.Date) domain.Date {
	for x.Weekday() != time.Saturday {
		x = x.AddDays(1)
	}
	return x
}

// publicHolidays are the public holidays of the school year starting in
// September of y, with the Friday after Ascension.
func publicHolidays(y int) map[domain.Date]bool {
	easter := easterSunday(y + 1)
	days := []domain.Date{
		ymd(y, 11, 1), ymd(y, 11, 11), ymd(y, 12, 25), ymd(y+1, 1, 1), ymd(y+1, 5, 1), ymd(y+1, 5, 8),
		easter.AddDays(1), easter.AddDays(39), easter.AddDays(40), easter.AddDays(50),
	}
	m := make(map[domain.Date]bool, len(days))
	for _, x := range days {
		m[x] = true
	}
	return m
}

// easterSunday is the date of Easter (anonymous Gregorian algorithm).
func easterSunday(y int) domain.Date {
	a := y % 19
	b, c := y/100, y%100
	dd, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - dd - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return ymd(y, time.Month(month), day)
}

// last is the last lesson day of kind.
func (sy *schoolYear) last(kind domain.EstablishmentKind) domain.Date {
	if kind == domain.KindLycee {
		return sy.lastLyc
	}
	return sy.lastCol
}

// dayClass is what kind of day a date is for an establishment.
type dayClass int

const (
	dayLesson  dayClass = iota // lessons are held
	dayWeekend                 // Saturday without lessons, Sunday
	dayHoliday                 // school or public holiday during the year
	daySummer                  // between the last and the first lesson day
)

// calendar answers what a day is, for the establishments' kinds. It is
// read-only once built, so workers share it.
type calendar struct {
	years map[int]*schoolYear
}

// newCalendar builds the school years that meet [from, to].
func newCalendar(from, to domain.Date) *calendar {
	c := &calendar{years: make(map[int]*schoolYear)}
	for y := schoolYearStart(from); y <= schoolYearStart(to); y++ {
		c.years[y] = newSchoolYear(y)
	}
	return c
}

// schoolYearStart is the year whose September starts the school year of x.
func schoolYearStart(x domain.Date) int {
	if x.Month >= time.September {
		return x.Year
	}
	return x.Year - 1
}

func (c *calendar) year(start int) *schoolYear {
	if sy := c.years[start]; sy != nil {
		return sy
	}
	return newSchoolYear(start)
}

// class classifies day x for an establishment of kind.
func (c *calendar) class(x domain.Date, kind domain.EstablishmentKind) dayClass {
	sy := c.year(schoolYearStart(x))
	if x.Before(sy.first) || x.After(sy.last(kind)) {
		return daySummer
	}
	if sy.publicDays[x] {
		return dayHoliday
	}
	for _, h := range sy.holidays {
		if h.has(x) {
			return dayHoliday
		}
	}
	switch x.Weekday() {
	case time.Sunday:
		return dayWeekend
	case time.Saturday:
		if kind != domain.KindLycee {
			return dayWeekend
		}
	}
	return dayLesson
}

// LessonDay tells whether lessons are held on x in an establishment of
// kind, by the calendar the simulation plays: not on a weekend (Saturday
// mornings are lessons in lycées), a public holiday, the school holidays
// of zone B or the summer. The years 2005-2006 and 2006-2007 have their
// real holidays; other years a generic calendar of the same shape.
func LessonDay(x domain.Date, kind domain.EstablishmentKind) bool {
	return newCalendar(x, x).class(x, kind) == dayLesson
}

// slotsOn lists the indexes in slotGrid of the slots held on x: none on a
// day without lessons, mornings only on Wednesdays in collèges and on
// Saturdays in lycées.
func (c *calendar) slotsOn(x domain.Date, kind domain.EstablishmentKind) int {
	if c.class(x, kind) != dayLesson {
		return 0
	}
	return slotsOnWeekday(x.Weekday(), kind)
}

// slotsOnWeekday is how many slots (from the first) a weekday holds in a
// week of lessons.
func slotsOnWeekday(wd time.Weekday, kind domain.EstablishmentKind) int {
	switch {
	case wd == time.Sunday:
		return 0
	case wd == time.Saturday && kind != domain.KindLycee:
		return 0
	case wd == time.Saturday, wd == time.Wednesday && kind != domain.KindLycee:
		return morningSlots
	}
	return len(slotGrid)
}

// lessonWeight is how much of a full day of lessons x holds.
func (c *calendar) lessonWeight(x domain.Date, kind domain.EstablishmentKind) float64 {
	return float64(c.slotsOn(x, kind)) / float64(len(slotGrid))
}
