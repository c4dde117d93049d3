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

// TestServicesPage: an administrator lists, registers and removes the
// establishment's connected services, in French; nobody else opens the
// page; a refused pattern keeps what was typed and records nothing.
func TestServicesPage(t *testing.T) {
	w := newWorld(t)
	w.Must(w.H.RegisterService(w.Ctx, webtest.System(), domain.RegisterService{
		Establishment: w.UAI, Name: "Pronote", Kind: domain.ServiceCAS,
		URLs: []string{"https://pronote.example.fr/cas/*"}, Attributes: []string{domain.AttrLogin}, SingleLogout: true,
	}))
	w.CatchUp()

	mustPage(t, visit(t, w.srv, get("/", asAdmin)), http.StatusOK, `href="/services"`)
	mustPage(t, visit(t, w.srv, get("/services", asAdmin)), http.StatusOK, "Établissement (code UAI)")
	mustPage(t, visit(t, w.srv, get("/services?uai="+w.UAI, asAdmin)), http.StatusOK,
		"Services connectés", "Pronote", "https://pronote.example.fr/cas/*", "déconnexion unique", "Enregistrer un service", "Retirer ce service")
	for _, p := range []string{asTeacher, asHead, asStudent, asInspector} {
		mustPage(t, visit(t, w.srv, get("/services", p)), http.StatusForbidden)
	}

	t.Run("register", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.Records(store))
		r := visit(t, s, post("/services", asAdmin, url.Values{
			"establishment": {w.UAI}, "name": {"Moodle"}, "urls": {"https://moodle.example.fr/*\r\nhttps://moodle.example.fr/login/index.php"},
			"attributes": {domain.AttrDisplayName, domain.AttrClasses}, "single_logout": {"on"},
		}))
		mustPage(t, r, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/services?ok=service_registered&uai="+w.UAI {
			t.Fatalf("to %s", loc)
		}
		recs := w.Records(store)[before:]
		if len(recs) != 1 || recs[0].Type != "service.registered.v1" {
			t.Fatalf("recorded %v", recs)
		}
		e, err := w.Reg.DecodeRecord(recs[0])
		if err != nil {
			t.Fatal(err)
		}
		got := e.(domain.ServiceRegistered)
		if got.Name != "Moodle" || len(got.URLs) != 2 || !got.SingleLogout || len(got.Attributes) != 2 {
			t.Fatalf("registered %+v", got)
		}
	})

	t.Run("OpenID Connect client", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.Records(store))
		form := url.Values{
			"establishment": {w.UAI}, "name": {"GRR"}, "kind": {"oidc"}, "urls": {"https://grr.example.fr/oidc/callback"},
			"post_logout_uris": {"https://grr.example.fr/"}, "attributes": {domain.AttrDisplayName}, "single_logout": {"on"}, "idempotency_key": {"portal-grr-1"},
		}
		r := visit(t, s, post("/services", asAdmin, form))
		// The secret is on this page, once: no redirect carries it.
		mustPage(t, r, http.StatusOK, "Client OpenID Connect enregistré", "Identifiant du client", "Secret du client",
			"il ne sera plus jamais affiché")
		m := regexp.MustCompile(`<code id="client-secret">([^<]+)</code>`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("no secret shown:\n%s", r.body)
		}
		recs := w.Records(store)[before:]
		if len(recs) != 1 || recs[0].Type != "service.registered.v1" {
			t.Fatalf("recorded %v", recs)
		}
		e, err := w.Reg.DecodeRecord(recs[0])
		if err != nil {
			t.Fatal(err)
		}
		got := e.(domain.ServiceRegistered)
		if got.Kind != domain.ServiceOIDC || got.SecretHash != domain.HashClientSecret(m[1]) || !strings.Contains(r.body, got.ClientID) {
			t.Fatalf("registered %+v", got)
		}
		if strings.Contains(string(recs[0].Data), m[1]) {
			t.Fatal("the secret is in the log")
		}
		// Sent again (the same form key): nothing more recorded, the
		// secret not shown again, and the page says why.
		again := visit(t, s, post("/services", asAdmin, form))
		mustPage(t, again, http.StatusOK, "Ce formulaire avait déjà été envoyé")
		if strings.Contains(again.body, m[1]) || strings.Contains(again.body, `id="client-secret"`) {
			t.Fatal("the secret was shown twice")
		}
		if n := len(w.Records(store)) - before; n != 1 {
			t.Fatalf("the second sending recorded %d events", n-1)
		}
		// A prefix is refused for a client, what was typed kept.
		bad := visit(t, s, post("/services", asAdmin, url.Values{"establishment": {w.UAI}, "name": {"Manuels"}, "kind": {"oidc"}, "urls": {"https://manuels.example.fr/*"}}))
		mustPage(t, bad, http.StatusBadRequest, `value="Manuels"`, `id="kind-oidc" name="kind" value="oidc" checked`)
	})

	t.Run("unsafe pattern refused", func(t *testing.T) {
		for _, bad := range []string{"https://*", "https://moodle.example.fr*", "http://moodle.example.fr/", "javascript:alert(1)"} {
			s, store := w.fork(t)
			before := len(w.Records(store))
			r := visit(t, s, post("/services", asAdmin, url.Values{"establishment": {w.UAI}, "name": {"Moodle du collège"}, "urls": {bad}}))
			mustPage(t, r, http.StatusBadRequest, "Cette adresse de service est refusée", `value="Moodle du collège"`)
			if strings.Contains(r.body, "unsafe-service-url") {
				t.Errorf("%s: the page shows a code", bad)
			}
			if after := len(w.Records(store)); after != before {
				t.Fatalf("%s: %d events recorded", bad, after-before)
			}
		}
	})

	t.Run("remove", func(t *testing.T) {
		list, err := w.Queries.Services(w.Ctx, w.UAI)
		if err != nil || len(list) != 1 {
			t.Fatalf("%v %v", list, err)
		}
		s, store := w.fork(t)
		before := len(w.Records(store))
		r := visit(t, s, post("/services/"+list[0].ID.String()+"/removal", asAdmin, url.Values{"establishment": {w.UAI}}))
		mustPage(t, r, http.StatusSeeOther)
		recs := w.Records(store)[before:]
		if len(recs) != 1 || recs[0].Type != "service.unregistered.v1" {
			t.Fatalf("recorded %v", recs)
		}
	})
}
