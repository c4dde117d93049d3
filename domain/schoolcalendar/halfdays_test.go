package schoolcalendar

import (
	"slices"
	"testing"

	"github.com/schoollife/ledger/domain"
)

func lesson(start, end string, absent bool) AttendedLesson {
	return AttendedLesson{Slot: domain.Slot{Start: start, End: end}, Absent: absent}
}

func TestMissedHalfDays(t *testing.T) {
	// A day of six lessons, three in the morning, three in the afternoon
	// (the 12:00-13:00 one starts at the cut: afternoon).
	day := func(absent ...bool) []AttendedLesson {
		slots := [][2]string{{"08:00", "09:00"}, {"09:00", "10:00"}, {"10:15", "11:15"}, {"12:00", "13:00"}, {"13:30", "14:30"}, {"14:30", "15:30"}}
		out := make([]AttendedLesson, len(slots))
		for i, s := range slots {
			out[i] = lesson(s[0], s[1], absent[i])
		}
		return out
	}
	every, anyLesson := HalfDayPolicy{}, HalfDayPolicy{Rule: MissedAnyLesson}
	tests := []struct {
		name    string
		lessons []AttendedLesson
		policy  HalfDayPolicy
		want    []HalfDay
	}{
		{"present all day", day(false, false, false, false, false, false), every, nil},
		{"present all day, any", day(false, false, false, false, false, false), anyLesson, nil},
		{"absent all day", day(true, true, true, true, true, true), every, []HalfDay{Morning, Afternoon}},
		{"whole morning", day(true, true, true, false, false, false), every, []HalfDay{Morning}},
		{"whole afternoon from the noon lesson", day(false, false, false, true, true, true), every, []HalfDay{Afternoon}},
		{"one morning lesson", day(false, true, false, false, false, false), every, nil},
		{"one morning lesson, any", day(false, true, false, false, false, false), anyLesson, []HalfDay{Morning}},
		{"mixed: whole morning and one afternoon lesson", day(true, true, true, false, true, false), every, []HalfDay{Morning}},
		{"mixed, any", day(true, true, true, false, true, false), anyLesson, []HalfDay{Morning, Afternoon}},
		{"noon lesson only, any", day(false, false, false, true, false, false), anyLesson, []HalfDay{Afternoon}},
		// With the cut at 12:30 the 12:00 lesson is in the morning.
		{"cut at 12:30", day(true, true, true, true, false, false), HalfDayPolicy{Cut: "12:30"}, []HalfDay{Morning}},
		{"cut at 12:30, noon lesson attended", day(true, true, true, false, true, true), HalfDayPolicy{Cut: "12:30"}, []HalfDay{Afternoon}},
		// Wednesday: no afternoon lessons, so no afternoon to miss.
		{"morning-only day", []AttendedLesson{lesson("08:00", "10:00", true), lesson("10:00", "12:00", true)}, every, []HalfDay{Morning}},
		{"afternoon-only day, absent", []AttendedLesson{lesson("14:00", "16:00", true)}, every, []HalfDay{Afternoon}},
		{"no lessons", nil, anyLesson, nil},
		// Order of the lessons does not matter.
		{"unordered", []AttendedLesson{lesson("15:00", "16:00", true), lesson("08:00", "09:00", true), lesson("13:00", "14:00", true)}, every, []HalfDay{Morning, Afternoon}},
	}
	for _, tt := range tests {
		got, err := MissedHalfDays(tt.lessons, tt.policy)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestMissedHalfDaysRefuses(t *testing.T) {
	ok := []AttendedLesson{lesson("08:00", "09:00", true)}
	for name, tc := range map[string]struct {
		lessons []AttendedLesson
		policy  HalfDayPolicy
	}{
		"bad cut":          {ok, HalfDayPolicy{Cut: "noon"}},
		"unknown rule":     {ok, HalfDayPolicy{Rule: 7}},
		"bad slot":         {[]AttendedLesson{lesson("8h", "9h", true)}, HalfDayPolicy{}},
		"slot ends before": {[]AttendedLesson{lesson("10:00", "09:00", false)}, HalfDayPolicy{}},
	} {
		if got, err := MissedHalfDays(tc.lessons, tc.policy); err == nil {
			t.Errorf("%s: accepted, %v", name, got)
		}
	}
}

func TestHalfDayString(t *testing.T) {
	if Morning.String() != "matin" || Afternoon.String() != "après-midi" {
		t.Errorf("%s, %s", Morning, Afternoon)
	}
}
