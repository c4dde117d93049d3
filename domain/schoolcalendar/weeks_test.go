package schoolcalendar

import (
	"errors"
	"testing"

	"github.com/schoollife/ledger/domain"
)

func TestWeekSchoolWeeks(t *testing.T) {
	c := load(t, Options{})
	// The rentrée week (Monday 31 August 2026) is A.
	pA := WeekPattern{Zone: ZoneA, Reference: domain.MustDate("2026-09-01"), Counting: CountSchoolWeeks}
	pC := pA
	pC.Zone = ZoneC
	tests := []struct {
		name    string
		p       WeekPattern
		date    string
		want    WeekLabel
		wantErr error
	}{
		{"rentrée week", pA, "2026-09-03", WeekA, nil},
		{"its Sunday", pA, "2026-09-06", WeekA, nil},
		{"second week", pA, "2026-09-07", WeekB, nil},
		{"third week", pA, "2026-09-14", WeekA, nil},
		// 31 Aug … 12 Oct: seven school weeks, A B A B A B A.
		{"week before the Toussaint", pA, "2026-10-12", WeekA, nil},
		{"Toussaint week", pA, "2026-10-19", "", ErrNoClassWeek},
		// The two holiday weeks do not count: the alternation goes on.
		{"week after the Toussaint", pA, "2026-11-02", WeekB, nil},
		{"second week after it", pA, "2026-11-09", WeekA, nil},
		// Counted over school weeks, the week of 1 February is the 19th
		// (index 18 from the rentrée week, 0): A in every zone. Zones then
		// part: zone C is on holiday from 7 to 21 February, zone A from 14
		// to 28, so the week of 8 February is B in zone A and has no label
		// in zone C, the week of 22 February the other way round.
		{"zone A, week of 1 Feb", pA, "2027-02-01", WeekA, nil},
		{"zone C, week of 1 Feb", pC, "2027-02-01", WeekA, nil},
		{"zone A, week of 8 Feb", pA, "2027-02-08", WeekB, nil},
		{"zone C, week of 8 Feb", pC, "2027-02-08", "", ErrNoClassWeek},
		{"zone A, week of 22 Feb", pA, "2027-02-22", "", ErrNoClassWeek},
		{"zone C, week of 22 Feb", pC, "2027-02-22", WeekB, nil},
		{"zone A, week of 1 Mar", pA, "2027-03-01", WeekA, nil},
		{"zone C, week of 1 Mar", pC, "2027-03-01", WeekA, nil},
		// Zone B is still in class the week of 15 February (index 20), on
		// holiday from 21 February to 7 March, back on 8 March (21).
		{"zone B, week of 15 Feb", WeekPattern{Zone: ZoneB, Reference: pA.Reference}, "2027-02-15", WeekA, nil},
		{"zone B, week of 1 Mar", WeekPattern{Zone: ZoneB, Reference: pA.Reference}, "2027-03-01", "", ErrNoClassWeek},
		{"zone B, week of 8 Mar", WeekPattern{Zone: ZoneB, Reference: pA.Reference}, "2027-03-08", WeekB, nil},
		// The weeks of the Ascension (classes 3-5 May) and of Whit Monday
		// count. Zone A from 1 March (index 20): 8, 15, 22, 29 Mar, 5 Apr
		// are 21-25, spring holidays 11-25 Apr, 26 Apr is 26, 3 May 27,
		// 10 May 28, 17 May 29.
		{"zone A, Ascension week", pA, "2027-05-04", WeekB, nil},
		{"zone A, Whit Monday week", pA, "2027-05-18", WeekB, nil},
		{"before the reference", WeekPattern{Zone: ZoneA, Reference: domain.MustDate("2026-11-04"), Counting: CountSchoolWeeks}, "2026-10-12", WeekB, nil},
		{"reference in the holidays", WeekPattern{Zone: ZoneA, Reference: domain.MustDate("2026-10-20"), Counting: CountSchoolWeeks}, "2026-11-02", "", ErrNoClassWeek},
		{"outside the calendar", pA, "2027-09-06", "", ErrNotCovered},
	}
	for _, tt := range tests {
		got, err := c.Week(tt.p, domain.MustDate(tt.date))
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: %q, %v; want error %v", tt.name, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestWeekCalendarWeeks(t *testing.T) {
	c := load(t, Options{})
	p := WeekPattern{Zone: ZoneA, Reference: domain.MustDate("2026-09-01"), Counting: CountCalendarWeeks}
	for _, tt := range []struct {
		date string
		want WeekLabel
	}{
		{"2026-08-31", WeekA},
		{"2026-09-07", WeekB},
		{"2026-10-12", WeekA},
		{"2026-10-19", WeekB}, // a holiday week counts
		{"2026-10-26", WeekA},
		{"2026-11-02", WeekB}, // where school weeks give A
		{"2026-08-24", WeekB}, // before the reference
		{"2030-01-07", WeekB}, // no calendar needed: 175 weeks later
	} {
		got, err := c.Week(p, domain.MustDate(tt.date))
		if err != nil || got != tt.want {
			t.Errorf("Week(%s) = %q, %v; want %q", tt.date, got, err, tt.want)
		}
	}
	if _, err := c.Week(WeekPattern{Zone: ZoneA, Reference: p.Reference, Counting: 9}, p.Reference); err == nil {
		t.Error("unknown counting accepted")
	}
}

func TestMonday(t *testing.T) {
	for in, want := range map[string]string{
		"2026-08-31": "2026-08-31",
		"2026-09-01": "2026-08-31",
		"2026-09-06": "2026-08-31",
		"2027-01-01": "2026-12-28",
	} {
		if got := monday(domain.MustDate(in)); got != domain.MustDate(want) {
			t.Errorf("monday(%s) = %s, want %s", in, got, want)
		}
	}
}
