package portal

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/schoollife/ledger/adapters/portal/i18n"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// problemSlugs reads every problem type the API can answer from the
// source that declares them: each newError call of the domain, each
// Error literal of the web layer with its own slug. Reading the source,
// rather than a list, leaves no problem out when one is added.
func problemSlugs(t *testing.T) []string {
	t.Helper()
	var slugs []string
	for _, dir := range []string{"../../domain", "../web"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "newError" && len(n.Args) == 3 {
						slugs = append(slugs, literal(t, n.Args[1]))
					}
				case *ast.CompositeLit:
					if id, ok := n.Type.(*ast.Ident); ok && id.Name == "Error" {
						for _, e := range n.Elts {
							if kv, ok := e.(*ast.KeyValueExpr); ok {
								if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "typ" {
									if _, ok := kv.Value.(*ast.BasicLit); ok {
										slugs = append(slugs, literal(t, kv.Value))
									}
								}
							}
						}
					}
				}
				return true
			})
		}
	}
	return slugs
}

func literal(t *testing.T, e ast.Expr) string {
	t.Helper()
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		t.Fatalf("a problem's slug is not a string literal: %#v", e)
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestProblemMessages: every problem type the API can answer has a
// message in French and in English for the person at the form.
func TestProblemMessages(t *testing.T) {
	slugs := problemSlugs(t)
	// The reader must find the domain's and the web layer's alike: a
	// parser that finds nothing would pass everything.
	for _, must := range []string{domain.ErrSanctionDays.Type, domain.ErrBookingClash.Type, domain.ErrUnavailable.Type,
		web.ErrCSRF.Type(), web.ErrMalformedJSON.Type(), web.ErrRequestTimeout.Type()} {
		found := false
		for _, s := range slugs {
			found = found || s == must
		}
		if !found {
			t.Fatalf("the source reader missed %s (found %d slugs)", must, len(slugs))
		}
	}
	for _, e := range web.ProblemTypes() {
		slugs = append(slugs, e.Type())
	}
	c, err := i18n.Load(portalFiles, "templates/i18n")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range c.Langs() {
		for _, slug := range slugs {
			if !lang.Has("problem." + slug) {
				t.Errorf("problem %s has no %s message (problem.%s)", slug, lang.Code, slug)
			}
		}
	}
}

// leaks are what a refused form's page must never show: an HTTP status,
// an id, a problem's slug, the English of an error's detail.
var leaks = regexp.MustCompile(`(?i)\b(400|403|404|409|422|500|503)\b|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}|overlaps|booking [0-9a-f]|temporary exclusion|is not a date|not allowed|may not read|sanction-days|booking-clash|invalid-input`)

// visibleText is a page's text, without its markup (attribute values hold
// ids: options, hidden fields, actions).
func visibleText(body string) string {
	body = regexp.MustCompile(`(?s)<head>.*?</head>`).ReplaceAllString(body, "")
	return regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " ")
}

// TestPortalRefusedForms: a refused form is its own page again, with the
// problem's status, a French message beside the field it concerns or on
// top, every value typed kept, and nothing of the error's developer text.
func TestPortalRefusedForms(t *testing.T) {
	w := newWorld(t)
	lea, lesson, class := w.Accounts[asStudent].String(), w.Lesson.String(), w.Class.String()
	rollcall := "/groups/" + class + "/rollcall/" + w.Entry.String() + "/2006-03-14"
	tests := []struct {
		name   string
		req    pageReq
		status int
		// form is the id of the form shown again; want are in the page.
		form string
		want []string
	}{
		{"booking clash", post("/bookings/"+w.Resource.String(), asTeacher, url.Values{
			"date": {"2006-03-20"}, "start": {"10:30"}, "end": {"11:30"}, "purpose": {"Conseil de classe"}, "repeat_until": {"2006-04-03"},
		}), http.StatusConflict, "booking", []string{
			"Ce créneau est déjà réservé par M. Prof le 20/03/2006 de 10:00 à 11:00", "Rien n&#39;a été enregistré",
			`name="date" value="2006-03-20"`, `name="start" value="10:30" list="b-starts" required> <span class="error field-error">Ce créneau est déjà réservé`, `name="end" value="11:30"`,
			`value="Conseil de classe"`, `name="repeat_until" value="2006-04-03"`,
		}},
		{"booking that ends before it starts", post("/bookings/"+w.Resource.String(), asTeacher, url.Values{
			"date": {"2006-03-21"}, "start": {"11:00"}, "end": {"10:00"}, "purpose": {"TP"},
		}), http.StatusBadRequest, "booking", []string{"L&#39;heure de fin doit suivre", `name="end" value="10:00"`, `value="TP"`}},
		{"sanction days out of range", post("/discipline/sanctions", asHead, url.Values{
			"student": {class + "|" + lea}, "kind": {"exclusion_temporaire_etablissement"}, "date": {"2006-03-14"}, "days": {"12"}, "reason": {"Violence"},
		}), http.StatusUnprocessableEntity, "sanction", []string{
			`name="days" min="1" max="8" value="12"`, `<span class="error field-error">Une exclusion temporaire dure de 1 à 8 jours`, `<option value="exclusion_temporaire_etablissement" selected>`,
			`<option value="` + class + `|` + lea + `" selected>`, ">Violence</textarea>",
		}},
		{"sanction without days", post("/discipline/sanctions", asHead, url.Values{
			"student": {class + "|" + lea}, "kind": {"exclusion_temporaire_classe"}, "date": {"2006-03-14"}, "days": {""}, "reason": {"Violence"},
		}), http.StatusUnprocessableEntity, "sanction", []string{`<span class="error field-error">Une exclusion temporaire dure de 1 à 8 jours`}},
		{"exclusion définitive without the council's sitting", post("/discipline/sanctions", asHead, url.Values{
			"student": {class + "|" + lea}, "kind": {"exclusion_definitive"}, "date": {"2006-03-14"}, "reason": {"Violence grave"},
			"council_date": {"2006-03-14"}, "council_present": {""}, "council_decision": {"unanimité"},
		}), http.StatusUnprocessableEntity, "sanction", []string{
			"Indiquez la séance du conseil de discipline", `name="council_decision" value="unanimité"`, `<option value="exclusion_definitive" selected>`,
		}},
		{"sursis revocable before the year's end", post("/discipline/sanctions", asHead, url.Values{
			"student": {class + "|" + lea}, "kind": {"mesure_de_responsabilisation"}, "date": {"2006-03-14"}, "reason": {"Dégradation"},
			"sursis": {"on"}, "sursis_until": {"2006-06-30"}, "hours": {"6"},
		}), http.StatusUnprocessableEntity, "sanction", []string{
			"Ce sursis n&#39;est pas possible", `name="sursis" value="on" checked`, `name="hours" min="1" max="20" value="6"`,
		}},
		{"punishment with a date that is not one", post("/discipline/punishments", asTeacher, url.Values{
			"student": {class + "|" + lea}, "kind": {"retenue"}, "date": {"2026-13-45"}, "reason": {"Bavardages\nrépétés"},
		}), http.StatusBadRequest, "punishment", []string{
			"Date invalide : utilisez le format jj/mm/aaaa", `type="text" id="p-date" name="date" value="2026-13-45"`,
			`<option value="retenue" selected>`, ">Bavardages\nrépétés</textarea>",
		}},
		{"punishment in a group the teacher may not read", post("/discipline/punishments", asTeacher, url.Values{
			"student": {w.OtherClass.String() + "|" + w.OtherStudent.String()}, "kind": {"devoir_supplementaire"}, "date": {"2006-03-14"}, "reason": {"Oubli"},
		}), http.StatusForbidden, "punishment", []string{"Vous ne pouvez pas choisir cet élève", `<option value="devoir_supplementaire" selected>`, ">Oubli</textarea>"}},
		{"incident without a place", post("/discipline/incidents", asCPE, url.Values{
			"occurred_at": {"2006-03-14T09:30"}, "place": {" "}, "seriousness": {"serious"}, "description": {"Bousculade"}, "witness": {w.Student2.String()},
		}), http.StatusBadRequest, "incident", []string{
			"Ce champ est obligatoire", `value="2006-03-14T09:30"`, `<option value="serious" selected>`, ">Bousculade</textarea>",
			`<option value="` + w.Student2.String() + `" selected>`,
		}},
		{"decision without a reason", post("/office/absences/"+lesson+"/"+lea+"/decision", asCPE, url.Values{
			"decision": {"accept"}, "accept_reason": {""}, "comment": {"Certificat reçu"},
		}), http.StatusBadRequest, "decide-" + lesson + "-" + lea, []string{"Choisissez un motif dans la liste", `value="Certificat reçu"`}},
		{"refusal with a justifying reason", post("/office/absences/"+lesson+"/"+lea+"/decision", asCPE, url.Values{
			"decision": {"refuse"}, "refuse_reason": {"maladie"}, "comment": {"Pas de certificat"},
		}), http.StatusUnprocessableEntity, "decide-" + lesson + "-" + lea, []string{"Un refus demande", `value="Pas de certificat"`}},
		{"roll call with minutes that are not a number", post(rollcall, asTeacher, url.Values{
			"s-" + w.Student2.String(): {"late"}, "m-" + w.Student2.String(): {"dix"},
		}), http.StatusBadRequest, "", []string{"Les minutes de retard de Hugo", `value="late" checked`, `value="dix"`}},
		{"message without a recipient", post("/messages", asTeacher, url.Values{"subject": {"Sortie"}, "body": {"Mardi 14h"}, "ack": {"1"}}),
			http.StatusBadRequest, "compose", []string{"Choisissez au moins un destinataire", `value="Sortie"`, ">Mardi 14h</textarea>", `value="1" checked`}},
		{"news without a title", post("/news", asCPE, url.Values{"title": {""}, "body": {"Menu de Noël"}, "audience": {"relative"}}),
			http.StatusBadRequest, "news", []string{"Ce champ est obligatoire", ">Menu de Noël</textarea>", `value="relative" checked`, "<details class=\"card\" open>"}},
		{"homework due before its lesson", post("/groups/"+class+"/homework", asTeacher, url.Values{
			"given": {"2006-03-14"}, "due": {"2006-03-10"}, "instructions": {"Relire le cours"}, "workload": {"45"},
		}), http.StatusUnprocessableEntity, "homework", []string{"La date à rendre précède la séance", `value="2006-03-10"`, ">Relire le cours</textarea>", `value="45"`}},
		{"lesson content with a French date", post("/groups/"+class+"/textbook/lessons", asTeacher, url.Values{
			"date": {"31/02/2006"}, "entry": {w.Entry.String()}, "content": {"Fractions"},
		}), http.StatusBadRequest, "content", []string{"Date invalide", `value="31/02/2006"`, ">Fractions</textarea>"}},
		{"reason too long", post("/students/"+lea+"/absences/"+lesson+"/reason", asRelative, url.Values{
			"reason": {strings.Repeat("é", 1001)}, "back": {"/students/" + lea},
		}), http.StatusBadRequest, "reason-" + lesson, []string{"Texte trop long : 1000 caractères au plus", strings.Repeat("é", 1001)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := w.fork(t)
			before := len(w.Records(store))
			r := visit(t, s, tt.req)
			mustPage(t, r, tt.status, tt.want...)
			if tt.form != "" && !strings.Contains(r.body, `id="`+tt.form+`"`) {
				t.Errorf("the page is not the form %s:\n%s", tt.form, r.body)
			}
			if !strings.Contains(r.body, `class="error`) {
				t.Errorf("no message on the form:\n%s", r.body)
			}
			if strings.Contains(r.body, "error-page") {
				t.Errorf("an error page, not the form:\n%s", r.body)
			}
			if m := leaks.FindString(visibleText(r.body)); m != "" {
				t.Errorf("the page shows %q:\n%s", m, visibleText(r.body))
			}
			if n := len(w.Records(store)); n != before {
				t.Fatalf("%d events recorded", n-before)
			}
		})
	}
}

// TestPortalSanctionDaysOnlyForExclusions: the days a form sends for
// another sanction than a temporary exclusion (a field the page hides)
// mean nothing and are not refused.
func TestPortalSanctionDaysOnlyForExclusions(t *testing.T) {
	w := newWorld(t)
	s, _ := w.fork(t)
	r := visit(t, s, post("/discipline/sanctions", asHead, url.Values{
		"student": {w.Class.String() + "|" + w.Accounts[asStudent].String()}, "kind": {"blame"}, "date": {"2006-03-14"}, "days": {"3"}, "reason": {"Récidive"},
	}))
	mustPage(t, r, http.StatusSeeOther)
	page := visit(t, w.srv, get("/discipline", asHead))
	mustPage(t, page, http.StatusOK, `class="sanction-days" data-sanction-part="days"`,
		`data-day-kinds="exclusion_temporaire_classe exclusion_temporaire_etablissement"`, `data-council-kind="exclusion_definitive"`,
		"sanction.js", "Nombre de jours", "Séance du conseil de discipline", "Avec sursis")
}

// TestPortalFreshForms: the decision form pre-selects no reason and
// offers two explicit actions; the booking form starts on a lesson slot.
func TestPortalFreshForms(t *testing.T) {
	w := newWorld(t)
	office := visit(t, w.srv, get("/", asCPE))
	mustPage(t, office, http.StatusOK, "Accepter le motif", "Refuser le motif", `<option value="">— Choisir un motif —</option>`)
	if strings.Contains(office.body, " selected>") {
		t.Errorf("a reason is pre-selected:\n%s", office.body)
	}
	cal := visit(t, w.srv, get("/bookings/"+w.Resource.String(), asTeacher))
	slot := w.LessonSlot
	mustPage(t, cal, http.StatusOK, `<option value="`+slot.Start+`">`, `<option value="`+slot.End+`">`)
	if strings.Contains(cal.body, `value="10:00"`) {
		t.Errorf("the booking form starts at 10:00, not on a lesson slot:\n%s", cal.body)
	}
}

// TestPortalCouncilSanction: the head records the disciplinary council's
// exclusion définitive, with a sursis, from the discipline page.
func TestPortalCouncilSanction(t *testing.T) {
	w := newWorld(t)
	s, store := w.fork(t)
	before := len(w.Records(store))
	r := visit(t, s, post("/discipline/sanctions", asHead, url.Values{
		"student": {w.Class.String() + "|" + w.Accounts[asStudent].String()}, "kind": {"exclusion_definitive"}, "date": {"2006-03-14"},
		"reason": {"Violence grave"}, "council_date": {"2006-03-14"}, "council_present": {"12"}, "council_decision": {"adoptée par 9 voix contre 3"},
		"annex": {"internat"}, "sursis": {"on"}, "sursis_until": {"2007-08-31"}, "days": {"4"}, "hours": {"3"},
	}))
	mustPage(t, r, http.StatusSeeOther)
	recs := w.Records(store)[before:]
	if len(recs) != 1 || recs[0].Type != "sanction.pronounced.v1" {
		t.Fatalf("recorded %v", recs)
	}
	var e domain.SanctionPronounced
	if err := json.Unmarshal(recs[0].Data, &e); err != nil {
		t.Fatal(err)
	}
	if e.Authority != domain.AuthorityCouncil || e.Council == nil || e.Council.Present != 12 || e.Annex != "internat" ||
		e.Sursis == nil || e.Sursis.Until != domain.MustDate("2007-08-31") || e.Days != 0 || e.Hours != 0 {
		t.Fatalf("recorded %+v (council %+v, sursis %+v)", e, e.Council, e.Sursis)
	}
}

// TestPortalDataExport: students and legal guardians find the export of
// their data on their home page; an administrator exports a person's data
// on request by the national identifier, and an identifier nobody has is
// said in French with what was typed kept.
func TestPortalDataExport(t *testing.T) {
	w := newWorld(t)
	student := w.Accounts[asStudent].String()
	mustPage(t, visit(t, w.srv, get("/", asStudent)), http.StatusOK,
		`href="/api/v1/accounts/`+student+`/export?format=html"`, `href="/api/v1/accounts/`+student+`/export?format=json" download`)
	mustPage(t, visit(t, w.srv, get("/", asRelative)), http.StatusOK, `href="/api/v1/accounts/`+student+`/export?format=html"`)

	someone := uuid.New()
	w.Must(w.H.OpenAccount(context.Background(), commands.Request{System: true}, domain.OpenAccount{
		Account: someone, Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: "Zoé", ExternalID: "4567123"}))
	w.CatchUp()
	mustPage(t, visit(t, w.srv, get("/", asAdmin)), http.StatusOK, `href="/privacy/export"`)
	mustPage(t, visit(t, w.srv, get("/privacy/export", asAdmin)), http.StatusOK, "Identifiant national de la personne")
	r := visit(t, w.srv, get("/privacy/export?id=4567123&format=json", asAdmin))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/api/v1/accounts/"+someone.String()+"/export?format=json" {
		t.Fatalf("export of a known person: %d, Location %q", r.status, r.header.Get("Location"))
	}
	mustPage(t, visit(t, w.srv, get("/privacy/export?id=999&format=json", asAdmin)), http.StatusNotFound,
		"Aucune personne de l&#39;annuaire n&#39;a cet identifiant", `value="999"`, `value="json" checked`)
	mustPage(t, visit(t, w.srv, get("/privacy/export?id=4567123", asTeacher)), http.StatusForbidden)
}

// TestPortalConsultations: the head reads who consulted which file, in
// words; nobody else does.
func TestPortalConsultations(t *testing.T) {
	w := newWorld(t)
	at := w.Clock().Add(-time.Hour)
	w.Must(w.H.RecordConsultations(context.Background(), commands.Request{System: true}, domain.RecordConsultations{
		Establishment: w.UAI, Consultations: []domain.Consultation{{Reader: w.Accounts[asTeacher], Profile: domain.ProfileTeacher,
			Student: w.Accounts[asStudent], What: domain.ConsultFile, First: at, Last: at, Count: 3}},
	}))
	w.CatchUp()
	mustPage(t, visit(t, w.srv, get("/", asHead)), http.StatusOK, `href="/consultations"`)
	mustPage(t, visit(t, w.srv, get("/consultations", asHead)), http.StatusOK,
		"Consultations des dossiers", "M. Prof", "Léa", "Dossier de vie scolaire", ">3</td>")
	mustPage(t, visit(t, w.srv, get("/consultations", asCPE)), http.StatusForbidden)
	mustPage(t, visit(t, w.srv, get("/consultations", asTeacher)), http.StatusForbidden)
	if r := visit(t, w.srv, get("/", asCPE)); strings.Contains(r.body, `href="/consultations"`) {
		t.Error("the CPE is offered the consultation trail")
	}
}
