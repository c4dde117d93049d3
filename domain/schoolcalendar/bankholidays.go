package schoolcalendar

import (
	"time"

	"github.com/schoollife/ledger/domain"
)

// BankHoliday returns the name of the jour férié d is, among the eleven of
// the Code du travail (art. L. 3133-1). The two more days of Alsace-Moselle
// (Good Friday, 26 December) are not counted.
func BankHoliday(d domain.Date) (string, bool) {
	switch {
	case d.Month == time.January && d.Day == 1:
		return "Jour de l'an", true
	case d.Month == time.May && d.Day == 1:
		return "Fête du Travail", true
	case d.Month == time.May && d.Day == 8:
		return "Victoire 1945", true
	case d.Month == time.July && d.Day == 14:
		return "Fête nationale", true
	case d.Month == time.August && d.Day == 15:
		return "Assomption", true
	case d.Month == time.November && d.Day == 1:
		return "Toussaint", true
	case d.Month == time.November && d.Day == 11:
		return "Armistice 1918", true
	case d.Month == time.December && d.Day == 25:
		return "Noël", true
	}
	easter := Easter(d.Year)
	switch d {
	case easter.AddDays(1):
		return "Lundi de Pâques", true
	case easter.AddDays(39):
		return "Ascension", true
	case easter.AddDays(50):
		return "Lundi de Pentecôte", true
	}
	return "", false
}

// Easter returns Easter Sunday of year y in the Gregorian calendar (the
// anonymous algorithm of Meeus, Jones and Butcher).
func Easter(y int) domain.Date {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return domain.Date{Year: y, Month: time.Month(month), Day: day}
}
