package email

import (
	"strings"
	"testing"
	"time"
)

func TestAbsenceSubjects(t *testing.T) {
	tpl := templates(t)
	tests := []struct {
		name   string
		lang   Lang
		change func(*Absence)
		want   string
	}{
		{"french feminine", French, func(*Absence) {}, "Léa Martin est absente — lundi 7 décembre, 08:00, Mathématiques"},
		{"french masculine", French, func(a *Absence) { a.Student, a.Feminine = "Hugo Petit", false }, "Hugo Petit est absent — lundi 7 décembre, 08:00, Mathématiques"},
		{"french without lesson", French, func(a *Absence) { a.Lesson = "" }, "Léa Martin est absente — lundi 7 décembre, 08:00"},
		{"english", English, func(*Absence) {}, "Léa Martin is absent — Monday 7 December, 08:00, Mathématiques"},
		{"time in the establishments' zone", French, func(a *Absence) { a.Start = a.Start.UTC() }, "Léa Martin est absente — lundi 7 décembre, 08:00, Mathématiques"},
		{"august in summer time", French, func(a *Absence) {
			a.Start = time.Date(2026, 8, 31, 13, 30, 0, 0, time.UTC)
		}, "Léa Martin est absente — lundi 31 août, 15:30, Mathématiques"},
		{"unknown language is french", Lang("de"), func(*Absence) {}, "Léa Martin est absente — lundi 7 décembre, 08:00, Mathématiques"},
		{"spaces of the name folded", French, func(a *Absence) { a.Student = "  Léa \t Martin\n" }, "Léa Martin est absente — lundi 7 décembre, 08:00, Mathématiques"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := lea
			tt.change(&a)
			c, err := tpl.Absence(tt.lang, a)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tt.want {
				t.Errorf("Subject = %q, want %q", c.Subject, tt.want)
			}
		})
	}
}

func TestAbsenceRefusesMissingOrUnsafeData(t *testing.T) {
	tpl := templates(t)
	tests := []struct {
		name   string
		change func(*Absence)
		want   string
	}{
		{"no name", func(a *Absence) { a.Student = " \r\n" }, "name is empty"},
		{"no start", func(a *Absence) { a.Start = time.Time{} }, "start"},
		{"no link", func(a *Absence) { a.DeclareURL = "" }, "link"},
		{"relative link", func(a *Absence) { a.DeclareURL = "/absences/3f2a" }, "absolute"},
		{"script link", func(a *Absence) { a.DeclareURL = "javascript:alert(1)" }, "absolute"},
		{"link with a line break", func(a *Absence) { a.DeclareURL = "https://ent.example.org/a\r\nX: 1" }, "control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := lea
			tt.change(&a)
			_, err := tpl.Absence(French, a)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Absence = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestParseLang(t *testing.T) {
	for code, want := range map[string]Lang{"fr": French, "fr-FR": French, "en": English, "EN-gb": English, "": French, "de": French} {
		if got := ParseLang(code); got != want {
			t.Errorf("ParseLang(%q) = %q, want %q", code, got, want)
		}
	}
}
