package portal

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
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
		before := len(w.Records(store))
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
		before := len(w.Records(store))
		r := visitUpload(t, s, "/imports", asAdmin, "", map[string]string{"format": "aaf"}, "aaf/refused")
		mustPage(t, r, http.StatusSeeOther)
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("a refused feed appended %d events", n)
		}
		mustPage(t, visit(t, s, get(r.header.Get("Location"), asAdmin)), http.StatusOK,
			"Import refusé", "ENT_Delta_20240917_Eleve_0000.xml", "Enregistrements rejetés")
	})

	t.Run("CSRF", func(t *testing.T) {
		for name, csrf := range map[string]string{"missing": "-", "wrong": web.CSRFToken("another session")} {
			t.Run(name, func(t *testing.T) {
				s, store := w.fork(t)
				before := len(w.Records(store))
				r := visitUpload(t, s, "/imports", asAdmin, csrf, map[string]string{"format": "aaf"}, "aaf/full")
				mustPage(t, r, http.StatusForbidden, "Ce formulaire a expiré")
				if n := len(w.Records(store)) - before; n != 0 {
					t.Fatalf("%d events recorded", n)
				}
			})
		}
		s, store := w.fork(t)
		r := visitUpload(t, s, "/imports", asTeacher, "", map[string]string{"format": "aaf"}, "aaf/full")
		mustPage(t, r, http.StatusForbidden)
		if len(w.Records(store)) != len(w.Records(w.Store)) {
			t.Fatal("a teacher's upload recorded events")
		}
	})

	t.Run("kept report", func(t *testing.T) {
		path := "/imports/" + webtest.KeptImportID.String()
		mustPage(t, visit(t, w.srv, get(path, asAdmin)), http.StatusOK, "students.csv", "S03", "no last name", webtest.KeptImportID.String())
		r := visit(t, w.srv, get(path, asInspector))
		mustPage(t, r, http.StatusOK, `href="/audit?`, "Admin")
		mustPage(t, visit(t, w.srv, get(path, asOtherInspector)), http.StatusForbidden)
		mustPage(t, visit(t, w.srv, get(path, asCPE)), http.StatusForbidden)
		if !strings.Contains(visit(t, w.srv, get(path, asAdmin)).body, `href="/imports"`) {
			t.Error("no link to a new import")
		}
	})
}

// importRecords returns the records store got after position n.
func importRecords(w *world, store *memory.Store, n int) []domain.Record {
	return w.Records(store)[n:]
}
