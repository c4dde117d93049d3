// Package schoolcalendar is the school calendar of metropolitan France: the
// school years and their holidays by vacation zone (shipped as data, read
// from an embedded file), the académies of each zone, the bank holidays
// (jours fériés, computed), which days are school days, the alternating
// A/B weeks of timetables, and the half-days a student missed on a day.
//
// It is pure: it imports the domain and the standard library and reads
// nothing but its embedded data. docs/timetable.md gives the rules and
// their sources.
package schoolcalendar
