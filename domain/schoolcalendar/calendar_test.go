package schoolcalendar

import (
	"errors"
	"strings"
	"testing"

	"github.com/schoollife/ledger/domain"
)

func load(t *testing.T, opts Options) *Calendar {
	t.Helper()
	c, err := Load(opts)
	if err != nil {
		t.Fatalf("load shipped calendar: %v", err)
	}
	return c
}

func TestShippedYears(t *testing.T) {
	c := load(t, Options{})
	ys := c.Years()
	if len(ys) != 1 || ys[0].Name != "2026-2027" {
		t.Fatalf("years = %+v, want 2026-2027 only", ys)
	}
	y := ys[0]
	if y.Rentree != domain.MustDate("2026-09-01") || y.SummerFrom != domain.MustDate("2027-07-04") {
		t.Errorf("rentrée %s, summer from %s", y.Rentree, y.SummerFrom)
	}
	if !strings.Contains(y.Source, "Arrêté") {
		t.Errorf("source %q does not name the arrêté", y.Source)
	}
}

func TestHoliday(t *testing.T) {
	c := load(t, Options{})
	tests := []struct {
		zone Zone
		date string
		want string // "" when not a holiday
	}{
		{ZoneA, "2026-09-01", ""},
		// Toussaint: after class on Saturday 17 October, back on 2 November.
		{ZoneA, "2026-10-17", ""},
		{ZoneA, "2026-10-18", "Vacances de la Toussaint"},
		{ZoneC, "2026-11-01", "Vacances de la Toussaint"},
		{ZoneB, "2026-11-02", ""},
		{ZoneB, "2026-12-19", ""},
		{ZoneB, "2026-12-20", "Vacances de Noël"},
		{ZoneB, "2027-01-03", "Vacances de Noël"},
		{ZoneB, "2027-01-04", ""},
		// Winter: C from 7 to 21 February, A from 14 to 28, B from 21 February to 7 March.
		{ZoneC, "2027-02-06", ""},
		{ZoneC, "2027-02-07", "Vacances d'hiver"},
		{ZoneA, "2027-02-07", ""},
		{ZoneC, "2027-02-21", "Vacances d'hiver"},
		{ZoneC, "2027-02-22", ""},
		{ZoneA, "2027-02-14", "Vacances d'hiver"},
		{ZoneA, "2027-02-28", "Vacances d'hiver"},
		{ZoneA, "2027-03-01", ""},
		{ZoneB, "2027-02-20", ""},
		{ZoneB, "2027-02-21", "Vacances d'hiver"},
		{ZoneB, "2027-03-07", "Vacances d'hiver"},
		{ZoneB, "2027-03-08", ""},
		// Spring: C from 4 to 18 April, A from 11 to 25, B from 18 April to 2 May.
		{ZoneC, "2027-04-04", "Vacances de printemps"},
		{ZoneC, "2027-04-19", ""},
		{ZoneA, "2027-04-10", ""},
		{ZoneA, "2027-04-11", "Vacances de printemps"},
		{ZoneA, "2027-04-25", "Vacances de printemps"},
		{ZoneA, "2027-04-26", ""},
		{ZoneB, "2027-04-18", "Vacances de printemps"},
		{ZoneB, "2027-05-02", "Vacances de printemps"},
		{ZoneB, "2027-05-03", ""},
		// Ascension bridge, every zone.
		{ZoneA, "2027-05-05", ""},
		{ZoneA, "2027-05-07", "Pont de l'Ascension"},
		{ZoneC, "2027-05-09", "Pont de l'Ascension"},
		{ZoneC, "2027-05-10", ""},
		{ZoneB, "2027-07-03", ""},
		{ZoneB, "2027-07-04", "Vacances d'été"},
		// Outside the shipped years.
		{ZoneA, "2026-08-31", ""},
		{ZoneA, "2027-07-05", ""},
	}
	for _, tt := range tests {
		got, ok := c.Holiday(tt.zone, domain.MustDate(tt.date))
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Holiday(%s, %s) = %q, %v; want %q", tt.zone, tt.date, got, ok, tt.want)
		}
	}
}

func TestIsSchoolDay(t *testing.T) {
	weekdays, saturdays := load(t, Options{}), load(t, Options{SaturdayClasses: true})
	tests := []struct {
		name      string
		zone      Zone
		date      string
		want      bool // without Saturday classes
		wantSat   bool // with them
		wantError error
	}{
		{"rentrée, a Tuesday", ZoneA, "2026-09-01", true, true, nil},
		{"a Wednesday", ZoneA, "2026-09-02", true, true, nil},
		{"a Saturday", ZoneA, "2026-09-05", false, true, nil},
		{"a Sunday", ZoneA, "2026-09-06", false, false, nil},
		{"Saturday before the Toussaint, class in the morning", ZoneC, "2026-10-17", false, true, nil},
		{"Armistice, a Wednesday", ZoneB, "2026-11-11", false, false, nil},
		{"Easter Monday", ZoneA, "2027-03-29", false, false, nil},
		{"Monday after Easter week", ZoneA, "2027-04-05", true, true, nil},
		{"zone C spring holidays", ZoneC, "2027-04-05", false, false, nil},
		{"1 May, a Saturday", ZoneA, "2027-05-01", false, false, nil},
		{"8 May, a Saturday of the bridge", ZoneA, "2027-05-08", false, false, nil},
		{"Ascension", ZoneB, "2027-05-06", false, false, nil},
		{"Friday of the bridge", ZoneB, "2027-05-07", false, false, nil},
		{"Whit Monday", ZoneC, "2027-05-17", false, false, nil},
		{"zone A winter holidays", ZoneA, "2027-02-15", false, false, nil},
		{"zone B the same day", ZoneB, "2027-02-15", true, true, nil},
		{"last Saturday of classes", ZoneA, "2027-07-03", false, true, nil},
		{"before the first rentrée", ZoneA, "2026-08-28", false, false, ErrNotCovered},
		{"summer after the last shipped year", ZoneA, "2027-08-02", false, false, ErrNotCovered},
	}
	for _, tt := range tests {
		for _, v := range []struct {
			c    *Calendar
			want bool
		}{{weekdays, tt.want}, {saturdays, tt.wantSat}} {
			got, err := v.c.IsSchoolDay(tt.zone, domain.MustDate(tt.date))
			if tt.wantError != nil {
				if !errors.Is(err, tt.wantError) {
					t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantError)
				}
				continue
			}
			if err != nil || got != v.want {
				t.Errorf("%s (Saturday classes %v): %v, %v; want %v", tt.name, v.c.opts.SaturdayClasses, got, err, v.want)
			}
		}
	}
	if _, err := weekdays.IsSchoolDay("D", domain.MustDate("2026-09-01")); err == nil {
		t.Error("zone D accepted")
	}
}

func TestSchoolYear(t *testing.T) {
	c := load(t, Options{})
	for _, tt := range []struct {
		date string
		want string
	}{
		{"2026-08-31", ""},
		{"2026-09-01", "2026-2027"},
		{"2027-02-15", "2026-2027"},
		{"2027-07-04", "2026-2027"},
		{"2027-07-05", ""},
	} {
		y, ok := c.SchoolYear(domain.MustDate(tt.date))
		if y.Name != tt.want || ok != (tt.want != "") {
			t.Errorf("SchoolYear(%s) = %q, %v; want %q", tt.date, y.Name, ok, tt.want)
		}
	}
}

// twoYears adds a made-up following year to the shipped zones, to test how
// years join; its dates are test data, not a calendar.
const twoYears = `
zones:
  A: [Lyon]
  B: [Rennes]
  C: [Paris]
years:
  - name: "Y1"
    source: test
    rentree: "2030-09-02"
    holidays:
      - {name: Hiver, by_zone: {A: {after_class: "2031-02-08", resume: "2031-02-24"}, B: {after_class: "2031-02-15", resume: "2031-03-03"}, C: {after_class: "2031-02-22", resume: "2031-03-10"}}}
      - {name: Été, after_class: "2031-07-05"}
  - name: "Y2"
    source: test
    rentree: "2031-09-01"
    holidays:
      - {name: Été, after_class: "2032-07-03"}
`

func TestYearsJoin(t *testing.T) {
	c, err := Parse([]byte(twoYears), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		date, year, holiday string
	}{
		{"2031-07-05", "Y1", ""},
		{"2031-07-06", "Y1", "Été"},
		{"2031-08-31", "Y1", "Été"},
		{"2031-09-01", "Y2", ""},
	} {
		d := domain.MustDate(tt.date)
		y, _ := c.SchoolYear(d)
		h, _ := c.Holiday(ZoneA, d)
		if y.Name != tt.year || h != tt.holiday {
			t.Errorf("%s: year %q holiday %q; want %q %q", tt.date, y.Name, h, tt.year, tt.holiday)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	good := `
zones: {A: [Lyon], B: [Rennes], C: [Paris]}
years:
  - name: "Y"
    source: test
    rentree: "2030-09-02"
    holidays:
      - {name: Noël, after_class: "2030-12-21", resume: "2031-01-06"}
      - {name: Été, after_class: "2031-07-05"}
`
	if _, err := Parse([]byte(good), Options{}); err != nil {
		t.Fatalf("good data refused: %v", err)
	}
	for name, data := range map[string]string{
		"not yaml":         "zones: [",
		"no year":          "zones: {A: [Lyon]}\nyears: []",
		"unknown zone":     strings.Replace(good, "C: [Paris]", "D: [Paris]", 1),
		"académie twice":   strings.Replace(good, "C: [Paris]", "C: [lyon]", 1),
		"no source":        strings.Replace(good, "source: test", "source: \"\"", 1),
		"bad date":         strings.Replace(good, "2030-12-21", "2030-12-41", 1),
		"no resume":        strings.Replace(good, `, resume: "2031-01-06"`, "", 1),
		"resume too early": strings.Replace(good, "2031-01-06", "2030-12-22", 1),
		"before rentrée":   strings.Replace(good, "2030-12-21", "2030-08-21", 1),
		"zone missing":     strings.Replace(good, `{name: Noël, after_class: "2030-12-21", resume: "2031-01-06"}`, `{name: Hiver, by_zone: {A: {after_class: "2031-02-08", resume: "2031-02-24"}}}`, 1),
		"summer by zone":   strings.Replace(good, `{name: Été, after_class: "2031-07-05"}`, `{name: Été, by_zone: {A: {after_class: "2031-07-05"}, B: {after_class: "2031-07-05"}, C: {after_class: "2031-07-05"}}}`, 1),
		"years overlap":    good + "  - {name: Z, source: test, rentree: \"2031-07-01\", holidays: [{name: Été, after_class: \"2032-07-03\"}]}\n",
	} {
		if _, err := Parse([]byte(data), Options{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestZoneOfAcademy(t *testing.T) {
	c := load(t, Options{})
	for _, tt := range []struct {
		academy string
		want    Zone
	}{
		{"Lyon", ZoneA},
		{"Clermont-Ferrand", ZoneA},
		{"clermont ferrand", ZoneA},
		{"Orléans-Tours", ZoneB},
		{"ORLEANS-TOURS", ZoneB},
		{"Normandie", ZoneB},
		{"Aix-Marseille", ZoneB},
		{"Créteil", ZoneC},
		{"Toulouse", ZoneC},
		{"Corse", ""},
		{"Guadeloupe", ""},
	} {
		got, ok := c.Zone(tt.academy)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Zone(%q) = %q, %v; want %q", tt.academy, got, ok, tt.want)
		}
	}
	total := 0
	for _, list := range []int{8, 11, 5} {
		total += list
	}
	if len(c.academies) != total {
		t.Errorf("%d académies in zones, want %d", len(c.academies), total)
	}
}

func TestParseZone(t *testing.T) {
	for in, want := range map[string]Zone{"A": ZoneA, " b ": ZoneB, "c": ZoneC, "D": "", "": ""} {
		got, err := ParseZone(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("ParseZone(%q) = %q, %v", in, got, err)
		}
	}
}
