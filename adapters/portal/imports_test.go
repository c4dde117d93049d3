package portal

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// visitUpload posts a multipart form to the portal as profile, with the
// session's CSRF token unless csrf says otherwise ("-": none).
func visitUpload(t *testing.T, s http.Handler, path, profile, csrf string, fields map[string]string, paths ...string) pageResp {
	t.Helper()
	f := map[string]string{}
	for k, v := range fields {
		f[k] = v
	}
	switch csrf {
	case "":
		f[fieldCSRF] = web.CSRFToken(tokenOf(profile))
	case "-":
	default:
		f[fieldCSRF] = csrf
	}
	body := webtest.UploadOf(t, f, paths)
	req := httptest.NewRequest("POST", path, bytes.NewReader(body.Data))
	req.Header.Set("Content-Type", body.ContentType)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: tokenOf(profile)})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return pageResp{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

// importFork returns the portal over a copy of the world's log whose
// import jobs are configured by edit, and the copy of the log.
func (w *world) importFork(t *testing.T, edit func(*directoryimport.JobsConfig)) (http.Handler, *memory.Store) {
	t.Helper()
	h, auth, store := w.Fork(t)
	return w.portalWith(t, h, auth, store, w.ImportJobs(h, store, edit)), store
}

// portalWith returns the portal over h, auth and store whose imports run
// as jobs.
func (w *world) portalWith(t *testing.T, h *commands.Handlers, auth *webtest.FakeAuth, store *memory.Store, jobs web.ImportJobs) http.Handler {
	t.Helper()
	d := w.Deps(h, auth, store)
	imports, err := web.NewImports(web.ImportsConfig{Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{
		Commands: h, Queries: w.Queries, Sessions: d.Sessions, Imports: imports, Now: w.Clock, Location: webtest.Paris,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.Handler()
}

// oneJob is import jobs that know one job, for the states a real import
// does not stay in long enough to be looked at.
type oneJob struct {
	job      directoryimport.Job
	startErr error
}

func (o *oneJob) Start(_ context.Context, req directoryimport.StartJob) (*directoryimport.Job, bool, error) {
	_ = os.RemoveAll(req.Dir) // the job owns the files
	if o.startErr != nil {
		return nil, false, o.startErr
	}
	return &o.job, false, nil
}

func (o *oneJob) Status(_ context.Context, viewer domain.Actor, id uuid.UUID) (*directoryimport.Job, error) {
	if id != o.job.ID {
		return nil, domain.Errorf(domain.ErrNotFound, "no import %s", id)
	}
	if !o.job.ReadableBy(viewer) {
		return nil, domain.Errorf(domain.ErrForbidden, "may not read import %s", id)
	}
	return &o.job, nil
}

var (
	tags   = regexp.MustCompile(`(?s)<[^>]*>`)
	aUUID  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	stateW = regexp.MustCompile(`\b(queued|running|done|refused|failed|dry_run|parse|load|apply|forbidden|invalid)\b|imports\.|flash\.`)
)

// mustSpeakPlainly fails when a page's text (not its markup) shows an id,
// a state, phase or error code, or a message key.
func mustSpeakPlainly(t *testing.T, r pageResp, english ...string) {
	t.Helper()
	main := r.body
	if i := strings.Index(main, "<main"); i >= 0 {
		main = main[i:]
	}
	text := tags.ReplaceAllString(main, " ")
	if id := aUUID.FindString(text); id != "" {
		t.Errorf("the page shows the id %s:\n%s", id, text)
	}
	if code := stateW.FindString(text); code != "" {
		t.Errorf("the page shows %q:\n%s", code, text)
	}
	for _, s := range english {
		if strings.Contains(text, s) {
			t.Errorf("the page shows the developer message %q", s)
		}
	}
}

const refresh = `<meta http-equiv="refresh" content="2">`

func TestPortalImport(t *testing.T) {
	w := newWorld(t)
	mustPage(t, visit(t, w.srv, get("/", asAdmin)), http.StatusOK, `href="/imports"`)
	mustPage(t, visit(t, w.srv, get("/imports", asAdmin)), http.StatusOK,
		`enctype="multipart/form-data"`, `name="file"`, `name="csrf"`, `name="idempotency_key"`, `name="dry_run" value="true" checked`, `value="csv"`, "Importer un annuaire",
		`<select id="i-encoding" name="encoding"><option value="">UTF-8 (par défaut)</option><option value="ISO-8859-15">`, `name="force" value="true">`, "Forcer l&#39;import")
	mustPage(t, visit(t, w.srv, pageReq{method: "GET", path: "/imports", profile: asAdmin, lang: "en"}), http.StatusOK, "Import a directory feed")
	for _, p := range []string{asTeacher, asCPE, asInspector} {
		mustPage(t, visit(t, w.srv, get("/imports", p)), http.StatusForbidden)
	}

	t.Run("upload, progress, then the report", func(t *testing.T) {
		t.Parallel()
		gate := webtest.NewGate()
		s, store := w.importFork(t, func(c *directoryimport.JobsConfig) { c.Locker, c.LockRetry = gate, webtest.GateRetry })
		before := len(w.Records(store))
		r := visitUpload(t, s, "/imports", asAdmin, "", map[string]string{"format": "aaf", fieldIdempotency: "portal-" + uuid.NewString()}, "aaf/full")
		mustPage(t, r, http.StatusSeeOther)
		loc := r.header.Get("Location")
		if !strings.HasPrefix(loc, "/imports/") || !strings.HasSuffix(loc, "?ok=import_started") {
			t.Fatalf("redirect to %q", loc)
		}
		id := uuid.MustParse(strings.TrimSuffix(strings.TrimPrefix(loc, "/imports/"), "?ok=import_started"))

		// It waits its turn: the page says so and refreshes itself.
		r = visit(t, s, get(loc, asAdmin))
		mustPage(t, r, http.StatusOK, refresh, "Import lancé.", "Import en attente", "Un autre import est en cours", "ENT_Complet_20240902_Eleve_0000.xml",
			"Fichiers lus", `<progress max="100" value="0.0"`, "Cette page se met à jour toute seule")
		mustSpeakPlainly(t, r)
		mustPage(t, visit(t, s, pageReq{method: "GET", path: loc, profile: asAdmin, lang: "en"}), http.StatusOK, refresh, "Import waiting", "Files read")
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("a queued import appended %d events", n)
		}

		gate.Open()
		webtest.MustEventually(t, "the job's page shows the report", func() bool {
			r = visit(t, s, get(loc, asAdmin))
			if r.status != http.StatusOK {
				t.Fatalf("job page: %d %s", r.status, r.body)
			}
			return !strings.Contains(r.body, refresh)
		})
		mustPage(t, r, http.StatusOK, "Import appliqué", "Comptes ouverts", "Événements enregistrés", "ENT_Complet_20240902_Eleve_0000.xml", "Complet", "Nouvel import")
		mustSpeakPlainly(t, r)
		recs := importRecords(w, store, before)
		if len(recs) == 0 {
			t.Fatal("nothing appended")
		}
		for _, rec := range recs {
			if rec.Metadata.Actor != w.Accounts[asAdmin] || rec.Metadata.CorrelationID != id {
				t.Fatalf("metadata %+v, want the admin under %s", rec.Metadata, id)
			}
		}
		mustPage(t, visit(t, s, pageReq{method: "GET", path: loc, profile: asAdmin, lang: "en"}), http.StatusOK, "Import applied", "Accounts opened")
		// The feed has two establishments: an inspector of one does not
		// read it; nobody reads an unknown import.
		mustPage(t, visit(t, s, get(loc, asInspector)), http.StatusForbidden)
		mustPage(t, visit(t, s, get("/imports/"+uuid.NewString(), asAdmin)), http.StatusNotFound)
	})

	t.Run("a running import's progress", func(t *testing.T) {
		t.Parallel()
		h, auth, store := w.Fork(t)
		job := &oneJob{job: directoryimport.Job{
			ID: uuid.New(), Actor: w.Accounts[asAdmin], State: directoryimport.JobRunning, Files: []string{"eleves.csv"},
			Created: w.Now, Started: w.Now, Heartbeat: w.Now,
			Progress: directoryimport.JobProgress{Phase: directoryimport.PhaseApply, BytesRead: 3 << 20, BytesTotal: 3 << 20, ReadPercent: 100,
				Records: 36, Changes: 12, ChangesTotal: 37, Events: 20},
		}}
		s := w.portalWith(t, h, auth, store, job)
		path := "/imports/" + job.job.ID.String()
		r := visit(t, s, get(path, asAdmin))
		mustPage(t, r, http.StatusOK, refresh, "Import en cours", "Enregistrement des changements", "100 % de 3 Mio", "12 sur 37",
			"<dt>Événements enregistrés</dt><dd>20</dd>", "<dt>Éléments de l&#39;annuaire chargés</dt><dd>36</dd>", `value="100.0"`, "eleves.csv")
		mustSpeakPlainly(t, r)
		mustPage(t, visit(t, s, pageReq{method: "GET", path: path, profile: asAdmin, lang: "en"}), http.StatusOK,
			"Import under way", "Recording the changes", "12 of 37")
		mustPage(t, visit(t, s, get(path, asCPE)), http.StatusForbidden)
	})

	t.Run("failed import: said plainly", func(t *testing.T) {
		t.Parallel()
		h, auth, store := w.Fork(t)
		developer := "interrupted: the server stopped; start the import again to finish it"
		job := &oneJob{job: directoryimport.Job{
			ID: uuid.New(), Actor: w.Accounts[asAdmin], State: directoryimport.JobFailed, Files: []string{"ENT_Complet_20240902_Eleve_0000.xml"},
			Created: w.Now, Finished: w.Now, Error: developer,
		}}
		s := w.portalWith(t, h, auth, store, job)
		r := visit(t, s, get("/imports/"+job.job.ID.String(), asAdmin))
		mustPage(t, r, http.StatusOK, "Import interrompu", "relancez le même import pour le terminer", "ENT_Complet_20240902_Eleve_0000.xml", "Nouvel import")
		if strings.Contains(r.body, refresh) {
			t.Error("an ended job's page refreshes itself")
		}
		mustSpeakPlainly(t, r, developer, "interrupted")
		mustPage(t, visit(t, s, pageReq{method: "GET", path: "/imports/" + job.job.ID.String(), profile: asAdmin, lang: "en"}), http.StatusOK,
			"Import interrupted")
	})

	t.Run("refused feed: the rejected records", func(t *testing.T) {
		t.Parallel()
		s, store := w.importFork(t, nil)
		before := len(w.Records(store))
		r := visitUpload(t, s, "/imports", asAdmin, "", map[string]string{"format": "aaf"}, "aaf/refused")
		mustPage(t, r, http.StatusSeeOther)
		loc := r.header.Get("Location")
		webtest.MustEventually(t, "the refused job's report", func() bool {
			r = visit(t, s, get(loc, asAdmin))
			return r.status == http.StatusOK && !strings.Contains(r.body, refresh)
		})
		mustPage(t, r, http.StatusOK, "Import refusé", "au-delà de la part maximale de 5 %", "ENT_Delta_20240917_Eleve_0000.xml", "Enregistrements rejetés")
		mustSpeakPlainly(t, r, "records rejected", "more than")
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("a refused feed appended %d events", n)
		}
	})

	t.Run("an archive without a directory file", func(t *testing.T) {
		t.Parallel()
		s, store := w.importFork(t, nil)
		before := len(w.Records(store))
		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		if _, err := zw.Create("ENT_2024-09-03/LISEZMOI.txt"); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		body := webtest.UploadOf(t, map[string]string{"format": "aaf", fieldCSRF: web.CSRFToken(tokenOf(asAdmin))}, nil,
			"ENT_2024-09-03.zip", zb.String())
		req := httptest.NewRequest("POST", "/imports", bytes.NewReader(body.Data))
		req.Header.Set("Content-Type", body.ContentType)
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: tokenOf(asAdmin)})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		r := pageResp{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
		mustPage(t, r, http.StatusSeeOther)
		loc := r.header.Get("Location")
		webtest.MustEventually(t, "the refused job's report", func() bool {
			r = visit(t, s, get(loc, asAdmin))
			return r.status == http.StatusOK && !strings.Contains(r.body, refresh)
		})
		mustPage(t, r, http.StatusOK, "Import refusé",
			"ENT_2024-09-03.zip : l&#39;archive ne contient aucun fichier d&#39;annuaire reconnu (aucun fichier *.xml).")
		mustSpeakPlainly(t, r, "holds no directory file")
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("a refused archive appended %d events", n)
		}
	})

	t.Run("refused by its guards, then forced", func(t *testing.T) {
		t.Parallel()
		s, store := w.importFork(t, nil)
		before := len(w.Records(store))
		const path = "csv/unregistered/eleves.csv" // a school that is not registered
		upload := func(force string) pageResp {
			r := visitUpload(t, s, "/imports", asAdmin, "", map[string]string{"format": "csv", "profile": "student", "force": force}, path)
			mustPage(t, r, http.StatusSeeOther)
			loc := r.header.Get("Location")
			webtest.MustEventually(t, "the job's report", func() bool {
				r = visit(t, s, get(loc, asAdmin))
				return r.status == http.StatusOK && !strings.Contains(r.body, refresh)
			})
			return r
		}
		r := upload("")
		mustPage(t, r, http.StatusOK, "Import refusé", "Les garde-fous de l&#39;import l&#39;ont refusé :",
			"2 personnes du flux sur 2 seraient laissées de côté (100 %), au-delà de la part maximale de 5 %.",
			"cochant « Forcer l&#39;import »", "2 laissés de côté : personnes d&#39;un établissement non enregistré",
			"l&#39;établissement 0990001Z n&#39;est pas enregistré et l&#39;import ne le donne pas : rien n&#39;a changé pour cette personne",
			"<td data-label=\"Laissés de côté\" class=\"num\">2</td></tr>")
		mustSpeakPlainly(t, r, "people would be left out", "is not registered", "left out")
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("a refused feed appended %d events", n)
		}
		r = upload("true")
		mustPage(t, r, http.StatusOK, "Import appliqué", "Import forcé malgré ses garde-fous :", "2 personnes du flux sur 2")
		if strings.Contains(r.body, "Forcer l&#39;import »") {
			t.Error("a forced import's page offers to force it")
		}
		mustSpeakPlainly(t, r, "people would be left out")
		if recs := w.Records(store)[before:]; len(recs) != 1 || recs[0].Type != "import.forced.v1" {
			t.Fatalf("forced import appended %+v", recs)
		}
	})

	t.Run("a file in the wrong encoding", func(t *testing.T) {
		t.Parallel()
		h, auth, store := w.Fork(t)
		developer := "ENT_Complet_20240902_Eleve_0000.xml: it declares UTF-8 but its bytes are not UTF-8"
		g := directoryimport.Guard{Kind: directoryimport.GuardEncoding, File: "ENT_Complet_20240902_Eleve_0000.xml", Unforceable: true,
			Encoding: &directoryimport.EncodingMismatch{Declared: "UTF-8", Count: 1, Line: 13, Sample: "Léa", Garbled: "L\uFFFDa", Guess: "ISO-8859-15"},
			Message:  developer}
		job := &oneJob{job: directoryimport.Job{
			ID: uuid.New(), Actor: w.Accounts[asAdmin], State: directoryimport.JobRefused, Code: domain.CodeInvalid,
			Error: developer, Created: w.Now, Finished: w.Now,
			Report: &directoryimport.Report{Actor: w.Accounts[asAdmin], Mode: directoryimport.ModeFull, Refused: developer, Guards: []directoryimport.Guard{g},
				Files:   []directoryimport.FileReport{{Name: g.File, Format: directoryimport.FormatAAF, Category: directoryimport.CategoryStudent, Mode: directoryimport.ModeFull}},
				Started: w.Now, Finished: w.Now},
		}}
		s := w.portalWith(t, h, auth, store, job)
		r := visit(t, s, get("/imports/"+job.job.ID.String(), asAdmin))
		mustPage(t, r, http.StatusOK, "Import refusé",
			"ENT_Complet_20240902_Eleve_0000.xml se dit en UTF-8, mais ses octets ne sont pas de l&#39;UTF-8 (dès la ligne 13 : « L\uFFFDa », qui en ISO-8859-15 se lit « Léa ») : les noms seraient déformés.",
			"même en forçant l&#39;import : demandez un export corrigé.")
		if strings.Contains(r.body, "cochant « Forcer") {
			t.Error("the page offers to force a file that cannot be read")
		}
		mustSpeakPlainly(t, r, developer)
	})

	t.Run("refused to its importer", func(t *testing.T) {
		t.Parallel()
		h, auth, store := w.Fork(t)
		developer := "the admin 1234 may not change the directory of 0999999Z"
		job := &oneJob{job: directoryimport.Job{
			ID: uuid.New(), Actor: w.Accounts[asAdmin], State: directoryimport.JobRefused, Code: domain.CodeForbidden,
			Error: developer, Created: w.Now, Finished: w.Now,
			Report: &directoryimport.Report{Actor: w.Accounts[asAdmin], Refused: developer, Records: 4, MaxRejected: 0.05,
				Establishments: []string{"0999999Z"}, Started: w.Now, Finished: w.Now},
		}}
		s := w.portalWith(t, h, auth, store, job)
		r := visit(t, s, get("/imports/"+job.job.ID.String(), asAdmin))
		mustPage(t, r, http.StatusOK, "Import refusé", "Vous n&#39;administrez pas tous les établissements de ce flux.")
		mustSpeakPlainly(t, r, developer)
	})

	t.Run("a refused form keeps what was typed", func(t *testing.T) {
		t.Parallel()
		s, store := w.importFork(t, nil)
		before := len(w.Records(store))
		// A CSV file needs its persons' profile.
		r := visitUpload(t, s, "/imports", asAdmin, "", map[string]string{"format": "csv", "mode": "delta", "max_rejected": "7%"}, "csv/full/relatives.csv")
		mustPage(t, r, http.StatusBadRequest, "L&#39;import n&#39;a pas été lancé", "le profil (obligatoire pour un fichier CSV)",
			`<option value="csv" selected>`, `<option value="delta" selected>`, `value="7%"`, `name="idempotency_key"`)
		if strings.Contains(r.body, `value="true" checked`) {
			t.Error("the dry run the form left unticked is ticked again")
		}
		mustSpeakPlainly(t, r, "profile")
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("a refused form appended %d events", n)
		}
	})

	t.Run("while the server stops", func(t *testing.T) {
		t.Parallel()
		h, auth, store := w.Fork(t)
		s := w.portalWith(t, h, auth, store, &oneJob{startErr: directoryimport.ErrJobsClosed})
		r := visitUpload(t, s, "/imports", asAdmin, "", map[string]string{"format": "aaf", "dry_run": "true"}, "aaf/full")
		mustPage(t, r, http.StatusServiceUnavailable, "le serveur redémarre", `<option value="aaf" selected>`, `value="true" checked`)
		mustSpeakPlainly(t, r, "closed")
	})

	t.Run("too large", func(t *testing.T) {
		t.Parallel()
		h, auth, store := w.Fork(t)
		d := w.Deps(h, auth, store)
		imports, err := web.NewImports(web.ImportsConfig{Jobs: w.ImportJobs(h, store, nil), MaxBytes: 4 << 10})
		if err != nil {
			t.Fatal(err)
		}
		p, err := New(Config{Commands: h, Queries: w.Queries, Sessions: d.Sessions, Imports: imports, Now: w.Clock, Location: webtest.Paris})
		if err != nil {
			t.Fatal(err)
		}
		r := visitUpload(t, p.Handler(), "/imports", asAdmin, "", map[string]string{"format": "aaf"}, "aaf/full")
		mustPage(t, r, http.StatusRequestEntityTooLarge, "les fichiers dépassent 0 Mio en tout", `enctype="multipart/form-data"`)
		mustSpeakPlainly(t, r)
	})

	t.Run("CSRF", func(t *testing.T) {
		for name, csrf := range map[string]string{"missing": "-", "wrong": web.CSRFToken("another session")} {
			t.Run(name, func(t *testing.T) {
				s, store := w.importFork(t, nil)
				before := len(w.Records(store))
				r := visitUpload(t, s, "/imports", asAdmin, csrf, map[string]string{"format": "aaf"}, "aaf/full")
				mustPage(t, r, http.StatusForbidden, "Ce formulaire a expiré")
				if n := len(w.Records(store)) - before; n != 0 {
					t.Fatalf("%d events recorded", n)
				}
			})
		}
		s, store := w.importFork(t, nil)
		r := visitUpload(t, s, "/imports", asTeacher, "", map[string]string{"format": "aaf"}, "aaf/full")
		mustPage(t, r, http.StatusForbidden)
		if len(w.Records(store)) != len(w.Records(w.Store)) {
			t.Fatal("a teacher's upload recorded events")
		}
	})

	t.Run("kept report", func(t *testing.T) {
		path := "/imports/" + webtest.KeptImportID.String()
		r := visit(t, w.srv, get(path, asAdmin))
		mustPage(t, r, http.StatusOK, "Import appliqué", "students.csv", "S03", "pas de nom : le nom et le prénom sont vides")
		mustSpeakPlainly(t, r, "no name")
		if strings.Contains(r.body, refresh) || !strings.Contains(r.body, `href="/imports"`) {
			t.Error("an ended job's page refreshes itself, or offers no new import")
		}
		r = visit(t, w.srv, get(path, asInspector))
		mustPage(t, r, http.StatusOK, `href="/audit?`, "Voir cet import dans l&#39;audit", "Admin")
		mustSpeakPlainly(t, r)
		mustPage(t, visit(t, w.srv, get(path, asOtherInspector)), http.StatusForbidden)
		mustPage(t, visit(t, w.srv, get(path, asCPE)), http.StatusForbidden)
	})
}

// importRecords returns the records store got after position n.
func importRecords(w *world, store *memory.Store, n int) []domain.Record {
	return w.Records(store)[n:]
}
