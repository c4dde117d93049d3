package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
)

// csvRelatives is a small CSV export of the world's establishment, for the
// route matrix.
func csvRelatives(w *world) webtest.MultipartBody {
	return webtest.UploadOf(w.T, map[string]string{"format": "csv", "profile": "relative"}, nil,
		"relatives.csv", "id,uai,last_name,first_name\nR01,"+w.UAI+",Martin,Claire\n")
}

// importRecords returns the records store got after position n.
func importRecords(w *world, store *memory.Store, n int) []domain.Record {
	return w.Records(store)[n:]
}

func TestImportAPI(t *testing.T) {
	w := newWorld(t)
	admin := w.Accounts[asAdmin]
	full := func(fields map[string]string) webtest.MultipartBody {
		f := map[string]string{"format": "aaf"}
		for k, v := range fields {
			f[k] = v
		}
		return webtest.UploadOf(t, f, []string{"aaf/full"})
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
		before := len(w.Records(store))
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
		kept := mustDecode[web.ImportReport](t, got)
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

		n := len(w.Records(store))
		r = post(s, full(nil))
		again := mustDecode[directoryimport.Report](t, r)
		if r.status != http.StatusCreated || again.Events != 0 || len(w.Records(store)) != n {
			t.Fatalf("second upload: %d, %d events, %d appended", r.status, again.Events, len(w.Records(store))-n)
		}
		if again.CorrelationID == rep.CorrelationID {
			t.Error("a second import has the first one's correlation id")
		}
	})

	t.Run("dry run appends nothing", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.Records(store))
		r := post(s, full(map[string]string{"dry_run": "true"}))
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		rep := mustDecode[directoryimport.Report](t, r)
		if !rep.DryRun || len(rep.Changes) == 0 || rep.Planned[directoryimport.OpenAccount] != 15 {
			t.Fatalf("dry run report %+v", rep)
		}
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("a dry run appended %d events", n)
		}
	})

	t.Run("refused feed: 422 and nothing appended", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.Records(store))
		r := post(s, webtest.UploadOf(t, map[string]string{"format": "aaf"}, []string{"aaf/refused"}))
		if r.status != http.StatusUnprocessableEntity || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		rep := mustDecode[directoryimport.Report](t, r)
		if rep.Refused == "" || len(rep.Rejected) == 0 || rep.Rejected[0].File == "" || rep.Rejected[0].Line == 0 {
			t.Fatalf("refused report %+v", rep)
		}
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("a refused feed appended %d events", n)
		}
		got := do(t, s, request{method: "GET", path: "/api/v1/imports/" + rep.CorrelationID.String(), token: tokenOf(asAdmin)})
		if kept := mustDecode[web.ImportReport](t, got); got.status != http.StatusOK || kept.Refused != rep.Refused {
			t.Fatalf("kept refused report: %d %s", got.status, got.body)
		}
		// A truncated file too.
		r = post(s, webtest.UploadOf(t, map[string]string{"format": "aaf"}, []string{"aaf/truncated"}))
		if r.status != http.StatusUnprocessableEntity || len(w.Records(store)) != before {
			t.Fatalf("truncated: %d, %s", r.status, r.body)
		}
	})

	t.Run("idempotency key replays the report", func(t *testing.T) {
		s, store := w.fork(t)
		body := webtest.UploadOf(t, map[string]string{"format": "csv", "profile": "relative"}, []string{"csv/full/relatives.csv"})
		r1 := post(s, body, headerIdempotencyKey, "feed-2024-09-02")
		n := len(w.Records(store))
		r2 := post(s, body, headerIdempotencyKey, "feed-2024-09-02")
		a, b := mustDecode[directoryimport.Report](t, r1), mustDecode[directoryimport.Report](t, r2)
		if r1.status != http.StatusCreated || r2.status != http.StatusCreated || a.CorrelationID != b.CorrelationID ||
			r2.header.Get(headerReplayed) != "true" || len(w.Records(store)) != n || b.Events != a.Events {
			t.Fatalf("replay: %d %d %s %s", r1.status, r2.status, r1.body, r2.body)
		}
	})

	t.Run("bad uploads", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.Records(store))
		mustProblem(t, post(s, map[string]string{"format": "aaf"}), http.StatusUnsupportedMediaType, "multipart-required")
		mustProblem(t, post(s, webtest.UploadOf(t, map[string]string{"format": "xls"}, []string{"aaf/full"})), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, webtest.UploadOf(t, map[string]string{"format": "csv"}, []string{"csv/full/relatives.csv"})), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, webtest.UploadOf(t, map[string]string{"format": "aaf"}, nil)), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, full(map[string]string{"max_rejected": "150%"})), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, full(map[string]string{"mode": "sometimes"})), http.StatusBadRequest, "invalid-input")
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("bad uploads appended %d events", n)
		}
	})

	t.Run("oversize: 413", func(t *testing.T) {
		_, store := w.fork(t)
		s := w.serverWith(w.H, w.Auth.Clone(), store, func(c *Config) {
			c.Imports = w.Imports(w.H, store, func(ic *web.ImportsConfig) { ic.MaxBytes = 4 << 10 })
		})
		before := len(w.Records(store))
		body := full(nil)
		mustProblem(t, post(s, body), http.StatusRequestEntityTooLarge, "body-too-large")
		// Without a Content-Length: cut while streaming.
		req := httptest.NewRequest("POST", "/api/v1/imports", bytes.NewReader(body.Data))
		req.ContentLength = -1
		req.Header.Set("Content-Type", body.ContentType)
		req.Header.Set("Authorization", "Bearer "+tokenOf(asAdmin))
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("streamed oversize: %d %s", rec.Code, rec.Body)
		}
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("oversize uploads appended %d events", n)
		}
	})

	t.Run("non-admins: 403 before reading", func(t *testing.T) {
		s, store := w.fork(t)
		before := len(w.Records(store))
		for _, p := range webtest.Profiles {
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
		if n := len(w.Records(store)) - before; n != 0 {
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
