package portal

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/letters"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// The office's letters to families (docs/notifications.md, "Letters"):
// choose a period, a threshold of unjustified half-days and a class, see
// the students and their letter, download the letters as one PDF or send
// them by e-mail; each letter is recorded on the student's file.

func (p *Portal) letterPages() []page {
	if p.cfg.Letters == nil {
		return nil
	}
	staff := []domain.Profile{domain.ProfilePersonnel}
	return []page{
		{method: "GET", path: "/office/letters", profiles: staff, handle: p.lettersHome},
		{method: "POST", path: "/office/letters/pdf", profiles: staff, handle: p.onForm(lettersForm, p.showLetters, p.printLetters)},
		{method: "POST", path: "/office/letters/email", profiles: staff, handle: p.onForm(lettersForm, p.showLetters, p.mailLetters)},
	}
}

var lettersForm = formSpec{
	named:  func(*http.Request) string { return "letters" },
	fields: []string{"from", "to", "threshold", "group", "template", "student"},
}

type lettersData struct {
	// The choice, as typed.
	From, To, Threshold, Group, Template string
	Groups                               []projections.GroupSummary
	Templates                            []domain.LetterTemplate
	// Chosen reports whether a period was chosen; Problem says why it
	// could not be read.
	Chosen  bool
	Problem string
	Sel     letters.Selection
	// Texts are the letters' words, for the preview.
	Texts []letters.Text
	Mail  bool
}

func (p *Portal) lettersHome(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showLetters(w, r, v, http.StatusOK)
}

// showLetters shows the choice and, once a period is chosen, the letters.
// A refused form shows what was sent.
func (p *Portal) showLetters(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	uai := v.Me.Establishment
	if err := web.MayReadOffice(v.principal, uai); err != nil {
		return err
	}
	set, err := p.cfg.Commands.AlertSettings(r.Context(), uai)
	if err != nil {
		return err
	}
	groups, err := p.cfg.Queries.GroupsOfEstablishment(r.Context(), uai)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	today := domain.DateOf(p.now().In(p.cfg.Location))
	first := domain.Date{Year: today.Year, Month: today.Month, Day: 1}
	d := lettersData{
		From: orDefault(q.Get("from"), first.String()), To: orDefault(q.Get("to"), today.String()),
		Threshold: orDefault(q.Get("threshold"), strconv.Itoa(set.HalfDaysPerMonth)), Group: q.Get("group"),
		Template: orDefault(q.Get("template"), string(domain.LetterUnjustifiedAbsences)),
		Groups:   groups, Templates: domain.LetterTemplates(), Chosen: q.Get("from") != "", Mail: p.cfg.Letters.Mailer != nil,
	}
	if d.Chosen {
		req, err := lettersRequest(uai, d.From, d.To, d.Threshold, d.Group, d.Template, nil)
		if err == nil {
			d.Sel, err = p.cfg.Letters.Select(r.Context(), req)
		}
		if errors.Is(err, domain.ErrInvalid) {
			d.Problem = v.T("letters.bad_choice")
		} else if err != nil {
			return err
		}
		for _, l := range d.Sel.Letters {
			t, err := p.cfg.Letters.Writer.Text(l)
			if err != nil {
				return err
			}
			d.Texts = append(d.Texts, t)
		}
	}
	p.render(w, r, status, v, "letters", "title.letters", d)
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// lettersRequest reads the choice.
func lettersRequest(uai, from, to, threshold, group, template string, students []uuid.UUID) (letters.Request, error) {
	req := letters.Request{Establishment: uai, Template: domain.LetterTemplate(template), Students: students}
	var err error
	if req.Filter.From, err = domain.ParseDate(from); err != nil {
		return req, domain.Errorf(domain.ErrInvalid, "from: %v", err)
	}
	if req.Filter.To, err = domain.ParseDate(to); err != nil {
		return req, domain.Errorf(domain.ErrInvalid, "to: %v", err)
	}
	n, err := strconv.Atoi(threshold)
	if err != nil || n < 1 || n > 200 {
		return req, domain.Errorf(domain.ErrInvalid, "threshold: a number of half-days from 1 to 200")
	}
	req.Filter.Threshold = n
	if group != "" {
		if req.Filter.Group, err = uuid.Parse(group); err != nil {
			return req, domain.Errorf(domain.ErrInvalid, "group: not an id")
		}
	}
	return req, nil
}

// postedLetters reads the posted choice and the students ticked.
func (p *Portal) postedLetters(r *http.Request, v *view) (letters.Request, error) {
	f := web.FormOf(r)
	students := f.IDs("student")
	if err := f.Err(); err != nil {
		return letters.Request{}, err
	}
	if len(students) == 0 {
		return letters.Request{}, atField(domain.Errorf(domain.ErrInvalid, "no student chosen"), "student", v.T("letters.choose_students"))
	}
	req, err := lettersRequest(v.Me.Establishment, f.Str("from"), f.Str("to"), f.Str("threshold"), f.Str("group"), f.Str("template"), students)
	req.Signatory = v.Me.DisplayName
	return req, err
}

// printLetters answers the PDF of the letters, a page per family, once
// each is recorded.
func (p *Portal) printLetters(w http.ResponseWriter, r *http.Request, v *view) error {
	req, err := p.postedLetters(r, v)
	if err != nil {
		return err
	}
	creq, err := commandOf(r)
	if err != nil {
		return err
	}
	var pdf bytes.Buffer
	if _, err := p.cfg.Letters.Print(r.Context(), creq, req, &pdf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="courriers-`+req.Filter.From.String()+`-`+req.Filter.To.String()+`.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(pdf.Bytes())
	return err
}

// mailLetters sends the letters by e-mail.
func (p *Portal) mailLetters(w http.ResponseWriter, r *http.Request, v *view) error {
	req, err := p.postedLetters(r, v)
	if err != nil {
		return err
	}
	creq, err := commandOf(r)
	if err != nil {
		return err
	}
	_, n, err := p.cfg.Letters.Mail(r.Context(), creq, req)
	if err != nil {
		return err
	}
	if n == 0 {
		return atField(domain.Errorf(domain.ErrInvalid, "no letter sent"), "student", v.T("letters.none_sent"))
	}
	return done(w, r, "/office/letters", "letters_mailed", commands.Result{})
}
