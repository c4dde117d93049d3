package portal

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
)

// alertsWorld is the school with two open alerts: Léa's unjustified
// half-days in March, and a lesson of the teacher ended without a roll
// call.
func alertsWorld(t *testing.T) (*world, domain.RaiseAlert, domain.RaiseAlert) {
	t.Helper()
	w := newWorld(t)
	halfDays := domain.RaiseAlert{Establishment: w.UAI, Kind: domain.AlertHalfDays, Student: w.Accounts[asStudent],
		Group: w.Class, Period: "2006-03", Count: 4, Threshold: 4}
	rollCall := domain.RaiseAlert{Establishment: w.UAI, Kind: domain.AlertRollCallTeacher, Group: w.Class,
		Lesson: w.Lesson, Teacher: w.Accounts[asTeacher], Period: "2006-03-13", Slot: domain.Slot{Start: "10:00", End: "11:00"}}
	w.Must(w.H.RaiseAlert(w.Ctx, webtest.System(), halfDays))
	w.Must(w.H.RaiseAlert(w.Ctx, webtest.System(), rollCall))
	w.CatchUp()
	return w, halfDays, rollCall
}

func TestAlertsPage(t *testing.T) {
	w, halfDays, _ := alertsWorld(t)
	r := visit(t, w.srv, get("/office/alerts", asCPE))
	mustPage(t, r, http.StatusOK, "Alertes de la vie scolaire", "Alertes à traiter",
		"Demi-journées d&#39;absence non justifiées", "Léa", "4 demi-journées non justifiées en mars 2006",
		"Appel non fait (professeur)", "Cours du lundi 13 mars terminé sans appel",
		"Appel à la famille", "Courrier", "Convocation", "Signalement au DASEN",
		"Seuil : 4 demi-journées non justifiées par mois", `href="/office/alerts"`,
		"Aucune alerte traitée pour l&#39;instant.")
	frenchOnly(t, r.body)
	if strings.Contains(r.body, "6A <strong>6A</strong>") || strings.Contains(r.body, "· –") {
		t.Error("an alert shows both a student's and a lesson's line")
	}
	mustPage(t, visit(t, w.srv, get("/office/alerts", asHead)), http.StatusOK, "Alertes à traiter")
	for _, p := range []string{asTeacher, asRelative, asStudent} {
		mustPage(t, visit(t, w.srv, get("/office/alerts", p)), http.StatusForbidden)
	}

	path := "/office/alerts/" + halfDays.ID().String() + "/handling"
	// No action chosen: refused, the page says what to do, nothing
	// recorded.
	r = visit(t, w.srv, post(path, asCPE, url.Values{}))
	mustPage(t, r, http.StatusBadRequest, "Choisissez la suite donnée.")
	frenchOnly(t, r.body)
	// A forged action is refused in French.
	r = visit(t, w.srv, post(path, asCPE, url.Values{"action": {"shrug"}}))
	if r.status != http.StatusUnprocessableEntity && r.status != http.StatusBadRequest {
		t.Fatalf("forged action: status %d", r.status)
	}
	frenchOnly(t, r.body)
	// A teacher may not handle it.
	mustPage(t, visit(t, w.srv, post(path, asTeacher, url.Values{"action": {"family_call"}})), http.StatusForbidden)

	r = visit(t, w.srv, post(path, asCPE, url.Values{"action": {"family_call"}, fieldIdempotency: {"alert-form-1"}}))
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/office/alerts?ok=alert") {
		t.Fatalf("handling: %d %s", r.status, r.header.Get("Location"))
	}
	w.CatchUp()
	r = visit(t, w.srv, get("/office/alerts?ok=alert", asCPE))
	mustPage(t, r, http.StatusOK, "Suite donnée à l&#39;alerte enregistrée.", "Alertes traitées", "Appel à la famille", "M. CPE")
	// Handled twice: refused in words.
	r = visit(t, w.srv, post(path, asHead, url.Values{"action": {"letter"}}))
	mustPage(t, r, http.StatusConflict, "Cette alerte est déjà traitée.")
	frenchOnly(t, r.body)
}

func TestTeacherHomeShowsForgottenRollCalls(t *testing.T) {
	w, _, _ := alertsWorld(t)
	r := visit(t, w.srv, get("/", asTeacher))
	mustPage(t, r, http.StatusOK, "Appels oubliés", "lundi 13 mars", "10:00–11:00", "6A")
	r = visit(t, w.srv, get("/", asCPE))
	if strings.Contains(r.body, "Appels oubliés") {
		t.Fatal("the office's home shows the teacher's forgotten roll calls")
	}
}

// frenchOnly fails when a page shows an HTTP status, an id or an alert
// code in its text (attributes aside).
func frenchOnly(t *testing.T, body string) {
	t.Helper()
	text := tagsRe.ReplaceAllString(body, " ")
	for _, bad := range []string{"unjustified_half_days", "roll_call_teacher", "family_call", "alert-handled", " 409", " 422", " 403"} {
		if strings.Contains(text, bad) {
			t.Errorf("the page's text shows %q", bad)
		}
	}
	if uuidRe.MatchString(text) {
		t.Errorf("the page's text shows an id: %s", uuidRe.FindString(text))
	}
}

var (
	tagsRe = regexp.MustCompile(`(?s)<[^>]*>`)
	uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)
