package timetableimport

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/schoollife/ledger/domain"
)

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The two exports say the same in different encodings, one declaring
// what it is not.
func TestEDTEncodings(t *testing.T) {
	v1, err := ParseEDT(bytes.NewReader(mustRead(t, "edt_v1.xml")), 0)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := ParseEDT(bytes.NewReader(mustRead(t, "edt_v2.xml")), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []*Timetable{v1, v2} {
		if got := tt.Subjects["MAT5"].Label; got != "ÉDUCATION MUSICALE" {
			t.Errorf("label %q", got)
		}
		if got := tt.Teachers["PR6"].FirstName; got != "Hélène" {
			t.Errorf("first name %q", got)
		}
		if tt.UAI != "0330001A" {
			t.Errorf("UAI %q", tt.UAI)
		}
	}
	if len(v2.Warnings) != 0 {
		t.Errorf("an honest ISO-8859-1 file warned: %+v", v2.Warnings)
	}
	// Latin-1 bytes declared UTF-8: read as Latin-1, and said.
	latin, err := charmap.ISO8859_1.NewEncoder().Bytes(bytes.Replace(mustRead(t, "edt_v1.xml")[3:], []byte(`encoding="ISO-8859-1"`), []byte(`encoding="UTF-8"`), 1))
	if err != nil {
		t.Fatal(err)
	}
	v3, err := ParseEDT(bytes.NewReader(latin), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := v3.Subjects["MAT2"].Label; got != "FRANÇAIS" {
		t.Errorf("label %q", got)
	}
	if !slices.ContainsFunc(v3.Warnings, func(w Warning) bool { return strings.Contains(w.Message, "declared UTF-8") }) {
		t.Errorf("warnings %+v", v3.Warnings)
	}
	// UTF-16 with its byte-order mark.
	u16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(mustRead(t, "edt_v1.xml")[3:])
	if err != nil {
		t.Fatal(err)
	}
	v4, err := ParseEDT(bytes.NewReader(u16), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := v4.Subjects["MAT5"].Label; got != "ÉDUCATION MUSICALE" || len(v4.Courses) != len(v1.Courses) {
		t.Errorf("UTF-16: label %q, %d courses", got, len(v4.Courses))
	}
}

func TestEDTCourses(t *testing.T) {
	tt, err := ParseEDT(bytes.NewReader(mustRead(t, "edt_v1.xml")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(tt.Courses) != 9 || len(tt.Rejected) != 0 {
		t.Fatalf("%d courses, rejected %+v", len(tt.Courses), tt.Rejected)
	}
	i := slices.IndexFunc(tt.Courses, func(c Course) bool { return c.Key == "CO7" })
	c := tt.Courses[i]
	if c.Weekday != time.Thursday || c.Slot != (domain.Slot{Start: "13:30", End: "14:25"}) || len(c.Parts) != 2 {
		t.Fatalf("CO7: %+v", c)
	}
	// A and B weeks alternate over school weeks: 6A's first weeks are 1,
	// 3, 5, 7, then 11 (the week after the Toussaint holidays is B).
	a := c.Parts[0]
	if !slices.Equal(a.Classes, []string{"CL1"}) || a.Weeks.Mondays[0] != domain.MustDate("2026-08-31") || a.Weeks.Mondays[4] != domain.MustDate("2026-11-09") {
		t.Errorf("part A: %+v", a)
	}
	i = slices.IndexFunc(tt.Courses, func(c Course) bool { return c.Key == "CO2" })
	if got := tt.Courses[i].Slot; got != (domain.Slot{Start: "09:00", End: "11:00"}) {
		t.Errorf("two places: %s", got)
	}
}

// Bad courses are rejected with their line; a file that cannot be read
// to its end is an error.
func TestEDTRejectsAndErrors(t *testing.T) {
	b := mustRead(t, "edt_v2.xml")
	bad := bytes.Replace(b, []byte(`<Cours Ident="CO3" Jour="2"`), []byte(`<Cours Ident="CO3" Jour="9"`), 1)
	bad = bytes.Replace(bad, []byte(`<Cours Ident="CO5" Jour="3" NumeroPlaceDebut="0"`), []byte(`<Cours Ident="CO5" Jour="3" NumeroPlaceDebut="42"`), 1)
	tt, err := ParseEDT(bytes.NewReader(bad), 0)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range tt.Rejected {
		if r.Line == 0 || r.Reason == "" {
			t.Errorf("rejection without line or reason: %+v", r)
		}
		keys = append(keys, r.Key)
	}
	if !slices.Equal(keys, []string{"CO3", "CO5"}) {
		t.Errorf("rejected %v", keys)
	}
	for name, in := range map[string][]byte{
		"truncated": b[:len(b)/2],
		"not xml":   []byte("Ident;Nom\n1;6A\n"),
		"no year":   bytes.Replace(b, []byte("AnneeScolaire"), []byte("Annee"), 2),
	} {
		if _, err := ParseEDT(bytes.NewReader(in), 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A name the ledger would refuse (too long; XML itself refuses
	// control characters) never reaches the log: the class is left out,
	// said.
	tt, err = ParseEDT(bytes.NewReader(bytes.Replace(b, []byte(`Nom="6A"`), []byte(`Nom="`+strings.Repeat("6A", 150)+`"`), 1)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tt.Classes["CL1"]; ok || !slices.ContainsFunc(tt.Warnings, func(w Warning) bool { return strings.Contains(w.Message, "class CL1 left out") }) {
		t.Errorf("class %q kept, warnings %+v", tt.Classes["CL1"], tt.Warnings)
	}
	if _, err := ParseEDT(bytes.NewReader(b), 100); err == nil {
		t.Error("a file over the size limit was read")
	}
}

func TestUDTCourses(t *testing.T) {
	tt, err := ParseUDT(bytes.NewReader(mustRead(t, "udt_v1.xml")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if tt.UAI != "0330001A" || len(tt.Rejected) != 0 {
		t.Fatalf("UAI %q, rejected %+v", tt.UAI, tt.Rejected)
	}
	// Seven lines, one given twice, two merged: six lessons.
	if len(tt.Courses) != 6 {
		t.Fatalf("%d courses: %+v", len(tt.Courses), tt.Courses)
	}
	labels := map[string]int{}
	for _, c := range tt.Courses {
		labels[string(c.Parts[0].Weeks.Label)]++
	}
	if labels["A"] != 1 || labels["B"] != 1 || labels[""] != 4 {
		t.Errorf("week labels %v", labels)
	}
	bad := bytes.Replace(mustRead(t, "udt_v1.xml"), []byte(`fic="F11"`), []byte(`fic="F99"`), 1)
	if tt, err = ParseUDT(bytes.NewReader(bad), 0); err != nil || len(tt.Rejected) != 1 {
		t.Fatalf("err %v, rejected %+v", err, tt.Rejected)
	}
}

func TestSTS(t *testing.T) {
	s, err := ParseSTS(bytes.NewReader(mustRead(t, "sts_emp_0330001A_2026.xml")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.UAI != "0330001A" || !slices.Equal(s.Aliases("MATHS"), []string{"MATHS", "061300"}) || !slices.Equal(s.Aliases("061300"), []string{"061300", "MATHS"}) {
		t.Errorf("STS %q %v", s.UAI, s.Aliases("MATHS"))
	}
	if l, _ := s.Label("EDMUS"); l != "EDUCATION MUSICALE" {
		t.Errorf("label %q", l)
	}
}

func TestNameKey(t *testing.T) {
	for _, c := range [][2]string{
		{"DUPONT Marie-Hélène", "marie helene dupont"},
		{"  Marie Hélène  DUPONT ", "marie helene dupont"},
		{"N'DIAYE Aïssata", "aissata diaye n"},
	} {
		if got := nameKey(c[0]); got != nameKey(c[1]) {
			t.Errorf("nameKey(%q) = %q, nameKey(%q) = %q", c[0], got, c[1], nameKey(c[1]))
		}
	}
}
