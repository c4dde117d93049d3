package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestTextKinds: one table per kind of text, hostile values refused with
// ErrInvalid naming the field, ordinary French text accepted.
func TestTextKinds(t *testing.T) {
	ok := []string{"", "Élodie N'Diaye-Lefèvre", "Sortie au musée 🎨", "\uFFFD is a real character", strings.Repeat("é", 100)}
	refused := map[string]string{
		"invalid UTF-8":        "abc\xff",
		"truncated sequence":   "caf\xc3",
		"encoded surrogate":    "\xed\xa0\x80",
		"overlong encoding":    "\xc0\xaf",
		"NUL":                  "a\x00b",
		"escape":               "\x1b[31mrouge",
		"bell":                 "\a",
		"DEL":                  "a\x7f",
		"C1 control":           "a\u0085b",
		"lone CR":              "a\rb",
		"100 kB":               strings.Repeat("x", 100_000),
		"100 kB of multi-byte": strings.Repeat("é", 50_000),
	}
	singleLineOnly := map[string]string{
		"newline":             "a\nb",
		"CR LF":               "a\r\nb",
		"tab":                 "a\tb",
		"line separator":      "a\u2028b",
		"paragraph separator": "a\u2029b",
	}
	for _, k := range domain.TextKinds {
		t.Run(k.Name, func(t *testing.T) {
			accept := func(name, v string) {
				t.Helper()
				if err := k.Check("field", v); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			refuse := func(name, v string) {
				t.Helper()
				err := k.Check("field", v)
				if !errors.Is(err, domain.ErrInvalid) || !strings.HasPrefix(err.(*domain.Error).Detail, "field: ") {
					t.Errorf("%s: %v, want %v naming the field", name, err, domain.ErrInvalid)
				}
			}
			for _, v := range ok {
				accept(v, v)
			}
			accept("at the limit", strings.Repeat("é", k.MaxRunes))
			refuse("over the limit", strings.Repeat("é", k.MaxRunes+1))
			for name, v := range refused {
				refuse(name, v)
			}
			for name, v := range singleLineOnly {
				if k.Multiline {
					accept(name, v)
				} else {
					refuse(name, v)
				}
			}
		})
	}
}

// TestCalendarWindows: dates outside the school years around today are
// refused, per window; the zero date is left to each command's own rule.
func TestCalendarWindows(t *testing.T) {
	cal := domain.CalendarOn(domain.MustDate("2006-03-14")) // school year 2005-2006
	type cmd struct {
		Act  domain.Date `json:"act" date:"act"`
		Plan domain.Date `json:"plan" date:"plan"`
	}
	tests := []struct {
		name string
		cmd  cmd
		err  string // the field named, "" when accepted
	}{
		{"today", cmd{Act: cal.Today, Plan: cal.Today}, ""},
		{"unset", cmd{}, ""},
		{"first day of the previous school year", cmd{Act: domain.MustDate("2004-09-01"), Plan: domain.MustDate("2004-09-01")}, ""},
		{"last day of the current school year", cmd{Act: domain.MustDate("2006-08-31")}, ""},
		{"last day of the next school year", cmd{Plan: domain.MustDate("2007-08-31")}, ""},
		{"act before the previous school year", cmd{Act: domain.MustDate("2004-08-31")}, "act"},
		{"act in the next school year", cmd{Act: domain.MustDate("2006-09-01")}, "act"},
		{"plan after the next school year", cmd{Plan: domain.MustDate("2007-09-01")}, "plan"},
		{"plan before the previous school year", cmd{Plan: domain.MustDate("2004-08-31")}, "plan"},
		{"0001-01-01", cmd{Act: domain.MustDate("0001-01-01")}, "act"},
		{"1900-01-01", cmd{Act: domain.MustDate("1900-01-01")}, "act"},
		{"9999-12-31", cmd{Plan: domain.MustDate("9999-12-31")}, "plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.ValidateInput(tt.cmd, cal)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, domain.ErrInvalid) || !strings.HasPrefix(err.(*domain.Error).Detail, tt.err+": ") {
				t.Fatalf("%v, want %v naming %s", err, domain.ErrInvalid, tt.err)
			}
		})
	}
	// A wider window, as a deployment may configure it.
	wide := cal
	wide.Acts = domain.DateWindow{Before: 10, After: 0}
	if err := domain.ValidateInput(cmd{Act: domain.MustDate("1996-09-01")}, wide); err != nil {
		t.Errorf("ten school years back: %v", err)
	}
}

// TestValidateInputNested: texts inside slices and nested structs are
// checked and named by their path.
func TestValidateInputNested(t *testing.T) {
	cmd := domain.RegisterEstablishment{UAI: "0130001A", Name: "Collège", Reasons: []domain.JustificationReason{
		{Code: "MAL", Label: "Maladie"}, {Code: "X", Label: "a\x00b"},
	}}
	err := domain.ValidateInput(cmd, domain.CalendarOn(domain.MustDate("2006-03-14")))
	if !errors.Is(err, domain.ErrInvalid) || !strings.HasPrefix(err.(*domain.Error).Detail, "reasons[1].label: ") {
		t.Fatalf("%v, want the NUL in reasons[1].label", err)
	}
}
