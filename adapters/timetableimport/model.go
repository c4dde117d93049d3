// Package timetableimport turns the timetables schools build in their
// timetabling software (EDT of Index Éducation, UnDeuxTemps) into timetable
// events. It is an adapter: it parses the exports, matches them to the
// directory by national codes, expands their weekly patterns into dated
// lessons over the school year (domain/schoolcalendar) and drives the
// command handlers, writing only what changed.
//
// An import runs in four steps and writes only in the last:
//
//  1. parse the export (and, if given, STS-web's teaching-service export)
//     into a normalized Timetable; a malformed course is rejected with its
//     line and reason, a file that cannot be read to its end stops the
//     import;
//  2. fold the directory and the timetable already imported from the log
//     (LogDirectory);
//  3. plan: match classes, groups, teachers and subjects, expand, diff
//     against what is recorded from the cut date on; refuse the whole
//     import when too much fails to match;
//  4. apply the plan through the command handlers (removals first).
//
// Re-importing the same export plans nothing and appends nothing.
package timetableimport

import (
	"time"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/schoolcalendar"
)

// Format is an export format.
type Format string

// Formats.
const (
	// FormatEDT is EDT's XML export for digital workspaces.
	FormatEDT Format = "edt"
	// FormatUDT is UnDeuxTemps' XML export.
	FormatUDT Format = "udt"
)

// Timetable is an export, normalized: what the plan needs, whatever the
// format.
type Timetable struct {
	Format Format
	// UAI is the establishment the export names, if it names one.
	UAI string
	// Teachers, Subjects, Classes and Groups by the export's own keys.
	Teachers map[string]Teacher
	Subjects map[string]Subject
	Classes  map[string]string
	Groups   map[string]string
	Rooms    map[string]string
	Courses  []Course
	// Rejected are the courses that could not be read; Warnings what was
	// read but is worth saying (an encoding declaration that lies, a
	// duplicate course).
	Rejected []Rejection
	Warnings []Warning
}

// Teacher is a teacher as an export names them.
type Teacher struct {
	Key string
	// ID is a national identifier when the export gives one: UDT's epj
	// (the directory's join id), EDT's IDPN.
	ID        string
	LastName  string
	FirstName string
	// BirthDate, when the export gives it (EDT, STS-web).
	BirthDate domain.Date
}

// Subject is a subject as an export names it.
type Subject struct {
	Code  string
	Label string
}

// Course is one weekly lesson of the export: a weekday and a time, in
// parts that differ by the weeks they are held (an EDT course whose
// teacher changes between A and B weeks has two parts).
type Course struct {
	// Line of the course in its file, for the report.
	Line int
	// Key is the export's own id of the course, if any.
	Key     string
	Weekday time.Weekday
	Slot    domain.Slot
	// Subject is a key of Timetable.Subjects.
	Subject string
	Parts   []Part
}

// Part is a course's people and places for some of its weeks.
type Part struct {
	// Teachers, Classes, Groups and Rooms are keys of the timetable's maps.
	Teachers []string
	Classes  []string
	Groups   []string
	Rooms    []string
	Weeks    Weeks
}

// Weeks are the weeks a part is held: either listed (the Mondays of the
// weeks, as EDT gives them) or every school week of a label (UDT's
// alternating weeks; Label "" is every week).
type Weeks struct {
	Mondays []domain.Date
	Label   schoolcalendar.WeekLabel
	// Listed tells Mondays apart from "every week of Label".
	Listed bool
}

// Rejection is a course the import could not read.
type Rejection struct {
	Line   int    `json:"line"`
	Key    string `json:"key,omitempty"`
	Reason string `json:"reason"`
}

// Warning is something read that the report should say.
type Warning struct {
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}
