package email

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/schoollife/ledger/domain"
)

// Lang is the language a message is written in.
type Lang string

const (
	// French is the default language.
	French Lang = "fr"
	// English is written when the recipient prefers it.
	English Lang = "en"
)

// ParseLang reads a language code ("fr", "en-GB"); anything but English
// is French.
func ParseLang(code string) Lang {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(code)), "-")
	if base == string(English) {
		return English
	}
	return French
}

var langs = []Lang{French, English}

// Kind is a kind of message, the name of its templates.
type Kind string

// KindAbsence tells a family that their child is absent.
const KindAbsence Kind = "absence"

var kinds = []Kind{KindAbsence}

// Content is a written message: its subject and its two bodies.
type Content struct {
	Subject string
	Text    string
	HTML    string
}

//go:embed templates
var files embed.FS

// Templates writes the messages of every kind in every language. The
// templates of a kind are templates/KIND.LANG.txt, which defines
// "subject" and "text" (text/template), and templates/KIND.LANG.html
// (html/template, which escapes what it is given).
type Templates struct {
	loc  *time.Location
	sets map[Lang]map[Kind]set
}

type set struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewTemplates parses the embedded templates. Times are written in loc;
// nil means the establishments' zone, Europe/Paris.
func NewTemplates(loc *time.Location) (*Templates, error) {
	if loc == nil {
		loc = domain.Paris()
	}
	t := &Templates{loc: loc, sets: map[Lang]map[Kind]set{}}
	for _, lang := range langs {
		funcs := t.funcs(lang)
		t.sets[lang] = map[Kind]set{}
		for _, kind := range kinds {
			name := fmt.Sprintf("templates/%s.%s", kind, lang)
			text, err := texttemplate.New(string(kind)).Funcs(funcs).Option("missingkey=error").ParseFS(files, name+".txt")
			if err != nil {
				return nil, fmt.Errorf("email: templates: %w", err)
			}
			for _, part := range []string{"subject", "text"} {
				if text.Lookup(part) == nil {
					return nil, fmt.Errorf("email: templates: %s.txt defines no %q", name, part)
				}
			}
			html, err := htmltemplate.New(string(kind)).Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=error").ParseFS(files, name+".html")
			if err != nil {
				return nil, fmt.Errorf("email: templates: %w", err)
			}
			page := html.Lookup(fmt.Sprintf("%s.%s.html", kind, lang))
			if page == nil {
				return nil, fmt.Errorf("email: templates: %s.html is missing", name)
			}
			t.sets[lang][kind] = set{text: text, html: page}
		}
	}
	return t, nil
}

// Absence is what an absence notification says.
type Absence struct {
	// Student is the child's name as the family reads it ("Léa Martin").
	Student string
	// Feminine chooses the French agreement: "absente" rather than
	// "absent".
	Feminine bool
	// Start is when the absence began (the lesson's start).
	Start time.Time
	// Lesson is the subject of the lesson missed ("Mathématiques");
	// optional.
	Lesson string
	// DeclareURL is the page of the absence where the family declares a
	// reason (http or https).
	DeclareURL string
}

// Absence writes an absence notification in lang.
func (t *Templates) Absence(lang Lang, a Absence) (Content, error) {
	a.Student = oneLine(a.Student)
	a.Lesson = oneLine(a.Lesson)
	var errs []error
	if a.Student == "" {
		errs = append(errs, errors.New("the student's name is empty"))
	}
	if a.Start.IsZero() {
		errs = append(errs, errors.New("the start of the absence is missing"))
	}
	if err := checkLink(a.DeclareURL); err != nil {
		errs = append(errs, fmt.Errorf("the link to declare a reason: %w", err))
	}
	if len(errs) > 0 {
		return Content{}, fmt.Errorf("email: absence: %w", errors.Join(errs...))
	}
	return t.render(KindAbsence, lang, a)
}

func (t *Templates) render(kind Kind, lang Lang, data any) (Content, error) {
	byKind, ok := t.sets[lang]
	if !ok {
		byKind = t.sets[French]
	}
	s, ok := byKind[kind]
	if !ok {
		return Content{}, fmt.Errorf("email: no templates for %q", kind)
	}
	var subject, text, html bytes.Buffer
	if err := s.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Content{}, fmt.Errorf("email: %s subject: %w", kind, err)
	}
	if err := s.text.ExecuteTemplate(&text, "text", data); err != nil {
		return Content{}, fmt.Errorf("email: %s text: %w", kind, err)
	}
	if err := s.html.Execute(&html, data); err != nil {
		return Content{}, fmt.Errorf("email: %s html: %w", kind, err)
	}
	return Content{Subject: oneLine(subject.String()), Text: text.String(), HTML: html.String()}, nil
}

// checkLink accepts an absolute http or https address without spaces or
// control characters.
func checkLink(raw string) error {
	if raw == "" {
		return errors.New("empty")
	}
	if strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || isControl(r) }) >= 0 {
		return fmt.Errorf("%q holds spaces or control characters", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https address", raw)
	}
	return nil
}

// funcs are the templates' functions in lang: day ("lundi 7 décembre",
// "Monday 7 December") and clock ("08:00"), in the Templates' zone.
func (t *Templates) funcs(lang Lang) texttemplate.FuncMap {
	weekdays, months := frWeekdays, frMonths
	if lang == English {
		weekdays, months = enWeekdays, enMonths
	}
	return texttemplate.FuncMap{
		"day": func(at time.Time) string {
			at = at.In(t.loc)
			return fmt.Sprintf("%s %d %s", weekdays[at.Weekday()], at.Day(), months[at.Month()-1])
		},
		"clock": func(at time.Time) string { return at.In(t.loc).Format("15:04") },
	}
}

var (
	frWeekdays = [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frMonths   = [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	enWeekdays = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	enMonths   = [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)
