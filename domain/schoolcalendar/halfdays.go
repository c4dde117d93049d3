package schoolcalendar

import (
	"fmt"
	"time"

	"github.com/schoollife/ledger/domain"
)

// HalfDay is a morning or an afternoon.
type HalfDay int

// The two half-days of a day.
const (
	Morning HalfDay = iota
	Afternoon
)

func (h HalfDay) String() string {
	if h == Morning {
		return "matin"
	}
	return "après-midi"
}

// HalfDayRule is when a half-day counts as missed.
type HalfDayRule int

const (
	// MissedEveryLesson counts a half-day as missed when the student
	// missed every lesson of it.
	MissedEveryLesson HalfDayRule = iota
	// MissedAnyLesson counts a half-day as missed as soon as the student
	// missed one lesson of it.
	MissedAnyLesson
)

// DefaultCut is the time that splits the morning from the afternoon.
const DefaultCut = "12:00"

// HalfDayPolicy is an establishment's way of counting half-days of
// absence.
type HalfDayPolicy struct {
	// Cut is "HH:MM": a lesson starting before it is in the morning, one
	// starting at or after it in the afternoon. Empty means DefaultCut.
	Cut string
	// Rule says when a half-day counts as missed.
	Rule HalfDayRule
}

// AttendedLesson is one lesson of a student's day and whether the student
// was absent from it.
type AttendedLesson struct {
	Slot   domain.Slot
	Absent bool
}

// MissedHalfDays returns the half-days of a day the student missed, in
// order, from the lessons the student had that day. A half-day without a
// lesson is never missed.
func MissedHalfDays(lessons []AttendedLesson, p HalfDayPolicy) ([]HalfDay, error) {
	cutText := p.Cut
	if cutText == "" {
		cutText = DefaultCut
	}
	cut, err := time.Parse("15:04", cutText)
	if err != nil {
		return nil, domain.Errorf(domain.ErrInvalid, "half-day cut %q is not HH:MM", cutText)
	}
	if p.Rule != MissedEveryLesson && p.Rule != MissedAnyLesson {
		return nil, fmt.Errorf("half-day rule %d: unknown", p.Rule)
	}
	var had, absent, present [2]bool
	for _, l := range lessons {
		if err := l.Slot.Validate(); err != nil {
			return nil, err
		}
		start, _ := time.Parse("15:04", l.Slot.Start) // checked by Validate
		h := Morning
		if !start.Before(cut) {
			h = Afternoon
		}
		had[h] = true
		if l.Absent {
			absent[h] = true
		} else {
			present[h] = true
		}
	}
	var out []HalfDay
	for _, h := range []HalfDay{Morning, Afternoon} {
		missed := absent[h]
		if p.Rule == MissedEveryLesson {
			missed = had[h] && !present[h]
		}
		if missed {
			out = append(out, h)
		}
	}
	return out, nil
}
