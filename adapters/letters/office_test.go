package letters_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/letters"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// mailbox is a LetterMailer that keeps what it was given, as a relay
// would.
type mailbox struct {
	sent []string
	fail error
}

func (m *mailbox) MailLetter(_ context.Context, guardian uuid.UUID, name string, t letters.Text) error {
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, guardian.String()+" "+name+" "+t.Subject)
	return nil
}

func office(t *testing.T, w *webtest.World) (*letters.Office, *mailbox) {
	t.Helper()
	lw, err := letters.NewWriter(w.Clock)
	if err != nil {
		t.Fatal(err)
	}
	lw.Compress = false
	mb := &mailbox{}
	return &letters.Office{Writer: lw, Sources: w.Queries, Recorder: w.H, Mailer: mb, Now: w.Clock, Loc: webtest.Paris}, mb
}

func marchRequest(w *webtest.World) letters.Request {
	return letters.Request{
		Establishment: w.UAI, Template: domain.LetterUnjustifiedAbsences, Signatory: "Le conseiller principal d'éducation",
		Filter: projections.LetterFilter{From: domain.MustDate("2006-03-01"), To: domain.MustDate("2006-03-31"), Threshold: 1},
	}
}

func TestOfficePrintsAndRecordsLetters(t *testing.T) {
	w := webtest.NewWorld(t)
	o, _ := office(t, w)
	lea, parent := w.Accounts[webtest.AsStudent], w.Accounts[webtest.AsRelative]
	cpe := commands.Request{Actor: w.Accounts[webtest.AsCPE], IdempotencyKey: "letters-march"}

	sel, err := o.Select(w.Ctx, marchRequest(w))
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.Letters) != 1 || sel.Letters[0].Student != "Léa" || sel.Letters[0].Recipients[0] != "Parent de Léa" || sel.Letters[0].HalfDays != 1 {
		t.Fatalf("selection: %+v", sel.Letters)
	}
	var pdf bytes.Buffer
	if _, err := o.Print(w.Ctx, cpe, marchRequest(w), &pdf); err != nil {
		t.Fatal(err)
	}
	pages := pdfPages(t, pdf.Bytes())
	if len(pages) != 1 {
		t.Fatalf("%d pages, want 1", len(pages))
	}
	page := strings.ReplaceAll(pages[0], "\n", " ")
	for _, want := range []string{"Parent de Léa", "Objet : Absences non justifiées de Léa", "élève de la classe 6A",
		"mardi 14 mars 2006, 08:00–08:55, Mathématiques", "soit 1 demi-journée d'absence non justifiée"} {
		if !strings.Contains(page, want) {
			t.Errorf("the letter lacks %q:\n%s", want, page)
		}
	}
	// The same request again (a retried download) records nothing more.
	if _, err := o.Print(w.Ctx, cpe, marchRequest(w), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	recs, err := w.Store.ReadStream(w.Ctx, domain.LettersStream(lea), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d letters recorded, want 1", len(recs))
	}
	ev, err := w.Reg.Decode(recs[0].Type, recs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	sent := ev.(domain.LetterSent)
	if sent.Channel != domain.LetterByPrint || sent.Template != domain.LetterUnjustifiedAbsences || len(sent.Recipients) != 1 ||
		sent.Recipients[0] != parent || sent.HalfDays != 1 || recs[0].Metadata.Actor != cpe.Actor {
		t.Fatalf("recorded: %+v by %s", sent, recs[0].Metadata.Actor)
	}
	// The office sees the letter sent when it looks again.
	w.CatchUp()
	again, err := o.Select(w.Ctx, marchRequest(w))
	if err != nil {
		t.Fatal(err)
	}
	if l := again.Candidates[0].Letters; len(l) != 1 || l[0].Channel != domain.LetterByPrint || l[0].SentBy != cpe.Actor {
		t.Fatalf("letters sent: %+v", l)
	}
	// The event holds no letter text.
	if bytes.Contains(recs[0].Data, []byte("Madame")) || bytes.Contains(recs[0].Data, []byte("Mathématiques")) {
		t.Fatalf("the letter's text is in the log: %s", recs[0].Data)
	}

	// A teacher may not write to families: nothing is rendered or
	// recorded.
	var none bytes.Buffer
	if _, err := o.Print(w.Ctx, commands.Request{Actor: w.Accounts[webtest.AsTeacher]}, marchRequest(w), &none); !errors.Is(err, domain.ErrForbidden) || none.Len() != 0 {
		t.Fatalf("by a teacher: %v, %d bytes", err, none.Len())
	}
	// Nobody reaches a threshold of 3.
	r := marchRequest(w)
	r.Filter.Threshold = 3
	if _, err := o.Print(w.Ctx, cpe, r, &none); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("nobody selected: %v", err)
	}
}

func TestOfficeMailsLetters(t *testing.T) {
	w := webtest.NewWorld(t)
	o, mb := office(t, w)
	lea, parent := w.Accounts[webtest.AsStudent], w.Accounts[webtest.AsRelative]
	cpe := commands.Request{Actor: w.Accounts[webtest.AsCPE]}
	r := marchRequest(w)
	r.Template = domain.LetterMeeting

	mb.fail = errors.New("relay down")
	if _, _, err := o.Mail(w.Ctx, cpe, r); err == nil {
		t.Fatal("a failed delivery was not reported")
	}
	if recs, _ := w.Store.ReadStream(w.Ctx, domain.LettersStream(lea), 0); len(recs) != 0 {
		t.Fatal("a letter that did not go was recorded")
	}
	mb.fail = nil
	_, n, err := o.Mail(w.Ctx, cpe, r)
	if err != nil || n != 1 {
		t.Fatalf("mail: %d, %v", n, err)
	}
	if len(mb.sent) != 1 || mb.sent[0] != parent.String()+" Parent de Léa Assiduité de Léa : demande de rendez-vous" {
		t.Fatalf("mailed: %v", mb.sent)
	}
	recs, err := w.Store.ReadStream(w.Ctx, domain.LettersStream(lea), 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recorded: %d %v", len(recs), err)
	}
	ev, _ := w.Reg.Decode(recs[0].Type, recs[0].Data)
	if s := ev.(domain.LetterSent); s.Channel != domain.LetterByEmail || s.Template != domain.LetterMeeting {
		t.Fatalf("recorded: %+v", s)
	}
}
