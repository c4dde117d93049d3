package letters

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Sources is what the office's letters read (projections.Queries).
type Sources interface {
	LetterCandidates(ctx context.Context, uai string, f projections.LetterFilter, s domain.AlertSettings) ([]projections.LetterCandidate, error)
	Establishment(ctx context.Context, uai string) (*projections.EstablishmentEntry, error)
}

// Recorder records the letters sent and reads the establishment's
// half-day rule (commands.Handlers).
type Recorder interface {
	RecordLetter(ctx context.Context, req commands.Request, cmd domain.RecordLetter) (commands.Result, error)
	AlertSettings(ctx context.Context, uai string) (domain.AlertSettings, error)
}

// LetterMailer sends one letter to one legal guardian by e-mail; cmd/ledger
// implements it over adapters/notify/email.
type LetterMailer interface {
	MailLetter(ctx context.Context, guardian uuid.UUID, name string, t Text) error
}

// Office writes the school-life office's letters: it selects the students,
// builds their letters, renders or mails them and records each on the
// student's file (letter.sent.v1).
type Office struct {
	Writer   *Writer
	Sources  Sources
	Recorder Recorder
	// Mailer sends letters by e-mail; nil when no mail relay is set.
	Mailer LetterMailer
	// Now and Loc date the letters.
	Now func() time.Time
	Loc *time.Location
}

// Request is what the office asked for.
type Request struct {
	Establishment string
	Template      domain.LetterTemplate
	Filter        projections.LetterFilter
	// Students keeps these candidates only (none: every candidate).
	Students []uuid.UUID
	// Signatory signs the letters ("La conseillère principale
	// d'éducation").
	Signatory string
}

// Selection is the letters of a request and the candidates left out
// because the directory names no legal guardian for them.
type Selection struct {
	Letters    []Letter
	Candidates []projections.LetterCandidate
	// NoGuardian are the names of the students left out.
	NoGuardian []string
}

// Select builds the letters of a request, for a preview or to send.
func (o *Office) Select(ctx context.Context, r Request) (Selection, error) {
	var sel Selection
	if !r.Template.Valid() {
		return sel, domain.Errorf(domain.ErrInvalid, "template %q is not a letter template", r.Template)
	}
	f := r.Filter
	if f.From.IsZero() || f.To.IsZero() || f.To.Before(f.From) || f.To.Compare(f.From.AddDays(366)) > 0 {
		return sel, domain.Errorf(domain.ErrInvalid, "period: from a date to a later one, a year at most")
	}
	settings, err := o.Recorder.AlertSettings(ctx, r.Establishment)
	if err != nil {
		return sel, err
	}
	est, err := o.Sources.Establishment(ctx, r.Establishment)
	if err != nil {
		return sel, err
	}
	cands, err := o.Sources.LetterCandidates(ctx, r.Establishment, f, settings)
	if err != nil {
		return sel, err
	}
	keep := map[uuid.UUID]bool{}
	for _, s := range r.Students {
		keep[s] = true
	}
	today := domain.DateOf(o.Now().In(o.Loc))
	for _, c := range cands {
		if len(keep) > 0 && !keep[c.Student] {
			continue
		}
		if len(c.Guardians) == 0 {
			sel.NoGuardian = append(sel.NoGuardian, c.StudentName)
			continue
		}
		l := Letter{
			Template: r.Template, Establishment: est.Name, Signatory: r.Signatory, Date: today,
			Student: c.StudentName, Class: c.GroupName, From: f.From, To: f.To, HalfDays: c.HalfDays,
		}
		for _, g := range c.Guardians {
			l.Recipients = append(l.Recipients, g.DisplayName)
		}
		for _, a := range c.Absences {
			l.Absences = append(l.Absences, Absence{Date: a.Date, Slot: a.Slot, Subject: a.Subject})
		}
		sel.Letters = append(sel.Letters, l)
		sel.Candidates = append(sel.Candidates, c)
	}
	return sel, nil
}

// Print renders the letters of a request as one PDF, a page per family,
// records each letter (channel print) and writes the PDF to w. Nothing is
// written when a letter cannot be recorded. A request retried with the
// same idempotency key records nothing twice.
func (o *Office) Print(ctx context.Context, req commands.Request, r Request, w io.Writer) (Selection, error) {
	sel, err := o.Select(ctx, r)
	if err != nil {
		return sel, err
	}
	if len(sel.Letters) == 0 {
		return sel, domain.Errorf(domain.ErrInvalid, "no student to write about")
	}
	var pdf bytes.Buffer
	if err := o.Writer.Render(&pdf, sel.Letters); err != nil {
		return sel, err
	}
	for _, c := range sel.Candidates {
		if err := o.record(ctx, req, r, c, domain.LetterByPrint, guardians(c)); err != nil {
			return sel, err
		}
	}
	_, err = io.Copy(w, &pdf)
	return sel, err
}

// Mail sends each letter by e-mail to each legal guardian and records it
// with the guardians it reached. It returns how many letters went out.
func (o *Office) Mail(ctx context.Context, req commands.Request, r Request) (Selection, int, error) {
	if o.Mailer == nil {
		return Selection{}, 0, domain.Errorf(domain.ErrInvalid, "letters by e-mail: no mail relay is configured")
	}
	sel, err := o.Select(ctx, r)
	if err != nil {
		return sel, 0, err
	}
	sent := 0
	for i, c := range sel.Candidates {
		t, err := o.Writer.Text(sel.Letters[i])
		if err != nil {
			return sel, sent, err
		}
		var reached []uuid.UUID
		for _, g := range c.Guardians {
			if err := o.Mailer.MailLetter(ctx, g.Account, g.DisplayName, t); err != nil {
				return sel, sent, fmt.Errorf("letter about %s to %s: %w", c.Student, g.Account, err)
			}
			reached = append(reached, g.Account)
		}
		if err := o.record(ctx, req, r, c, domain.LetterByEmail, reached); err != nil {
			return sel, sent, err
		}
		sent++
	}
	return sel, sent, nil
}

func (o *Office) record(ctx context.Context, req commands.Request, r Request, c projections.LetterCandidate, ch domain.LetterChannel, to []uuid.UUID) error {
	cmd := domain.RecordLetter{Student: c.Student, Template: r.Template, Channel: ch, Recipients: to,
		From: r.Filter.From, To: r.Filter.To, HalfDays: c.HalfDays}
	// One letter per student of the request: a retried request (same
	// key) names the same letters.
	sub := req
	if req.IdempotencyKey != "" {
		cmd.Letter = domain.DeterministicID("letter", req.Actor.String(), req.IdempotencyKey, c.Student.String())
		sub.IdempotencyKey = ""
	}
	if _, err := o.Recorder.RecordLetter(ctx, sub, cmd); err != nil {
		return fmt.Errorf("letter about %s: %w", c.Student, err)
	}
	return nil
}

func guardians(c projections.LetterCandidate) []uuid.UUID {
	out := make([]uuid.UUID, len(c.Guardians))
	for i, g := range c.Guardians {
		out[i] = g.Account
	}
	return out
}
