package portal

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/portal/chart"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// The portal's handler tests run the pages over webtest's school
// (world_test.go): each profile signs in with the session cookie of its
// token, forms carry the session's CSRF token.

// page is one request to the portal.
type pageReq struct {
	method, path, profile string
	form                  url.Values
	lang                  string
	// noCSRF leaves the token out of a form; csrf replaces it.
	noCSRF bool
	csrf   string
}

// pageResp is what the portal answered.
type pageResp struct {
	status int
	header http.Header
	body   string
}

func (r pageResp) String() string { return r.body }

// get and post are the usual requests.
func get(path, profile string) pageReq { return pageReq{method: "GET", path: path, profile: profile} }
func post(path, profile string, form url.Values) pageReq {
	return pageReq{method: "POST", path: path, profile: profile, form: form}
}

// visit runs a request against the server's whole handler.
func visit(t *testing.T, s http.Handler, pr pageReq) pageResp {
	t.Helper()
	var body io.Reader
	if pr.method == "POST" {
		f := url.Values{}
		for k, v := range pr.form {
			f[k] = v
		}
		switch {
		case pr.csrf != "":
			f.Set(fieldCSRF, pr.csrf)
		case !pr.noCSRF && pr.profile != asAnonymous && pr.profile != "":
			f.Set(fieldCSRF, web.CSRFToken(tokenOf(pr.profile)))
		}
		body = strings.NewReader(f.Encode())
	}
	req := httptest.NewRequest(pr.method, pr.path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if pr.profile != "" && pr.profile != asAnonymous {
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: tokenOf(pr.profile)})
	}
	if pr.lang != "" {
		req.Header.Set("Accept-Language", pr.lang)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return pageResp{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

// mustPage checks a page's status and security headers, and that its body
// holds every want.
func mustPage(t *testing.T, r pageResp, status int, want ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d:\n%s", r.status, status, r.body)
	}
	for k, v := range map[string]string{
		"Content-Security-Policy": portalCSP,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if status < 300 || status >= 400 {
		if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
	}
	for _, w := range want {
		if !strings.Contains(r.body, w) {
			t.Errorf("the page does not hold %q:\n%s", w, r.body)
		}
	}
}

func TestPortalPages(t *testing.T) {
	w := newWorld(t)
	lea, class := w.Accounts[asStudent].String(), w.Class.String()
	rollcall := "/groups/" + class + "/rollcall/" + w.Entry.String() + "/2006-03-14"
	tests := []struct {
		name    string
		req     pageReq
		status  int
		want    []string
		exclude []string
	}{
		{"sign-in", get("/login", asAnonymous), 200, []string{`name="login"`, `name="password"`, `name="csrf"`}, nil},
		{"teacher home", get("/", asTeacher), 200, []string{"Cours du jour", "6A", "Mathématiques", "Appel fait", rollcall}, nil},
		{"teacher home another day", get("/?date=2006-03-13", asTeacher), 200, []string{"lundi 13 mars 2006", "Aucun cours"}, nil},
		{"roll call", get(rollcall, asTeacher), 200, []string{"Hugo", `name="s-` + w.Student2.String() + `"`, "Valider l&#39;appel", `name="idempotency_key"`, "rollcall.js"}, nil},
		{"roll call shows what is recorded", get(rollcall, asTeacher), 200, []string{"Appel déjà fait : 1 absent, 0 retard."}, []string{`name="s-` + lea + `"`}},
		{"roll call: staff", get(rollcall, asCPE), 200, []string{"Hugo"}, nil},
		{"roll call: not the student's", get(rollcall, asStudent), 403, []string{"pas accès"}, nil},
		{"roll call: no such lesson that day", get("/groups/"+class+"/rollcall/"+w.Entry.String()+"/2006-03-13", asTeacher), 400, nil, nil},
		{"textbook, teacher", get("/groups/"+class+"/textbook", asTeacher), 200, []string{"Exercices 1 à 4 page 52", "Donner un devoir", "Contenu de séance"}, nil},
		{"textbook, student", get("/groups/"+class+"/textbook", asStudent), 200, []string{"Exercices 1 à 4 page 52"}, []string{"Donner un devoir"}},
		{"textbook, other", get("/groups/"+w.OtherClass.String()+"/textbook", asTeacher), 403, nil, nil},
		{"parent home", get("/", asRelative), 200, []string{"Léa", "Absences à justifier", "Envoyer le motif", "data-live-feed", "live.js", "/api/v1/live", "Sortie au musée"}, nil},
		{"parent feed", get("/feed", asRelative), 200, []string{"data-live-feed", "Absence"}, nil},
		{"student home", get("/", asStudent), 200, []string{"Marquer comme fait", "Exercices 1 à 4 page 52"}, nil},
		{"student file, own", get("/students/"+lea, asStudent), 200, []string{"Avertissement", "Insolence", "Mme Principale"}, []string{"Envoyer le motif"}},
		{"student file, parent", get("/students/"+lea, asRelative), 200, []string{"Envoyer le motif"}, nil},
		{"student file, teacher", get("/students/"+lea, asTeacher), 200, []string{"Non justifiée"}, nil},
		{"student file, another family", get("/students/"+w.Student2.String(), asRelative), 403, nil, nil},
		{"student file, evaluator", get("/students/"+lea, asEvaluator), 403, nil, nil},
		{"office", get("/", asCPE), 200, []string{"Justificatifs en attente", "Léa", "Accepter", "Refuser", "Maladie", "Convenance personnelle"}, nil},
		{"office, head", get("/", asHead), 200, []string{"Justificatifs en attente"}, nil},
		{"discipline, teacher", get("/discipline", asTeacher), 200, []string{"Donner une punition", "Signaler un incident", "Retenue"}, []string{"Prononcer une sanction"}},
		{"discipline, head", get("/discipline", asHead), 200, []string{"Prononcer une sanction", "Blâme"}, nil},
		{"discipline, parent", get("/discipline", asRelative), 403, nil, nil},
		{"messages", get("/messages", asRelative), 200, []string{"Sortie au musée", "M. Prof", "Accusé de réception demandé"}, nil},
		{"message", get("/messages/"+w.Message.String(), asRelative), 200, []string{"Autorisation à signer.", "Accuser réception", "Marquer comme lu"}, nil},
		{"message, sender", get("/messages/"+w.Message.String(), asTeacher), 200, []string{"Destinataires", "Parent de Léa"}, nil},
		{"message, stranger", get("/messages/"+w.Message.String(), asCPE), 403, nil, nil},
		{"compose, parent", get("/messages/new", asRelative), 200, []string{"M. Prof (Mathématiques)"}, nil},
		{"compose, teacher", get("/messages/new", asTeacher), 200, []string{"Toute la classe 6A", "Parent de Léa (responsable de Léa)"}, nil},
		{"bookings", get("/bookings", asTeacher), 200, []string{"Salle 101"}, nil},
		{"calendar", get("/bookings/"+w.Resource.String()+"?week=2006-03-20", asTeacher), 200, []string{"Conseil pédagogique", "10:00–11:00", "Demander la réservation"}, nil},
		{"news", get("/news", asStudent), 200, []string{"Portes ouvertes"}, []string{"Publier une actualité"}},
		{"news, teacher", get("/news", asTeacher), 200, []string{"Publier une actualité"}, nil},
		{"inspector home", get("/", asInspector), 200, []string{"Collège Mistral", "6A", "Léa", "Salle 101", "/api/v1/establishments/0130001A/export"}, nil},
		{"audit timeline", get("/audit?subject="+lea, asInspector), 200, []string{"Absence", "M. Prof", "Sanction", "Mme Principale"}, []string{"RecordRollCall", "PronounceSanction"}},
		{"audit as of", get("/audit?subject="+lea+"&at=2006-03-13", asInspector), 200, []string{"Dossier de Léa au"}, nil},
		{"audit, other establishment", get("/audit?subject="+w.OtherStudent.String(), asInspector), 403, nil, nil},
		{"audit, not an inspector", get("/audit", asCPE), 403, nil, nil},
		{"evaluator home", get("/", asEvaluator), 200, []string{"/indicators/charts/connections.svg", "/indicators.csv?", "Connexions"}, []string{"Léa"}},
		{"indicators, staff", get("/indicators", asCPE), 403, nil, nil},
		{"guest home", get("/", asGuest), 200, []string{"Portes ouvertes"}, nil},
		{"admin home", get("/", asAdmin), 200, []string{"/indicators"}, nil},
		{"english", pageReq{method: "GET", path: "/", profile: asTeacher, lang: "en-GB,en;q=0.8,fr;q=0.5"}, 200, []string{`lang="en"`, "The day&#39;s lessons", "Roll call done"}, nil},
		{"unknown language: French", pageReq{method: "GET", path: "/", profile: asTeacher, lang: "de"}, 200, []string{`lang="fr"`}, nil},
		{"no page", get("/nothing", asTeacher), 404, []string{"Cette page n&#39;existe pas."}, nil},
		{"wrong method", pageReq{method: "DELETE", path: "/messages", profile: asTeacher}, 405, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := visit(t, w.srv, tt.req)
			mustPage(t, r, tt.status, tt.want...)
			for _, x := range tt.exclude {
				if strings.Contains(r.body, x) {
					t.Errorf("the page holds %q", x)
				}
			}
		})
	}
}

func TestPortalSignInRequired(t *testing.T) {
	w := newWorld(t)
	r := visit(t, w.srv, get("/messages?x=1", asAnonymous))
	mustPage(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/login?next="+url.QueryEscape("/messages?x=1") {
		t.Fatalf("Location %q", loc)
	}
	// A form posted without a session is refused, not redirected.
	r = visit(t, w.srv, post("/messages", asAnonymous, url.Values{"subject": {"x"}}))
	mustPage(t, r, http.StatusUnauthorized, "/login")
}

func TestPortalSignIn(t *testing.T) {
	w := newWorld(t)
	page := visit(t, w.srv, get("/login?next=/messages", asAnonymous))
	mustPage(t, page, http.StatusOK)
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: page.header}).Cookies() {
		if c.Name == loginCookie {
			cookie = c
		}
	}
	if cookie == nil || !strings.Contains(page.body, `value="`+cookie.Value+`"`) {
		t.Fatalf("no sign-in token in a cookie and the form: %v", cookie)
	}
	signIn := func(form url.Values, token string) pageResp {
		form.Set(fieldCSRF, token)
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		w.srv.ServeHTTP(rec, req)
		return pageResp{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
	}
	t.Run("good", func(t *testing.T) {
		r := signIn(url.Values{"login": {asTeacher}, "password": {webtest.Password}, "next": {"/messages"}}, cookie.Value)
		mustPage(t, r, http.StatusSeeOther)
		if r.header.Get("Location") != "/messages" || !strings.Contains(r.header.Get("Set-Cookie"), web.SessionCookie+"=") {
			t.Fatalf("Location %q, Set-Cookie %q", r.header.Get("Location"), r.header.Values("Set-Cookie"))
		}
	})
	t.Run("elsewhere", func(t *testing.T) {
		r := signIn(url.Values{"login": {asTeacher}, "password": {webtest.Password}, "next": {"//evil.example/"}}, cookie.Value)
		if r.header.Get("Location") != "/" {
			t.Fatalf("Location %q", r.header.Get("Location"))
		}
	})
	t.Run("bad password", func(t *testing.T) {
		mustPage(t, signIn(url.Values{"login": {asTeacher}, "password": {"nope"}}, cookie.Value), http.StatusUnauthorized, "Identifiant ou mot de passe incorrect.")
	})
	t.Run("no token", func(t *testing.T) {
		mustPage(t, signIn(url.Values{"login": {asTeacher}, "password": {webtest.Password}}, "forged"), http.StatusForbidden)
	})
}

func TestPortalSignOut(t *testing.T) {
	w := newWorld(t)
	s, _ := w.fork(t)
	r := visit(t, s, post("/logout", asTeacher, nil))
	mustPage(t, r, http.StatusSeeOther)
	if r := visit(t, s, get("/", asTeacher)); r.status != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", r.status)
	}
}

// TestPortalCSRF checks that every form refuses a missing or wrong token
// and records nothing.
func TestPortalCSRF(t *testing.T) {
	w := newWorld(t)
	forms := []pageReq{
		post("/groups/"+w.Class.String()+"/rollcall/"+w.Entry.String()+"/2006-03-14", asTeacher, url.Values{"s-" + w.Student2.String(): {"absent"}}),
		post("/students/"+w.Accounts[asStudent].String()+"/absences/"+w.Lesson.String()+"/reason", asRelative, url.Values{"reason": {"malade"}}),
		post("/office/absences/"+w.Lesson.String()+"/"+w.Accounts[asStudent].String()+"/decision", asCPE, url.Values{"decision": {"accept"}, "accept_reason": {"maladie"}}),
		post("/messages", asTeacher, url.Values{"to": {w.Accounts[asRelative].String()}, "subject": {"x"}, "body": {"y"}}),
		post("/homework/"+w.Homework.String()+"/done", asStudent, nil),
		post("/news", asTeacher, url.Values{"title": {"x"}, "body": {"y"}}),
		post("/logout", asTeacher, nil),
	}
	for _, f := range forms {
		for name, mod := range map[string]func(pageReq) pageReq{
			"missing": func(r pageReq) pageReq { r.noCSRF = true; return r },
			"wrong":   func(r pageReq) pageReq { r.csrf = web.CSRFToken("another session"); return r },
		} {
			t.Run(f.path+" "+name, func(t *testing.T) {
				s, store := w.fork(t)
				before := len(w.Records(store))
				r := visit(t, s, mod(f))
				mustPage(t, r, http.StatusForbidden, "Ce formulaire a expiré")
				if after := len(w.Records(store)); after != before {
					t.Fatalf("%d events recorded", after-before)
				}
			})
		}
	}
	t.Run("cross-site", func(t *testing.T) {
		s, _ := w.fork(t)
		req := httptest.NewRequest("POST", "/news", strings.NewReader("title=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: tokenOf(asTeacher)})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// TestPortalForms posts each form with its token and checks what it
// recorded and where it leads.
func TestPortalForms(t *testing.T) {
	w := newWorld(t)
	lea, lesson := w.Accounts[asStudent].String(), w.Lesson.String()
	tests := []struct {
		name   string
		req    pageReq
		target string
		types  []string
	}{
		{"roll call", post("/groups/"+w.Class.String()+"/rollcall/"+w.Entry.String()+"/2006-03-14", asTeacher,
			url.Values{"s-" + w.Student2.String(): {"late"}, "m-" + w.Student2.String(): {"7"}}),
			"/?date=2006-03-14&ok=rollcall", []string{"rollcall.completed.v1", "lateness.recorded.v1"}},
		{"reason", post("/students/"+lea+"/absences/"+lesson+"/reason", asRelative, url.Values{"reason": {"Rendez-vous"}, "back": {"/"}}),
			"/?ok=reason", []string{"absence.reason_declared.v1"}},
		{"decision", post("/office/absences/"+lesson+"/"+lea+"/decision", asCPE, url.Values{"decision": {"accept"}, "accept_reason": {"maladie"}, "refuse_reason": {"convenance"}}),
			"/?ok=accepted", []string{"absence.justification_accepted.v1"}},
		{"refusal", post("/office/absences/"+lesson+"/"+lea+"/decision", asCPE, url.Values{"decision": {"refuse"}, "accept_reason": {"maladie"}, "refuse_reason": {"convenance"}}),
			"/?ok=refused", []string{"absence.justification_refused.v1"}},
		{"lesson content", post("/groups/"+w.Class.String()+"/textbook/lessons", asTeacher, url.Values{"date": {"2006-03-14"}, "entry": {w.Entry.String()}, "content": {"Fractions"}}),
			"/groups/" + w.Class.String() + "/textbook?ok=content", []string{"lesson.content_recorded.v1"}},
		{"homework", post("/groups/"+w.Class.String()+"/homework", asTeacher, url.Values{"given": {"2006-03-14"}, "due": {"2006-03-17"}, "instructions": {"Relire"}, "workload": {"20"}}),
			"/groups/" + w.Class.String() + "/textbook?ok=homework", []string{"homework.assigned.v1"}},
		{"homework done", post("/homework/"+w.Homework.String()+"/done", asStudent, nil), "/?ok=homework_done", []string{"homework.done.v1"}},
		{"punishment", post("/discipline/punishments", asTeacher, url.Values{"student": {w.Class.String() + "|" + lea}, "kind": {"retenue"}, "date": {"2006-03-14"}, "reason": {"Bavardages"}}),
			"/discipline?ok=punishment", []string{"punishment.given.v1"}},
		{"incident", post("/discipline/incidents", asCPE, url.Values{"occurred_at": {"2006-03-14T09:30"}, "place": {"Cour"}, "seriousness": {"minor"}, "description": {"Bousculade"}, "author": {lea}, "witness": {w.Student2.String()}}),
			"/discipline?ok=incident", []string{"incident.reported.v1"}},
		{"sanction", post("/discipline/sanctions", asHead, url.Values{"student": {w.Class.String() + "|" + lea}, "kind": {"blame"}, "date": {"2006-03-14"}, "reason": {"Récidive"}}),
			"/discipline?ok=sanction", []string{"sanction.pronounced.v1"}},
		{"message", post("/messages", asRelative, url.Values{"to": {w.Accounts[asTeacher].String()}, "subject": {"Absence"}, "body": {"Bonjour"}}),
			"/messages?ok=sent", []string{"message.sent.v1"}},
		{"message to a group", post("/messages", asTeacher, url.Values{"to": {w.Class.String()}, "subject": {"Sortie"}, "body": {"Bonjour"}, "ack": {"1"}}),
			"/messages?ok=sent", []string{"message.sent.v1"}},
		{"acknowledge", post("/messages/"+w.Message.String()+"/ack", asRelative, nil), "/messages/" + w.Message.String() + "?ok=acknowledged", []string{"message.read.v1", "message.acknowledged.v1"}},
		{"booking", post("/bookings/"+w.Resource.String(), asTeacher, url.Values{"date": {"2006-03-21"}, "start": {"14:00"}, "end": {"15:00"}, "purpose": {"TP"}}),
			"/bookings/" + w.Resource.String() + "?ok=booked&week=2006-03-21", []string{"booking.requested.v1"}},
		{"news", post("/news", asCPE, url.Values{"title": {"Cantine"}, "body": {"Menu"}, "audience": {"relative"}}), "/news?ok=published", []string{"news.published.v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := w.fork(t)
			before := len(w.Records(store))
			if tt.req.form == nil {
				tt.req.form = url.Values{}
			}
			tt.req.form.Set(fieldIdempotency, "portal-"+uuid.NewString())
			r := visit(t, s, tt.req)
			mustPage(t, r, http.StatusSeeOther)
			if loc := r.header.Get("Location"); loc != tt.target {
				t.Errorf("Location %q, want %q", loc, tt.target)
			}
			recs := w.Records(store)[before:]
			var types []string
			for _, rec := range recs {
				types = append(types, rec.Type)
			}
			if strings.Join(types, ",") != strings.Join(tt.types, ",") {
				t.Fatalf("recorded %v, want %v", types, tt.types)
			}
			// The same form sent again (a double tap) records nothing more.
			again := visit(t, s, tt.req)
			mustPage(t, again, http.StatusSeeOther)
			if n := len(w.Records(store)); n != before+len(recs) {
				t.Fatalf("a second submit recorded %d more events", n-before-len(recs))
			}
			if !strings.Contains(again.header.Get("Location"), "ok=replayed") {
				t.Errorf("second submit: Location %q", again.header.Get("Location"))
			}
		})
	}
}

// TestPortalFormErrors checks that a form the command layer refuses shows
// the error with the API's status and records nothing.
func TestPortalFormErrors(t *testing.T) {
	w := newWorld(t)
	lea, lesson := w.Accounts[asStudent].String(), w.Lesson.String()
	tests := []struct {
		name   string
		req    pageReq
		status int
		want   string
	}{
		{"absent twice", post("/groups/"+w.Class.String()+"/rollcall/"+w.Entry.String()+"/2006-03-14", asTeacher,
			url.Values{"s-" + w.Student2.String(): {"late"}, "m-" + w.Student2.String(): {"many"}}), 400, "minutes"},
		{"no reason", post("/students/"+lea+"/absences/"+lesson+"/reason", asRelative, url.Values{"reason": {" "}}), 400, "incomplet"},
		{"not the parent", post("/students/"+lea+"/absences/"+lesson+"/reason", asTeacher, url.Values{"reason": {"x"}}), 403, "pas accès"},
		{"refusal with a justifying reason", post("/office/absences/"+lesson+"/"+lea+"/decision", asCPE, url.Values{"decision": {"refuse"}, "refuse_reason": {"maladie"}}), 422, "Un refus demande"},
		{"sanction by the CPE", post("/discipline/sanctions", asCPE, url.Values{"student": {w.Class.String() + "|" + lea}, "kind": {"blame"}, "date": {"2006-03-14"}, "reason": {"x"}}), 403, ""},
		{"booking clash", post("/bookings/"+w.Resource.String(), asTeacher, url.Values{"date": {"2006-03-20"}, "start": {"10:30"}, "end": {"11:30"}}), 409, "déjà réservé"},
		{"no recipient", post("/messages", asTeacher, url.Values{"subject": {"x"}, "body": {"y"}}), 400, "destinataire"},
		{"inspector writes", post("/news", asInspector, url.Values{"title": {"x"}, "body": {"y"}}), 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := w.fork(t)
			before := len(w.Records(store))
			r := visit(t, s, tt.req)
			mustPage(t, r, tt.status, tt.want)
			if n := len(w.Records(store)); n != before {
				t.Fatalf("%d events recorded", n-before)
			}
		})
	}
}

// TestPortalEscapesNames checks that a display name holding markup is
// shown as text on the pages that show names.
func TestPortalEscapesNames(t *testing.T) {
	w := newWorld(t)
	evil := "<script>alert('x')</script>"
	mallory := webtest.ID("mallory")
	w.Must(w.H.OpenAccount(w.Ctx, webtest.System(), domain.OpenAccount{Account: mallory, Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: evil}))
	w.Must(w.H.JoinGroup(w.Ctx, webtest.System(), domain.JoinGroup{Group: w.Class, Account: mallory, Role: domain.RoleStudent}))
	w.Must(w.H.RecordRollCall(w.Ctx, webtest.As(w.Accounts[asTeacher]), domain.RecordRollCall{
		Group: w.Class, Date: w.LessonDate, Slot: domain.Slot{Start: "09:00", End: "09:55"}, Subject: evil, Absent: []uuid.UUID{mallory},
	}))
	w.CatchUp()
	for _, pr := range []pageReq{
		get("/groups/"+w.Class.String()+"/rollcall/"+w.Entry.String()+"/2006-03-14", asTeacher),
		get("/", asCPE),
		get("/students/"+mallory.String(), asCPE),
		get("/messages/new", asTeacher),
		get("/discipline", asTeacher),
		get("/audit?subject="+mallory.String(), asInspector),
	} {
		t.Run(pr.path, func(t *testing.T) {
			r := visit(t, w.srv, pr)
			mustPage(t, r, http.StatusOK, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
			if strings.Contains(r.body, evil) {
				t.Fatalf("the name is not escaped:\n%s", r.body)
			}
		})
	}
}

// TestPortalIndicatorsCSV checks the evaluator's CSV in the tools' format
// against the API's rows for the same parameters.
func TestPortalIndicatorsCSV(t *testing.T) {
	w := newWorld(t)
	for _, q := range []string{
		"from=2005-09-01&to=2006-06-30&granularity=month",
		"from=2006-03-01&to=2006-03-31&granularity=day&establishment=" + w.UAI,
		"from=2006-03-14&to=2006-03-14&granularity=total",
	} {
		t.Run(q, func(t *testing.T) {
			r := visit(t, w.srv, get("/indicators.csv?"+q+"&format=rfc4180", asEvaluator))
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
				t.Fatalf("status %d, %q: %s", r.status, r.header.Get("Content-Type"), r.body)
			}
			got, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			api := visit(t, w.srv, get("/api/v1/indicators?"+q, asEvaluator))
			var rows []projections.IndicatorRow
			if err := json.Unmarshal([]byte(api.body), &rows); err != nil {
				t.Fatalf("decode %s: %v", api.body, err)
			}
			want := [][]string{projections.IndicatorHeader()}
			for _, row := range rows {
				want = append(want, row.Values())
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			if !bytes.Equal(gj, wj) {
				t.Fatalf("CSV\n%s\nAPI\n%s", gj, wj)
			}
			if len(want) < 2 {
				t.Fatalf("no rows")
			}
		})
	}
}

func TestPortalCharts(t *testing.T) {
	w := newWorld(t)
	for _, c := range chart.Names() {
		t.Run(c, func(t *testing.T) {
			r := visit(t, w.srv, get("/indicators/charts/"+c+".svg?from=2005-09-01&to=2006-06-30&granularity=month", asEvaluator))
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(r.body, "<svg") {
				t.Fatalf("status %d, %q: %.300s", r.status, r.header.Get("Content-Type"), r.body)
			}
			if r.header.Get("Content-Security-Policy") != chartCSP {
				t.Errorf("CSP %q", r.header.Get("Content-Security-Policy"))
			}
		})
	}
	if r := visit(t, w.srv, get("/indicators/charts/pie.svg", asEvaluator)); r.status != http.StatusNotFound {
		t.Fatalf("unknown chart: %d", r.status)
	}
	if r := visit(t, w.srv, get("/indicators/charts/connections.svg", asTeacher)); r.status != http.StatusForbidden {
		t.Fatalf("teacher: %d", r.status)
	}
}

func TestPortalStatic(t *testing.T) {
	w := newWorld(t)
	p := w.portal
	for name, ct := range map[string]string{"portal.css": "text/css; charset=utf-8", "live.js": "text/javascript; charset=utf-8", "rollcall.js": "text/javascript; charset=utf-8"} {
		u, err := p.assetURL(name)
		if err != nil {
			t.Fatal(err)
		}
		r := visit(t, w.srv, get(u, asAnonymous))
		if r.status != http.StatusOK || r.header.Get("Content-Type") != ct || !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
			t.Fatalf("%s: %d %q %q", u, r.status, r.header.Get("Content-Type"), r.header.Get("Cache-Control"))
		}
	}
	if r := visit(t, w.srv, get("/static/nothing.js", asAnonymous)); r.status != http.StatusNotFound {
		t.Fatalf("no file: %d", r.status)
	}
}

// TestPortalShowsLabels checks that pages show what the directory feeds
// give in words: a class's label rather than its code, a teacher's
// subject in words, a student's MEF, what a relative is to a student.
func TestPortalShowsLabels(t *testing.T) {
	w := newWorld(t)
	sys := webtest.System()
	student, relative := w.Accounts[asStudent], w.Accounts[asRelative]
	w.Must(w.H.LabelGroup(w.Ctx, sys, domain.LabelGroup{Group: w.Class, Label: "6EME A"}))
	w.Must(w.H.JoinGroup(w.Ctx, sys, domain.JoinGroup{Group: w.Class, Account: w.Accounts[asTeacher], Role: domain.RoleTeacher,
		Subject: "MATHEMATIQUES", SubjectCodes: []string{"061300"}}))
	w.Must(w.H.LinkRelative(w.Ctx, sys, domain.LinkRelative{Student: student, Relative: relative, LegalGuardian: true,
		Relation: domain.RelationMother, LegalRank: 1, Financial: true, Contact: true}))
	acc, err := w.Queries.Account(w.Ctx, student)
	if err != nil {
		t.Fatal(err)
	}
	w.Must(w.H.UpdateAccount(w.Ctx, sys, domain.UpdateAccount{Account: student, Establishment: acc.Establishment, DisplayName: acc.DisplayName,
		Details: &domain.AccountDetails{MEF: "10010012110", MEFLabel: "6EME"}}))
	w.CatchUp()
	words := "mère, représentant légal 1, responsable financier, personne à contacter"
	for _, tc := range []struct {
		pr   pageReq
		want []string
	}{
		{get("/", asRelative), []string{">6EME A</a>", " · 6EME", "Votre lien : " + words}},
		{get("/students/"+student.String(), asCPE), []string{">6EME A</a>", "· 6EME", "Responsables :", "(" + words + ")"}},
		{get("/", asTeacher), []string{">6EME A</a> · MATHEMATIQUES"}},
		{get("/", asStudent), []string{">6EME A</a>"}},
	} {
		t.Run(tc.pr.profile+tc.pr.path, func(t *testing.T) {
			r := visit(t, w.srv, tc.pr)
			mustPage(t, r, http.StatusOK, tc.want...)
			if strings.Contains(r.body, "061300") || strings.Contains(r.body, ">6A<") {
				t.Fatalf("a code reaches the page:\n%s", r.body)
			}
		})
	}
}
