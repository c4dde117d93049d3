package http

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// multipartBody is a request body the API tests send as is, with its
// Content-Type.
type multipartBody struct {
	contentType string
	data        []byte
}

// fixtures is the directory import's own test feeds.
const fixtures = "../directoryimport/testdata"

// uploadOf builds a multipart/form-data body: fields, then each path (a
// file, or a directory whose files are taken in name order) as a part
// named file; inline files are name=content pairs.
func uploadOf(t *testing.T, fields map[string]string, paths []string, inline ...string) multipartBody {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := mw.WriteField(k, fields[k]); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	for _, p := range paths {
		p = filepath.Join(fixtures, p)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				files = append(files, filepath.Join(p, e.Name()))
			}
			continue
		}
		files = append(files, p)
	}
	add := func(name string, content []byte) {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(content); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		add(filepath.Base(f), b)
	}
	for i := 0; i+1 < len(inline); i += 2 {
		add(inline[i], []byte(inline[i+1]))
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return multipartBody{contentType: mw.FormDataContentType(), data: buf.Bytes()}
}

// csvRelatives is a small CSV export of the world's establishment, for the
// route matrix.
func csvRelatives(w *world) multipartBody {
	return uploadOf(w.t, map[string]string{"format": "csv", "profile": "relative"}, nil,
		"relatives.csv", "id,uai,last_name,first_name\nR01,"+w.UAI+",Martin,Claire\n")
}

// keptImportID is the correlation id of the report newWorld keeps.
var keptImportID = id("kept-import")

// keepReport keeps the report of an import the admin ran in the world's
// establishment.
func (w *world) keepReport() {
	w.t.Helper()
	rep := &directoryimport.Report{
		CorrelationID: keptImportID, Actor: w.Accounts[asAdmin], Mode: directoryimport.ModeFull, Feed: "full feed: students.csv",
		Files:   []directoryimport.FileReport{{Name: "students.csv", Format: directoryimport.FormatCSV, Mode: directoryimport.ModeFull, Records: 3, Rejected: 1}},
		Records: 3, Persons: 2, Establishments: []string{w.UAI}, MaxRejected: 0.5,
		Rejected: []directoryimport.Issue{{Place: directoryimport.Place{File: "students.csv", Line: 3}, ID: "S03", Reason: "no last name"}},
		Planned:  map[directoryimport.ChangeKind]int{directoryimport.OpenAccount: 2},
		Applied:  map[directoryimport.ChangeKind]int{directoryimport.OpenAccount: 2},
		Events:   2, Started: w.now, Finished: w.now.Add(time.Second),
	}
	s := &Server{cfg: Config{ImportReports: w.docs}}
	if err := s.keepImport(w.ctx, rep); err != nil {
		w.t.Fatal(err)
	}
}

// importRecords returns the records store got after position n.
func importRecords(w *world, store *memory.Store, n int) []domain.Record {
	return w.records(store)[n:]
}

func TestImportAPI(t *testing.T) {
	w := newWorld(t)
	admin := w.Accounts[asAdmin]
	full := func(fields map[string]string) multipartBody {
		f := map[string]string{"format": "aaf"}
		for k, v := range fields {
			f[k] = v
		}
		return uploadOf(t, f, []string{"aaf/full"})
	}
	post := func(s *Server, body any, headers ...string) response {
		r := request{method: "POST", path: "/api/v1/imports", body: body, token: tokenOf(asAdmin), headers: map[string]string{}}
		for i := 0; i+1 < len(headers); i += 2 {
			r.headers[headers[i]] = headers[i+1]
		}
		return do(t, s, r)
	}

	t.Run("applied, kept, then nothing twice", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.records(store))
		r := post(s, full(nil))
		if r.status != http.StatusCreated {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		rep := mustDecode[directoryimport.Report](t, r)
		recs := importRecords(w, store, before)
		if rep.Events == 0 || len(recs) != rep.Events || rep.Actor != admin || rep.DryRun || rep.Refused != "" {
			t.Fatalf("report %+v, %d records appended", rep, len(recs))
		}
		if rep.Applied[directoryimport.OpenAccount] != 15 || rep.Applied[directoryimport.RegisterEstablishment] != 1 {
			t.Errorf("applied %v", rep.Applied)
		}
		for _, rec := range recs {
			md := rec.Metadata
			if md.Actor != admin || md.Profile != domain.ProfileAdmin || md.CorrelationID != rep.CorrelationID || md.Command == "" {
				t.Fatalf("%s@%d: metadata %+v, want the admin under %s", rec.Stream, rec.Version, md, rep.CorrelationID)
			}
		}

		got := do(t, s, request{method: "GET", path: "/api/v1/imports/" + rep.CorrelationID.String(), token: tokenOf(asAdmin)})
		if got.status != http.StatusOK {
			t.Fatalf("kept report: %d %s", got.status, got.body)
		}
		kept := mustDecode[ImportReport](t, got)
		if kept.CorrelationID != rep.CorrelationID || kept.Events != rep.Events || kept.Actor != admin {
			t.Fatalf("kept report %+v", kept.Report)
		}
		for _, p := range []string{asTeacher, asCPE, asOtherInspector} {
			if r := do(t, s, request{method: "GET", path: "/api/v1/imports/" + rep.CorrelationID.String(), token: tokenOf(p)}); r.status != http.StatusForbidden {
				t.Errorf("%s reads the report: %d", p, r.status)
			}
		}
		if r := do(t, s, request{method: "GET", path: "/api/v1/imports/" + uuid.NewString(), token: tokenOf(asAdmin)}); r.status != http.StatusNotFound {
			t.Errorf("unknown report: %d", r.status)
		}

		n := len(w.records(store))
		r = post(s, full(nil))
		again := mustDecode[directoryimport.Report](t, r)
		if r.status != http.StatusCreated || again.Events != 0 || len(w.records(store)) != n {
			t.Fatalf("second upload: %d, %d events, %d appended", r.status, again.Events, len(w.records(store))-n)
		}
		if again.CorrelationID == rep.CorrelationID {
			t.Error("a second import has the first one's correlation id")
		}
	})

	t.Run("dry run appends nothing", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.records(store))
		r := post(s, full(map[string]string{"dry_run": "true"}))
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		rep := mustDecode[directoryimport.Report](t, r)
		if !rep.DryRun || len(rep.Changes) == 0 || rep.Planned[directoryimport.OpenAccount] != 15 {
			t.Fatalf("dry run report %+v", rep)
		}
		if n := len(w.records(store)) - before; n != 0 {
			t.Fatalf("a dry run appended %d events", n)
		}
	})

	t.Run("refused feed: 422 and nothing appended", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.records(store))
		r := post(s, uploadOf(t, map[string]string{"format": "aaf"}, []string{"aaf/refused"}))
		if r.status != http.StatusUnprocessableEntity || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		rep := mustDecode[directoryimport.Report](t, r)
		if rep.Refused == "" || len(rep.Rejected) == 0 || rep.Rejected[0].File == "" || rep.Rejected[0].Line == 0 {
			t.Fatalf("refused report %+v", rep)
		}
		if n := len(w.records(store)) - before; n != 0 {
			t.Fatalf("a refused feed appended %d events", n)
		}
		got := do(t, s, request{method: "GET", path: "/api/v1/imports/" + rep.CorrelationID.String(), token: tokenOf(asAdmin)})
		if kept := mustDecode[ImportReport](t, got); got.status != http.StatusOK || kept.Refused != rep.Refused {
			t.Fatalf("kept refused report: %d %s", got.status, got.body)
		}
		// A truncated file too.
		r = post(s, uploadOf(t, map[string]string{"format": "aaf"}, []string{"aaf/truncated"}))
		if r.status != http.StatusUnprocessableEntity || len(w.records(store)) != before {
			t.Fatalf("truncated: %d, %s", r.status, r.body)
		}
	})

	t.Run("idempotency key replays the report", func(t *testing.T) {
		s, store := w.fork(t)
		body := uploadOf(t, map[string]string{"format": "csv", "profile": "relative"}, []string{"csv/full/relatives.csv"})
		r1 := post(s, body, headerIdempotencyKey, "feed-2024-09-02")
		n := len(w.records(store))
		r2 := post(s, body, headerIdempotencyKey, "feed-2024-09-02")
		a, b := mustDecode[directoryimport.Report](t, r1), mustDecode[directoryimport.Report](t, r2)
		if r1.status != http.StatusCreated || r2.status != http.StatusCreated || a.CorrelationID != b.CorrelationID ||
			r2.header.Get(headerReplayed) != "true" || len(w.records(store)) != n || b.Events != a.Events {
			t.Fatalf("replay: %d %d %s %s", r1.status, r2.status, r1.body, r2.body)
		}
	})

	t.Run("bad uploads", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.records(store))
		mustProblem(t, post(s, map[string]string{"format": "aaf"}), http.StatusUnsupportedMediaType, "multipart-required")
		mustProblem(t, post(s, uploadOf(t, map[string]string{"format": "xls"}, []string{"aaf/full"})), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, uploadOf(t, map[string]string{"format": "csv"}, []string{"csv/full/relatives.csv"})), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, uploadOf(t, map[string]string{"format": "aaf"}, nil)), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, full(map[string]string{"max_rejected": "150%"})), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, full(map[string]string{"mode": "sometimes"})), http.StatusBadRequest, "invalid-input")
		if n := len(w.records(store)) - before; n != 0 {
			t.Fatalf("bad uploads appended %d events", n)
		}
	})

	t.Run("oversize: 413", func(t *testing.T) {
		_, store := w.fork(t)
		s := w.serverWith(w.h, w.auth.clone(), store, func(c *Config) { c.MaxImportBytes = 4 << 10 })
		before := len(w.records(store))
		body := full(nil)
		mustProblem(t, post(s, body), http.StatusRequestEntityTooLarge, "body-too-large")
		// Without a Content-Length: cut while streaming.
		req := httptest.NewRequest("POST", "/api/v1/imports", bytes.NewReader(body.data))
		req.ContentLength = -1
		req.Header.Set("Content-Type", body.contentType)
		req.Header.Set("Authorization", "Bearer "+tokenOf(asAdmin))
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("streamed oversize: %d %s", rec.Code, rec.Body)
		}
		if n := len(w.records(store)) - before; n != 0 {
			t.Fatalf("oversize uploads appended %d events", n)
		}
	})

	t.Run("non-admins: 403 before reading", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.records(store))
		for _, p := range profiles {
			if p == asAdmin {
				continue
			}
			r := do(t, s, request{method: "POST", path: "/api/v1/imports", body: full(nil), token: tokenOf(p)})
			want := http.StatusForbidden
			if p == asAnonymous {
				want = http.StatusUnauthorized
			}
			if r.status != want {
				t.Errorf("%s: %d, want %d", p, r.status, want)
			}
		}
		if n := len(w.records(store)) - before; n != 0 {
			t.Fatalf("refused uploads appended %d events", n)
		}
	})
}

// TestImportOpenAPI: the upload is described as multipart/form-data with
// its three answers.
func TestImportOpenAPI(t *testing.T) {
	w := newWorld(t)
	doc, err := w.srv.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]json.RawMessage `json:"content"`
			} `json:"requestBody"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	op := d.Paths["/api/v1/imports"]["post"]
	if _, ok := op.RequestBody.Content["multipart/form-data"]; !ok {
		t.Fatalf("request body %v", op.RequestBody.Content)
	}
	for _, code := range []string{"200", "201", "403", "413", "415", "422"} {
		if _, ok := op.Responses[code]; !ok {
			t.Errorf("no %s response", code)
		}
	}
	if !strings.Contains(string(op.Responses["422"]), "Report") {
		t.Errorf("422 is not the report: %s", op.Responses["422"])
	}
	if _, ok := d.Paths["/api/v1/imports/{correlation}"]["get"]; !ok {
		t.Error("no GET /api/v1/imports/{correlation}")
	}
}

// visitUpload posts a multipart form to the portal as profile, with the
// session's CSRF token unless csrf says otherwise ("-": none).
func visitUpload(t *testing.T, s *Server, path, profile, csrf string, fields map[string]string, paths ...string) pageResp {
	t.Helper()
	f := map[string]string{}
	for k, v := range fields {
		f[k] = v
	}
	switch csrf {
	case "":
		f[fieldCSRF] = csrfToken(tokenOf(profile))
	case "-":
	default:
		f[fieldCSRF] = csrf
	}
	body := uploadOf(t, f, paths)
	req := httptest.NewRequest("POST", path, bytes.NewReader(body.data))
	req.Header.Set("Content-Type", body.contentType)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tokenOf(profile)})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return pageResp{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

func TestPortalImport(t *testing.T) {
	w := newWorld(t)
	mustPage(t, visit(t, w.srv, get("/", asAdmin)), http.StatusOK, `href="/imports"`)
	mustPage(t, visit(t, w.srv, get("/imports", asAdmin)), http.StatusOK,
		`enctype="multipart/form-data"`, `name="file"`, `name="csrf"`, `name="idempotency_key"`, `name="dry_run"`, `value="csv"`, "Importer un annuaire")
	mustPage(t, visit(t, w.srv, pageReq{method: "GET", path: "/imports", profile: asAdmin, lang: "en"}), http.StatusOK, "Import a directory feed")
	for _, p := range []string{asTeacher, asCPE, asInspector} {
		mustPage(t, visit(t, w.srv, get("/imports", p)), http.StatusForbidden)
	}

	t.Run("upload, then the report", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.records(store))
		r := visitUpload(t, s, "/imports", asAdmin, "", map[string]string{"format": "aaf", fieldIdempotency: "portal-" + uuid.NewString()}, "aaf/full")
		mustPage(t, r, http.StatusSeeOther)
		loc := r.header.Get("Location")
		if !strings.HasPrefix(loc, "/imports/") || !strings.HasSuffix(loc, "?ok=imported") {
			t.Fatalf("redirect to %q", loc)
		}
		recs := importRecords(w, store, before)
		if len(recs) == 0 {
			t.Fatal("nothing appended")
		}
		corr := recs[0].Metadata.CorrelationID
		for _, rec := range recs {
			if rec.Metadata.Actor != w.Accounts[asAdmin] || rec.Metadata.CorrelationID != corr {
				t.Fatalf("metadata %+v", rec.Metadata)
			}
		}
		if !strings.Contains(loc, corr.String()) {
			t.Fatalf("redirect %q is not the import %s", loc, corr)
		}
		mustPage(t, visit(t, s, get(loc, asAdmin)), http.StatusOK, "Import appliqué", corr.String(), "Comptes ouverts", "Import terminé")
		mustPage(t, visit(t, s, pageReq{method: "GET", path: loc, profile: asAdmin, lang: "en"}), http.StatusOK, "Import applied", "Accounts opened")
	})

	t.Run("refused feed: the rejected records", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.records(store))
		r := visitUpload(t, s, "/imports", asAdmin, "", map[string]string{"format": "aaf"}, "aaf/refused")
		mustPage(t, r, http.StatusSeeOther)
		if n := len(w.records(store)) - before; n != 0 {
			t.Fatalf("a refused feed appended %d events", n)
		}
		mustPage(t, visit(t, s, get(r.header.Get("Location"), asAdmin)), http.StatusOK,
			"Import refusé", "ENT_Delta_20240917_Eleve_0000.xml", "Enregistrements rejetés")
	})

	t.Run("CSRF", func(t *testing.T) {
		for name, csrf := range map[string]string{"missing": "-", "wrong": csrfToken("another session")} {
			t.Run(name, func(t *testing.T) {
				s, store := w.fork(t)
				before := len(w.records(store))
				r := visitUpload(t, s, "/imports", asAdmin, csrf, map[string]string{"format": "aaf"}, "aaf/full")
				mustPage(t, r, http.StatusForbidden, "Ce formulaire a expiré")
				if n := len(w.records(store)) - before; n != 0 {
					t.Fatalf("%d events recorded", n)
				}
			})
		}
		s, store := w.fork(t)
		r := visitUpload(t, s, "/imports", asTeacher, "", map[string]string{"format": "aaf"}, "aaf/full")
		mustPage(t, r, http.StatusForbidden)
		if len(w.records(store)) != len(w.records(w.store)) {
			t.Fatal("a teacher's upload recorded events")
		}
	})

	t.Run("kept report", func(t *testing.T) {
		path := "/imports/" + keptImportID.String()
		mustPage(t, visit(t, w.srv, get(path, asAdmin)), http.StatusOK, "students.csv", "S03", "no last name", keptImportID.String())
		r := visit(t, w.srv, get(path, asInspector))
		mustPage(t, r, http.StatusOK, `href="/audit?`, "Admin")
		mustPage(t, visit(t, w.srv, get(path, asOtherInspector)), http.StatusForbidden)
		mustPage(t, visit(t, w.srv, get(path, asCPE)), http.StatusForbidden)
		if !strings.Contains(visit(t, w.srv, get(path, asAdmin)).body, `href="/imports"`) {
			t.Error("no link to a new import")
		}
	})
}

// The kept reports live in the read-model store: a server over the same
// store reads them.
func TestImportReportsKept(t *testing.T) {
	w := newWorld(t)
	s := &Server{cfg: Config{ImportReports: w.docs}}
	kept, err := s.keptImport(context.Background(), keptImportID)
	if err != nil || kept.Events != 2 || kept.Rejected[0].Line != 3 {
		t.Fatalf("kept %+v, %v", kept, err)
	}
	raw, ok, err := w.docs.Reader(importsNamespace).Get(context.Background(), importsColl, keptImportID.String())
	if err != nil || !ok || !json.Valid(raw) {
		t.Fatalf("document: %v %v", ok, err)
	}
	var _ projections.DocStore = w.docs
}
