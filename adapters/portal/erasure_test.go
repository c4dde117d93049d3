package portal

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// TestPortalErasure: an administrator finds a person by name, reads what
// the erasure does, must confirm it, keeps what was typed when it is
// refused, then follows it to its end; a second erasure is refused in
// words; nobody else opens the page.
func TestPortalErasure(t *testing.T) {
	w := newWorld(t)
	zoe := uuid.New()
	w.Must(w.H.OpenAccount(context.Background(), commands.Request{System: true}, domain.OpenAccount{
		Account: zoe, Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: "Zoé Martin", ExternalID: "4567123"}))
	w.CatchUp()

	mustPage(t, visit(t, w.srv, get("/", asAdmin)), http.StatusOK, `href="/privacy/erase"`)
	mustPage(t, visit(t, w.srv, get("/privacy/erase", asAdmin)), http.StatusOK,
		"Nom ou identifiant national", "Effacements récents", "Aucun effacement pour l&#39;instant.")
	// By name, without its accent or its case; by national identifier.
	for _, q := range []string{"zoe", "ZOÉ mar", "4567123"} {
		mustPage(t, visit(t, w.srv, get("/privacy/erase?q="+url.QueryEscape(q), asAdmin)), http.StatusOK,
			"Personnes trouvées", `href="/privacy/erase?account=`+zoe.String()+`"`, "Zoé Martin")
	}
	mustPage(t, visit(t, w.srv, get("/privacy/erase?q=personne", asAdmin)), http.StatusOK, "Vérifiez l&#39;orthographe")
	page := "/privacy/erase?account=" + zoe.String()
	mustPage(t, visit(t, w.srv, get(page, asAdmin)), http.StatusOK,
		"Effacer les données de Zoé Martin", "Ce qui va se passer", "[donnée effacée]", "C&#39;est définitif",
		`name="reason"`, `name="basis"`, `value="RGPD art. 17"`, `name="confirm"`, "tapez le nom de la personne ou EFFACER")

	form := func(reason, confirm string) url.Values {
		return url.Values{"account": {zoe.String()}, "reason": {reason}, "basis": {"délai de conservation échu"}, "confirm": {confirm},
			fieldIdempotency: {"portal-" + uuid.NewString()}}
	}
	// No confirmation, or a wrong one: refused, what was typed kept.
	for _, confirm := range []string{"", "Zoé Dupont", "effacer"} {
		r := visit(t, w.srv, post("/privacy/erase", asAdmin, form("demande de la famille du 3 décembre", confirm)))
		mustPage(t, r, http.StatusBadRequest, "Tapez le nom de la personne tel qu&#39;il est écrit plus haut, ou EFFACER",
			"demande de la famille du 3 décembre", `value="délai de conservation échu"`, `value="`+confirm+`"`)
		if leak := leaks.FindString(visibleText(r.body)); leak != "" {
			t.Errorf("the refused form shows %q", leak)
		}
	}
	// No reason: refused, the confirmation typed kept.
	mustPage(t, visit(t, w.srv, post("/privacy/erase", asAdmin, form("", "zoé  martin"))), http.StatusBadRequest,
		`value="zoé  martin"`, `value="délai de conservation échu"`)
	// A reason the log refuses (a control character).
	mustPage(t, visit(t, w.srv, post("/privacy/erase", asAdmin, form("demande\x07", "EFFACER"))), http.StatusBadRequest,
		`value="EFFACER"`)
	if erased(t, w) {
		t.Fatal("a refused form erased the person")
	}

	// Confirmed by the person's name, case and spaces aside.
	r := visit(t, w.srv, post("/privacy/erase", asAdmin, form("demande de la famille du 3 décembre", " zoé  MARTIN ")))
	status := "/privacy/erasures/" + zoe.String()
	if r.status != http.StatusSeeOther || r.header.Get("Location") != status+"?ok=erasure" {
		t.Fatalf("erasure: %d, Location %q:\n%s", r.status, r.header.Get("Location"), r.body)
	}
	if !erased(t, w) {
		t.Fatal("the erasure is not recorded")
	}
	// The page follows the scrub, refreshing itself, until it is done.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = visit(t, w.srv, get(status, asAdmin))
		if strings.Contains(r.body, "Effacement terminé") {
			break
		}
		mustPage(t, r, http.StatusOK, `http-equiv="refresh"`)
		if time.Now().After(deadline) {
			t.Fatalf("the erasure never ended:\n%s", r.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mustPage(t, r, http.StatusOK, "Plus aucune donnée de cette personne", "délai de conservation échu", "demande de la famille du 3 décembre",
		"Terminé le")
	if strings.Contains(r.body, `http-equiv="refresh"`) {
		t.Error("a finished erasure's page still refreshes itself")
	}
	if text := visibleText(r.body); strings.Contains(text, zoe.String()) {
		t.Errorf("the page shows the person's id: %s", text)
	}
	mustPage(t, visit(t, w.srv, get("/privacy/erase", asAdmin)), http.StatusOK, "Effacement terminé", "Zoé Martin", `href="`+status+`"`)
	mustPage(t, visit(t, w.srv, get(page, asAdmin)), http.StatusOK, "Effacement terminé", "Suivre l&#39;effacement")

	// A second erasure is refused in words, the form kept.
	r = visit(t, w.srv, post("/privacy/erase", asAdmin, form("seconde demande", "EFFACER")))
	mustPage(t, r, http.StatusConflict, "Les données de cette personne ont déjà été effacées.", "seconde demande")
	if leak := leaks.FindString(visibleText(r.body)); leak != "" {
		t.Errorf("the refused erasure shows %q", leak)
	}

	for _, p := range []string{asHead, asCPE, asTeacher, asInspector} {
		mustPage(t, visit(t, w.srv, get("/privacy/erase", p)), http.StatusForbidden)
		mustPage(t, visit(t, w.srv, get(status, p)), http.StatusForbidden)
	}
	if r := visit(t, w.srv, post("/privacy/erase", asHead, form("demande", "EFFACER"))); r.status != http.StatusForbidden {
		t.Errorf("the head erased: %d", r.status)
	}
}

// erased reports whether the world's log records Zoé's erasure.
func erased(t *testing.T, w *world) bool {
	t.Helper()
	for _, r := range w.Records(w.Store) {
		if r.Type == (domain.SubjectErased{}).EventType() {
			return true
		}
	}
	return false
}
