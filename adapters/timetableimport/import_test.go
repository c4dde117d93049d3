package timetableimport

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// The EDT scenario: a first import before the rentrée, a re-import that
// records nothing, a second export in January that moves a lesson, ends
// another and adds one from a date on, with a roll call already recorded
// on a lesson it ends.
func TestEDTImportAndReimport(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { edtScenario(t, newSchool(t)) })
	t.Run("postgres", func(t *testing.T) { edtScenario(t, newSchoolOn(t, openPostgres(t))) })
}

func edtScenario(t *testing.T, s *school) {
	rep, n := s.MustImport(file("edt_v1.xml"), s.opts(FormatEDT, "2026-08-31", true))
	if n == 0 || len(rep.Plan.Unmatched) != 0 || len(rep.Rejected) != 0 {
		t.Fatalf("first import: %d events, unmatched %+v, rejected %+v", n, rep.Plan.Unmatched, rep.Rejected)
	}
	if !slices.ContainsFunc(rep.Warnings, func(w Warning) bool { return strings.Contains(w.Message, "declared ISO-8859-1 but written in UTF-8") }) {
		t.Errorf("the lying declaration is not reported: %+v", rep.Warnings)
	}
	v1 := s.lessons()
	// The rentrée is a Tuesday; Thursday of week 1 is an A week, of week 2
	// a B week: 6A and 6B alternate in SVT.
	wantLessons(t, v1, "2026-09-01",
		"6B 2026-09-01 08:00-08:55 Mathématiques dupont",
		"6B 2026-09-01 09:00-09:55 Français martin")
	wantLessons(t, v1, "2026-09-03", "6A 2026-09-03 13:30-14:25 SVT moreau")
	wantLessons(t, v1, "2026-09-10", "6B 2026-09-10 13:30-14:25 SVT moreau")
	// A lesson over two places; a course given twice is one lesson.
	wantLessons(t, v1, "2026-09-07",
		"6A 2026-09-07 08:00-08:55 Mathématiques dupont",
		"6A 2026-09-07 09:00-11:00 Français martin")
	wantLessons(t, v1, "2026-11-04",
		"ANG1 2026-11-04 08:00-08:55 Anglais LV1 bernard",
		"ANG2 2026-11-04 08:00-08:55 Anglais LV1 petit")
	// Holidays, a bank holiday, the Ascension bridge, a cancelled week.
	wantLessons(t, v1, "2026-10-19")
	wantLessons(t, v1, "2026-11-11")
	wantLessons(t, v1, "2027-05-06")
	wantLessons(t, v1, "2026-11-20")
	wantLessons(t, v1, "2026-11-13", "6A 2026-11-13 11:05-12:00 Mathématiques dupont")
	// After the Toussaint holidays the alternation goes on: B, then A.
	wantLessons(t, v1, "2026-11-05", "6B 2026-11-05 13:30-14:25 SVT moreau")
	wantLessons(t, v1, "2026-11-12", "6A 2026-11-12 13:30-14:25 SVT moreau")
	if len(v1) != rep.Plan.Lessons {
		t.Errorf("%d dated lessons recorded, the plan counted %d", len(v1), rep.Plan.Lessons)
	}
	t.Logf("first import: %d dated lessons in %d entries", len(v1), n)

	// The same export again: nothing.
	s.now = time.Date(2026, time.October, 5, 9, 0, 0, 0, time.UTC)
	if rep, n := s.MustImport(file("edt_v1.xml"), s.opts(FormatEDT, "2026-10-06", true)); n != 0 {
		t.Fatalf("re-import appended %d events: add %+v remove %+v", n, rep.Plan.Add, rep.Plan.Remove)
	}

	// A roll call on a lesson the January export ends.
	s.now = time.Date(2027, time.January, 2, 9, 0, 0, 0, time.UTC)
	held := domain.RecordRollCall{Group: s.class6B, Date: domain.MustDate("2027-01-12"), Slot: domain.Slot{Start: "09:00", End: "09:55"}, Subject: "Français"}
	s.must(s.h.RecordRollCall(s.ctx, commands.Request{Actor: s.martin}, held))

	rep, n = s.MustImport(file("edt_v2.xml"), s.opts(FormatEDT, "2027-01-04", true))
	if n == 0 {
		t.Fatal("the January export changed nothing")
	}
	v2 := s.lessons()
	// Before the cut nothing changed.
	past := func(ls []string) []string {
		return slices.DeleteFunc(slices.Clone(ls), func(l string) bool { return strings.Fields(l)[1] >= "2027-01-04" })
	}
	if !slices.Equal(past(v1), past(v2)) {
		t.Errorf("lessons before the cut changed")
	}
	wantLessons(t, v2, "2026-12-14",
		"6A 2026-12-14 08:00-08:55 Mathématiques dupont",
		"6A 2026-12-14 09:00-11:00 Français martin")
	// From the cut on: Monday's mathematics moved to Thursday, Tuesday's
	// French ended (but the lesson with a roll call stays), music added.
	wantLessons(t, v2, "2027-01-04", "6A 2027-01-04 09:00-11:00 Français martin")
	wantLessons(t, v2, "2027-01-05", "6B 2027-01-05 08:00-08:55 Mathématiques dupont")
	wantLessons(t, v2, "2027-01-07",
		"6A 2027-01-07 10:05-11:00 Mathématiques dupont",
		"6A 2027-01-07 13:30-14:25 SVT moreau")
	wantLessons(t, v2, "2027-01-08",
		"6A 2027-01-08 11:05-12:00 Mathématiques dupont",
		"6B 2027-01-08 14:30-15:25 Éducation musicale faure")
	wantLessons(t, v2, "2027-01-12",
		"6B 2027-01-12 08:00-08:55 Mathématiques dupont",
		"6B 2027-01-12 09:00-09:55 Français martin")
	wantLessons(t, v2, "2027-01-19", "6B 2027-01-19 08:00-08:55 Mathématiques dupont")
	if !slices.Contains(rep.Plan.Kept, Kept{Group: "6B", Date: domain.MustDate("2027-01-12"), Slot: held.Slot, Reason: KeptHeld}) {
		t.Errorf("the held lesson is not reported kept: %+v", rep.Plan.Kept)
	}
	for _, e := range rep.Plan.Remove {
		if e.Until.Before(domain.MustDate("2027-01-04")) {
			t.Errorf("removed an entry wholly before the cut: %+v", e)
		}
	}
	// Again: nothing, and nothing with a later cut either.
	if rep, n := s.MustImport(file("edt_v2.xml"), s.opts(FormatEDT, "2027-01-04", true)); n != 0 {
		t.Fatalf("re-import of the January export appended %d events: add %+v remove %+v", n, rep.Plan.Add, rep.Plan.Remove)
	}
	if rep, n := s.MustImport(file("edt_v2.xml"), s.opts(FormatEDT, "2027-02-01", true)); n != 0 {
		t.Fatalf("re-import with a later cut appended %d events: add %+v remove %+v", n, rep.Plan.Add, rep.Plan.Remove)
	}
}

// What cannot be matched is reported, never guessed; too much refuses the
// import whole, and --force imports the rest.
func TestUnmatchedRefusesThenForced(t *testing.T) {
	s := newSchool(t)
	// Without STS-web's nomenclature, EDT's management codes (MATHS) are
	// not the directory's codes (061300): every course but none is left out.
	rep, err := s.im.Run(s.ctx, file("edt_v1.xml"), s.opts(FormatEDT, "2026-08-31", false))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Refused != RefusedUnmatched || rep.Added != 0 {
		t.Fatalf("refused %q, added %d", rep.Refused, rep.Added)
	}
	if !slices.ContainsFunc(rep.Plan.Unmatched, func(u Unmatched) bool { return u.Reason == ReasonSubjectNotTaught && u.Target == "6A" }) {
		t.Errorf("unmatched: %+v", rep.Plan.Unmatched)
	}
	if got := s.lessons(); len(got) != 0 {
		t.Fatalf("a refused import wrote %d lessons", len(got))
	}

	// An export whose 6B is unknown and whose teacher has a homonym.
	b, err := os.ReadFile(filepath.Join("testdata", "edt_v1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`Nom="6B"`), []byte(`Nom="6Z"`), 1)
	s.must(s.h.OpenAccount(s.ctx, commands.Request{System: true}, domain.OpenAccount{Account: id("petit2"), Establishment: uai,
		Profile: domain.ProfileTeacher, DisplayName: "PETIT Paul"}))
	src := Source{Name: "edt_6z.xml", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
	rep, err = s.im.Run(s.ctx, src, s.opts(FormatEDT, "2026-08-31", true))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Refused != RefusedUnmatched {
		t.Fatalf("refused %q", rep.Refused)
	}
	o := s.opts(FormatEDT, "2026-08-31", true)
	o.Force = true
	rep, _ = s.MustImport(src, o)
	reasons := map[string]int{}
	for _, u := range rep.Plan.Unmatched {
		reasons[u.Target+" "+u.Reason]++
	}
	want := map[string]int{"6Z unknown-class": 3, "6AB-ANG2 ambiguous-teacher": 1}
	if !mapsEqual(reasons, want) {
		t.Errorf("unmatched %v, want %v", reasons, want)
	}
	ls := s.lessons()
	wantLessons(t, ls, "2026-09-01")
	wantLessons(t, ls, "2026-11-04", "ANG1 2026-11-04 08:00-08:55 Anglais LV1 bernard")
	wantLessons(t, ls, "2026-09-03", "6A 2026-09-03 13:30-14:25 SVT moreau")
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The UDT scenario: teachers by their join id or their name, a group
// across classes, alternating weeks, half-sequences merged, a line given
// twice; then a lesson moved from a date on.
func TestUDTImportAndReimport(t *testing.T) {
	s := newSchool(t)
	rep, n := s.MustImport(file("udt_v1.xml"), s.opts(FormatUDT, "2026-08-31", false))
	if n == 0 || len(rep.Plan.Unmatched) != 0 || len(rep.Rejected) != 0 {
		t.Fatalf("first import: %d events, unmatched %+v, rejected %+v", n, rep.Plan.Unmatched, rep.Rejected)
	}
	v1 := s.lessons()
	wantLessons(t, v1, "2026-09-07",
		"6A 2026-09-07 08:00-08:55 Mathématiques dupont",
		"6A 2026-09-07 09:00-11:00 Français martin")
	wantLessons(t, v1, "2026-09-08", "6B 2026-09-08 08:00-08:55 Mathématiques dupont")
	wantLessons(t, v1, "2026-09-09", "ANG1 2026-09-09 08:00-08:55 Anglais LV1 bernard")
	wantLessons(t, v1, "2026-09-03", "6A 2026-09-03 13:30-14:25 SVT moreau")
	wantLessons(t, v1, "2026-09-10", "6B 2026-09-10 13:30-14:25 SVT moreau")
	wantLessons(t, v1, "2026-11-05", "6B 2026-11-05 13:30-14:25 SVT moreau")
	wantLessons(t, v1, "2026-12-21")

	s.now = time.Date(2026, time.September, 20, 9, 0, 0, 0, time.UTC)
	if rep, n := s.MustImport(file("udt_v1.xml"), s.opts(FormatUDT, "2026-09-21", false)); n != 0 {
		t.Fatalf("re-import appended %d events: add %+v remove %+v", n, rep.Plan.Add, rep.Plan.Remove)
	}

	s.now = time.Date(2027, time.January, 2, 9, 0, 0, 0, time.UTC)
	rep, _ = s.MustImport(file("udt_v2.xml"), s.opts(FormatUDT, "2027-01-04", false))
	v2 := s.lessons()
	wantLessons(t, v2, "2026-12-14",
		"6A 2026-12-14 08:00-08:55 Mathématiques dupont",
		"6A 2026-12-14 09:00-11:00 Français martin")
	wantLessons(t, v2, "2027-01-04", "6A 2027-01-04 09:00-11:00 Français martin")
	wantLessons(t, v2, "2027-01-07",
		"6A 2027-01-07 10:05-11:00 Mathématiques dupont",
		"6A 2027-01-07 13:30-14:25 SVT moreau")
	// The Monday runs from the cut on go (the run that ends in December
	// stays), the Thursday ones come.
	if len(rep.Plan.Remove) == 0 {
		t.Error("nothing removed")
	}
	for _, e := range rep.Plan.Remove {
		if e.Weekday != time.Monday || e.From.Before(domain.MustDate("2027-01-04")) {
			t.Errorf("removed %+v", e)
		}
	}
	if rep, n := s.MustImport(file("udt_v2.xml"), s.opts(FormatUDT, "2027-01-04", false)); n != 0 {
		t.Fatalf("re-import appended %d events: add %+v remove %+v", n, rep.Plan.Add, rep.Plan.Remove)
	}
}

// A dry run plans and writes nothing.
func TestDryRunWritesNothing(t *testing.T) {
	s := newSchool(t)
	o := s.opts(FormatEDT, "2026-08-31", true)
	o.DryRun = true
	rep, n := s.MustImport(file("edt_v1.xml"), o)
	if n != 0 || len(rep.Plan.Add) == 0 || rep.Added != 0 {
		t.Fatalf("dry run: %d events, %d planned, %d added", n, len(rep.Plan.Add), rep.Added)
	}
}

// An export of another establishment is refused.
func TestOtherEstablishmentRefused(t *testing.T) {
	s := newSchool(t)
	o := s.opts(FormatEDT, "2026-08-31", true)
	o.UAI = "0330002B"
	rep, err := s.im.Run(s.ctx, file("edt_v1.xml"), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Refused != RefusedUAI {
		t.Fatalf("refused %q", rep.Refused)
	}
}

// A cut in the middle of a run: the run is written again up to the day
// before the cut, its past lessons the same.
func TestCutInsideARun(t *testing.T) {
	s := newSchool(t)
	s.MustImport(file("udt_v1.xml"), s.opts(FormatUDT, "2026-08-31", false))
	v1 := s.lessons()
	s.now = time.Date(2027, time.January, 16, 9, 0, 0, 0, time.UTC)
	rep, _ := s.MustImport(file("udt_v2.xml"), s.opts(FormatUDT, "2027-01-18", false))
	if !slices.ContainsFunc(rep.Plan.Add, func(e Entry) bool {
		return e.Weekday == time.Monday && e.From == domain.MustDate("2027-01-04") && e.Until == domain.MustDate("2027-01-11")
	}) {
		t.Errorf("the run crossing the cut is not cut short: add %+v", rep.Plan.Add)
	}
	v2 := s.lessons()
	past := func(ls []string) []string {
		return slices.DeleteFunc(slices.Clone(ls), func(l string) bool { return strings.Fields(l)[1] >= "2027-01-18" })
	}
	if !slices.Equal(past(v1), past(v2)) {
		t.Errorf("lessons before the cut changed")
	}
	wantLessons(t, v2, "2027-01-11",
		"6A 2027-01-11 08:00-08:55 Mathématiques dupont",
		"6A 2027-01-11 09:00-11:00 Français martin")
	wantLessons(t, v2, "2027-01-18", "6A 2027-01-18 09:00-11:00 Français martin")
	wantLessons(t, v2, "2027-01-14", "6B 2027-01-14 13:30-14:25 SVT moreau")
	wantLessons(t, v2, "2027-01-21",
		"6A 2027-01-21 10:05-11:00 Mathématiques dupont",
		"6A 2027-01-21 13:30-14:25 SVT moreau")
}

// A Saturday course in an establishment that does not teach on Saturdays
// is reported, not silently counted with the holidays.
func TestSaturdayCourseReported(t *testing.T) {
	s := newSchool(t)
	b, err := os.ReadFile(filepath.Join("testdata", "edt_v1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`Ident="CO3" Jour="2"`), []byte(`Ident="CO3" Jour="6"`), 1)
	src := Source{Name: "edt_saturday.xml", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
	o := s.opts(FormatEDT, "2026-08-31", true)
	o.DryRun = true
	rep, err := s.im.Run(s.ctx, src, o)
	if err != nil {
		t.Fatal(err)
	}
	var got []Unmatched
	for _, u := range rep.Plan.Unmatched {
		if u.Reason == ReasonNoSchoolDay {
			got = append(got, u)
		}
	}
	if len(got) == 0 || got[0].Course != "CO3" || got[0].Name != "Saturday" {
		t.Fatalf("no-school-day entries %+v in %+v", got, rep.Plan.Unmatched)
	}
}
