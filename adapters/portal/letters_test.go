package portal

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/letters"
	"github.com/schoollife/ledger/domain"
)

// letterBox is a LetterMailer that keeps what a relay would have sent.
type letterBox struct {
	mu   sync.Mutex
	sent []string
}

func (b *letterBox) MailLetter(_ context.Context, guardian uuid.UUID, name string, t letters.Text) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, name+": "+t.Subject)
	return nil
}

func TestLettersPage(t *testing.T) {
	w := newWorld(t)
	lea := w.Accounts[asStudent].String()
	// The choice, without a period yet.
	r := visit(t, w.srv, get("/office/letters", asCPE))
	mustPage(t, r, http.StatusOK, "Courriers aux familles", "Afficher les élèves", "Absences non justifiées", `href="/office/letters"`)
	frenchOnly(t, r.body)
	for _, p := range []string{asTeacher, asRelative, asStudent} {
		mustPage(t, visit(t, w.srv, get("/office/letters", p)), http.StatusForbidden)
	}
	// March, one half-day: Léa, the letter to her parent, in French.
	march := "/office/letters?from=2006-03-01&to=2006-03-31&threshold=1&template=unjustified_absences"
	r = visit(t, w.srv, get(march, asCPE))
	mustPage(t, r, http.StatusOK, "Élèves concernés", "Léa", "1 demi-journée non justifiée", "Parent de Léa",
		"Objet : Absences non justifiées de Léa", "mardi 14 mars 2006, 08:00–08:55, Mathématiques",
		"Télécharger les courriers (PDF)", "Envoyer par courriel", `value="`+lea+`"`)
	frenchOnly(t, r.body)
	// A period backwards is said in words.
	r = visit(t, w.srv, get("/office/letters?from=2006-03-31&to=2006-03-01&threshold=1", asCPE))
	mustPage(t, r, http.StatusOK, "Vérifiez la période")
	frenchOnly(t, r.body)

	form := url.Values{"from": {"2006-03-01"}, "to": {"2006-03-31"}, "threshold": {"1"}, "template": {"unjustified_absences"}}
	// No student ticked: refused, the choice kept.
	r = visit(t, w.srv, post("/office/letters/pdf", asCPE, form))
	mustPage(t, r, http.StatusBadRequest, "Cochez au moins un élève.", `value="2006-03-01"`)
	frenchOnly(t, r.body)

	s, store := w.fork(t)
	form.Set("student", lea)
	form.Set(fieldIdempotency, "letters-1")
	r = visit(t, s, post("/office/letters/pdf", asCPE, form))
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(r.body, "%PDF-") ||
		!strings.Contains(r.header.Get("Content-Disposition"), "courriers-2006-03-01-2006-03-31.pdf") {
		t.Fatalf("download: %d %s %q", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
	}
	recs, err := store.ReadStream(w.Ctx, domain.LettersStream(w.Accounts[asStudent]), 0)
	if err != nil || len(recs) != 1 || recs[0].Type != "letter.sent.v1" {
		t.Fatalf("recorded: %v %v", recs, err)
	}

	// By e-mail: the parent gets it, the page says so.
	form.Set(fieldIdempotency, "letters-2")
	r = visit(t, s, post("/office/letters/email", asCPE, form))
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "ok=letters_mailed") {
		t.Fatalf("e-mail: %d %s", r.status, r.header.Get("Location"))
	}
	if len(w.mailed.sent) != 1 || w.mailed.sent[0] != "Parent de Léa: Absences non justifiées de Léa" {
		t.Fatalf("mailed: %v", w.mailed.sent)
	}
	if recs, _ = store.ReadStream(w.Ctx, domain.LettersStream(w.Accounts[asStudent]), 0); len(recs) != 2 {
		t.Fatalf("%d letters recorded, want 2", len(recs))
	}
}
