package timetableimport

import (
	"bytes"
	"testing"
	"time"
)

// checkParsed holds whatever a parser returns to what the plan relies on.
func checkParsed(t *testing.T, tt *Timetable) {
	for _, c := range tt.Courses {
		if c.Weekday < time.Monday || c.Weekday > time.Saturday {
			t.Fatalf("weekday %v", c.Weekday)
		}
		if err := c.Slot.Validate(); err != nil {
			t.Fatalf("slot %s: %v", c.Slot, err)
		}
		if len(c.Parts) == 0 {
			t.Fatalf("course without parts: %+v", c)
		}
	}
}

func FuzzParseEDT(f *testing.F) {
	for _, name := range []string{"edt_v1.xml", "edt_v2.xml"} {
		f.Add(mustRead(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tt, err := ParseEDT(bytes.NewReader(b), 1<<20)
		if err == nil {
			checkParsed(t, tt)
		}
	})
}

func FuzzParseUDT(f *testing.F) {
	for _, name := range []string{"udt_v1.xml", "udt_v2.xml"} {
		f.Add(mustRead(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tt, err := ParseUDT(bytes.NewReader(b), 1<<20)
		if err == nil {
			checkParsed(t, tt)
		}
	})
}

func FuzzParseSTS(f *testing.F) {
	f.Add(mustRead(f, "sts_emp_0330001A_2026.xml"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSTS(bytes.NewReader(b), 1<<20)
		if err == nil {
			for _, code := range []string{"MATHS", "061300", ""} {
				if a := s.Aliases(code); len(a) == 0 || a[0] != code {
					t.Fatalf("aliases of %q: %v", code, a)
				}
			}
		}
	})
}
