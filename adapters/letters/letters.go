// Package letters writes the school-life office's letters to families:
// French texts from templates, laid out as A4 PDF pages (one page per
// family) with codeberg.org/go-pdf/fpdf v0.12.0 and the Liberation Sans
// fonts (codeberg.org/go-fonts/liberation), embedded so that every
// accented letter renders.
package letters

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/template"
	"time"
	"unicode"

	"codeberg.org/go-fonts/liberation/liberationsansbold"
	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"codeberg.org/go-pdf/fpdf"

	"github.com/schoollife/ledger/domain"
)

// Absence is one missed lesson, as the letter lists it.
type Absence struct {
	Date    domain.Date
	Slot    domain.Slot
	Subject string
}

// Letter is what one family's page says.
type Letter struct {
	Template domain.LetterTemplate
	// The sender: the establishment's name and postal address, the town
	// the letter is written in, and who signs.
	Establishment        string
	EstablishmentAddress []string
	Town                 string
	Signatory            string
	// Date the letter is written.
	Date domain.Date
	// The student and their class.
	Student string
	Class   string
	// Recipients are the legal guardians' names; Address their postal
	// address (empty when the directory has none: the letter is sent by
	// e-mail or handed over).
	Recipients []string
	Address    []string
	// The period, the unjustified half-days counted in it and the
	// absences themselves.
	From, To domain.Date
	HalfDays int
	Absences []Absence
}

// Text is a letter's words, without layout: for the preview page and the
// e-mail.
type Text struct {
	Subject    string
	Salutation string
	Paragraphs []string
	// List is the absences, one line each.
	List    []string
	Closing string
}

// MaxListed is the most lines the list of absences takes, so that a
// letter holds on one page: past it, the last line counts the others.
const MaxListed = 12

// Writer renders letters.
type Writer struct {
	templates map[domain.LetterTemplate]*template.Template
	// Compress compresses the PDF's page contents (true by default; the
	// tests read the text of an uncompressed one).
	Compress bool
	// Now stamps the PDF's creation date (the clock is injected).
	Now func() time.Time
}

// NewWriter parses the templates.
func NewWriter(now func() time.Time) (*Writer, error) {
	w := &Writer{templates: map[domain.LetterTemplate]*template.Template{}, Compress: true, Now: now}
	funcs := template.FuncMap{"date": FrenchDate, "halfDays": halfDays, "unjustified": unjustified}
	for name, text := range frenchTemplates {
		t, err := template.New(string(name)).Funcs(funcs).Parse(text)
		if err != nil {
			return nil, fmt.Errorf("letter template %s: %w", name, err)
		}
		w.templates[name] = t
	}
	for _, t := range domain.LetterTemplates() {
		if w.templates[t] == nil {
			return nil, fmt.Errorf("letter template %s: no French text", t)
		}
	}
	return w, nil
}

// Text returns a letter's words.
func (w *Writer) Text(l Letter) (Text, error) {
	t, ok := w.templates[l.Template]
	if !ok {
		return Text{}, domain.Errorf(domain.ErrInvalid, "template %q is not a letter template", l.Template)
	}
	l = clean(l)
	var b bytes.Buffer
	if err := t.Execute(&b, l); err != nil {
		return Text{}, fmt.Errorf("letter %s: %w", l.Template, err)
	}
	// The template writes "subject", then paragraphs separated by blank
	// lines; the salutation is the first paragraph and the closing the
	// last.
	parts := strings.Split(strings.TrimSpace(b.String()), "\n\n")
	if len(parts) < 4 {
		return Text{}, fmt.Errorf("letter %s: the template gives %d parts", l.Template, len(parts))
	}
	out := Text{
		Subject: strings.TrimSpace(parts[0]), Salutation: strings.TrimSpace(parts[1]),
		Closing: strings.TrimSpace(parts[len(parts)-1]),
	}
	for _, p := range parts[2 : len(parts)-1] {
		out.Paragraphs = append(out.Paragraphs, strings.Join(strings.Fields(p), " "))
	}
	for i, a := range l.Absences {
		if i == MaxListed-1 && len(l.Absences) > MaxListed {
			out.List = append(out.List, fmt.Sprintf("et %d autres cours", len(l.Absences)-i))
			break
		}
		out.List = append(out.List, fmt.Sprintf("%s, %s–%s, %s", FrenchDate(a.Date), a.Slot.Start, a.Slot.End, a.Subject))
	}
	return out, nil
}

// Render writes one PDF with a page per letter.
func (w *Writer) Render(out io.Writer, letters []Letter) error {
	if len(letters) == 0 {
		return domain.Errorf(domain.ErrInvalid, "no letter to write")
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(w.Compress)
	pdf.AddUTF8FontFromBytes("sans", "", liberationsansregular.TTF)
	pdf.AddUTF8FontFromBytes("sans", "B", liberationsansbold.TTF)
	pdf.SetTitle("Courriers aux familles", true)
	pdf.SetCreator("ledger", true)
	if w.Now != nil {
		pdf.SetCreationDate(w.Now())
		pdf.SetModificationDate(w.Now())
	}
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(true, 20)
	for _, l := range letters {
		text, err := w.Text(l)
		if err != nil {
			return err
		}
		w.page(pdf, clean(l), text)
		if err := pdf.Error(); err != nil {
			return fmt.Errorf("letter of %s: %w", l.Student, err)
		}
	}
	return pdf.Output(out)
}

func (w *Writer) page(pdf *fpdf.Fpdf, l Letter, t Text) {
	pdf.AddPage()
	// The sender, top left.
	pdf.SetFont("sans", "B", 11)
	pdf.MultiCell(80, 5, l.Establishment, "", "L", false)
	pdf.SetFont("sans", "", 10)
	for _, line := range l.EstablishmentAddress {
		pdf.MultiCell(80, 5, line, "", "L", false)
	}
	// The recipients, where a window envelope shows them (right, 45 mm
	// down).
	pdf.SetXY(110, 45)
	pdf.SetFont("sans", "", 11)
	pdf.MultiCell(80, 5, strings.Join(l.Recipients, " et "), "", "L", false)
	for _, line := range l.Address {
		pdf.SetX(110)
		pdf.MultiCell(80, 5, line, "", "L", false)
	}
	pdf.SetXY(110, 80)
	place := FrenchDate(l.Date)
	if l.Town != "" {
		place = l.Town + ", le " + place
	} else {
		place = "Le " + place
	}
	pdf.MultiCell(80, 5, place, "", "L", false)
	pdf.SetXY(20, 95)
	pdf.SetFont("sans", "B", 11)
	pdf.MultiCell(0, 6, "Objet : "+t.Subject, "", "L", false)
	pdf.Ln(4)
	pdf.SetFont("sans", "", 11)
	pdf.MultiCell(0, 6, t.Salutation, "", "L", false)
	pdf.Ln(2)
	for i, p := range t.Paragraphs {
		pdf.MultiCell(0, 6, p, "", "L", false)
		pdf.Ln(2)
		if i == 0 && len(t.List) > 0 {
			for _, line := range t.List {
				pdf.SetX(28)
				pdf.MultiCell(0, 5.5, "– "+line, "", "L", false)
			}
			pdf.Ln(2)
		}
	}
	pdf.MultiCell(0, 6, t.Closing, "", "L", false)
	pdf.Ln(8)
	pdf.SetX(110)
	pdf.MultiCell(80, 6, l.Signatory, "", "L", false)
}

// clean folds every text onto one line of printable characters: a name
// from the directory cannot open a line or hide a control character.
func clean(l Letter) Letter {
	f := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				return ' '
			}
			return r
		}, s)
		return strings.Join(strings.Fields(s), " ")
	}
	all := func(ss []string) []string {
		out := make([]string, 0, len(ss))
		for _, s := range ss {
			if s = f(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	l.Establishment, l.Town, l.Signatory, l.Student, l.Class = f(l.Establishment), f(l.Town), f(l.Signatory), f(l.Student), f(l.Class)
	l.EstablishmentAddress, l.Recipients, l.Address = all(l.EstablishmentAddress), all(l.Recipients), all(l.Address)
	abs := make([]Absence, len(l.Absences))
	for i, a := range l.Absences {
		a.Subject = f(a.Subject)
		abs[i] = a
	}
	l.Absences = abs
	return l
}

var (
	frenchDays   = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
		"septembre", "octobre", "novembre", "décembre"}
)

// FrenchDate writes a date as a French letter does: "lundi 7 décembre
// 2026", "mardi 1er décembre 2026".
func FrenchDate(d domain.Date) string {
	day := fmt.Sprint(d.Day)
	if d.Day == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %s %d", frenchDays[d.Weekday()], day, frenchMonths[d.Month-1], d.Year)
}

func halfDays(n int) string {
	if n <= 1 {
		return fmt.Sprintf("%d demi-journée", n)
	}
	return fmt.Sprintf("%d demi-journées", n)
}

func unjustified(n int) string {
	if n <= 1 {
		return halfDays(n) + " d'absence non justifiée"
	}
	return halfDays(n) + " d'absence non justifiées"
}

// frenchTemplates: the subject, the salutation, paragraphs (the list of
// absences comes after the first), the closing, separated by blank lines.
var frenchTemplates = map[domain.LetterTemplate]string{
	domain.LetterUnjustifiedAbsences: `Absences non justifiées de {{.Student}}

Madame, Monsieur,

Sauf erreur de notre part, {{.Student}}{{if .Class}}, élève de la classe {{.Class}},{{end}} a manqué les cours suivants entre le {{date .From}} et le {{date .To}} sans que nous ayons reçu de justification recevable, soit {{unjustified .HalfDays}} :

Nous vous demandons de nous faire connaître sans délai le motif de ces absences, par écrit ou depuis l'espace numérique de l'établissement.

Nous vous rappelons que l'assiduité est une obligation. Lorsqu'un enfant a manqué la classe sans motif légitime ni excuse valable au moins quatre demi-journées dans le mois, le directeur académique des services de l'éducation nationale en est informé (article L. 131-8 du code de l'éducation).

Veuillez agréer, Madame, Monsieur, l'expression de nos salutations distinguées.`,

	domain.LetterMeeting: `Assiduité de {{.Student}} : demande de rendez-vous

Madame, Monsieur,

Entre le {{date .From}} et le {{date .To}}, {{.Student}}{{if .Class}}, élève de la classe {{.Class}},{{end}} a manqué {{halfDays .HalfDays}} de cours sans justification recevable, lors des cours suivants :

Ces absences compromettent sa scolarité. Nous vous prions de bien vouloir prendre contact avec le service de la vie scolaire afin de convenir d'un rendez-vous dans les meilleurs délais.

Veuillez agréer, Madame, Monsieur, l'expression de nos salutations distinguées.`,
}
