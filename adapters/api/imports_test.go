package api

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// importFork returns a server over a copy of the world's log whose import
// jobs are configured by edit, the jobs, and the copy of the log.
func (w *world) importFork(t *testing.T, edit func(*directoryimport.JobsConfig)) (*Server, *directoryimport.Jobs, *memory.Store) {
	t.Helper()
	h, auth, store := w.Fork(t)
	jobs := w.ImportJobs(h, store, edit)
	s := w.serverWith(h, auth, store, func(c *Config) {
		c.Imports = w.Imports(h, store, func(ic *web.ImportsConfig) { ic.Jobs = jobs })
	})
	return s, jobs, store
}

// mustAccepted checks the answer to an upload that started a job: 202,
// the job queued as the administrator, its status URL in Location.
func mustAccepted(t *testing.T, w *world, r response) directoryimport.Job {
	t.Helper()
	if r.status != http.StatusAccepted || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	job := mustDecode[directoryimport.Job](t, r)
	if job.ID == uuid.Nil || job.Actor != w.Accounts[asAdmin] || job.State != directoryimport.JobQueued ||
		len(job.Files) == 0 || job.Progress.BytesTotal == 0 || job.Report != nil {
		t.Fatalf("started job %+v", job)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/imports/"+job.ID.String() {
		t.Fatalf("Location %q for job %s", loc, job.ID)
	}
	if r.header.Get(headerReplayed) != "" {
		t.Fatalf("a new job is marked replayed")
	}
	return job
}

// mustEnd polls a job's status URL as the administrator until the job
// ended, and returns it: while it is live, the answer says when to ask
// again.
func mustEnd(t *testing.T, s *Server, id uuid.UUID) directoryimport.Job {
	t.Helper()
	var job directoryimport.Job
	webtest.MustEventually(t, "import "+id.String()+" ends", func() bool {
		r := do(t, s, request{method: "GET", path: "/api/v1/imports/" + id.String(), token: tokenOf(asAdmin)})
		if r.status != http.StatusOK {
			t.Fatalf("status of %s: %d %s", id, r.status, r.body)
		}
		job = mustDecode[directoryimport.Job](t, r)
		if live := job.State.Live(); live != (r.header.Get("Retry-After") == "2") {
			t.Fatalf("job %s: Retry-After %q", job.State, r.header.Get("Retry-After"))
		}
		return !job.State.Live()
	})
	if job.ID != id || job.Finished.IsZero() {
		t.Fatalf("ended job %+v", job)
	}
	return job
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
		t.Parallel()
		s, _, store := w.importFork(t, nil)
		before := len(w.Records(store))
		started := mustAccepted(t, w, post(s, full(nil)))
		if started.DryRun || !strings.HasPrefix(started.Files[0], "ENT_Complet_") {
			t.Fatalf("started job %+v", started)
		}
		job := mustEnd(t, s, started.ID)
		rep := job.Report
		if job.State != directoryimport.JobDone || rep == nil || job.Error != "" || job.Truncated {
			t.Fatalf("ended job %+v", job)
		}
		recs := importRecords(w, store, before)
		if rep.Events == 0 || len(recs) != rep.Events || rep.Actor != admin || rep.DryRun || rep.Refused != "" || rep.CorrelationID != job.ID {
			t.Fatalf("report %+v, %d records appended", rep, len(recs))
		}
		if rep.Applied[directoryimport.OpenAccount] != 15 || rep.Applied[directoryimport.RegisterEstablishment] != 1 {
			t.Errorf("applied %v", rep.Applied)
		}
		if job.Progress.ReadPercent != 100 || job.Progress.Events != int64(rep.Events) || len(job.Establishments) != 2 {
			t.Errorf("progress %+v, establishments %v", job.Progress, job.Establishments)
		}
		for _, rec := range recs {
			md := rec.Metadata
			if md.Actor != admin || md.Profile != domain.ProfileAdmin || md.CorrelationID != job.ID || md.Command == "" {
				t.Fatalf("%s@%d: metadata %+v, want the admin under %s", rec.Stream, rec.Version, md, job.ID)
			}
		}

		// Who reads the job: not a teacher, the CPE or an inspector of
		// another establishment; nobody reads an unknown one.
		for _, p := range []string{asTeacher, asCPE, asOtherInspector} {
			r := do(t, s, request{method: "GET", path: "/api/v1/imports/" + job.ID.String(), token: tokenOf(p)})
			mustProblem(t, r, http.StatusForbidden, "forbidden")
		}
		mustProblem(t, do(t, s, request{method: "GET", path: "/api/v1/imports/" + job.ID.String()}), http.StatusUnauthorized, "unauthenticated")
		mustProblem(t, do(t, s, request{method: "GET", path: "/api/v1/imports/" + uuid.NewString(), token: tokenOf(asAdmin)}), http.StatusNotFound, "not-found")
		mustProblem(t, do(t, s, request{method: "GET", path: "/api/v1/imports/nope", token: tokenOf(asAdmin)}), http.StatusBadRequest, "invalid-path-parameter")
		// The feed has two establishments: an inspector habilitated for
		// one only does not read it.
		mustProblem(t, do(t, s, request{method: "GET", path: "/api/v1/imports/" + job.ID.String(), token: tokenOf(asInspector)}),
			http.StatusForbidden, "forbidden")

		n := len(w.Records(store))
		again := mustEnd(t, s, mustAccepted(t, w, post(s, full(nil))).ID)
		if again.State != directoryimport.JobDone || again.Report.Events != 0 || len(w.Records(store)) != n {
			t.Fatalf("second upload: %s, %d events, %d appended", again.State, again.Report.Events, len(w.Records(store))-n)
		}
		if again.ID == job.ID {
			t.Error("a second import has the first one's id")
		}
	})

	t.Run("an archive stands for its files", func(t *testing.T) {
		t.Parallel()
		s, _, store := w.importFork(t, nil)
		before := len(w.Records(store))
		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		for _, name := range []string{"Eleve", "EtabEducNat", "PersEducNat", "PersRelEleve"} {
			file := "ENT_Complet_20240902_" + name + "_0000.xml"
			b, err := os.ReadFile(filepath.Join("../directoryimport/testdata/aaf/full", file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := zw.Create("ENT_2024-09-02/" + file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		body := webtest.UploadOf(t, map[string]string{"format": "aaf"}, nil, "ENT_2024-09-02.zip", zb.String())
		started := mustAccepted(t, w, post(s, body))
		job := mustEnd(t, s, started.ID)
		rep := job.Report
		if job.State != directoryimport.JobDone || rep == nil || len(rep.Files) != 4 || rep.Files[0].Archive != "ENT_2024-09-02.zip" {
			t.Fatalf("ended job %+v", job)
		}
		if rep.Applied[directoryimport.OpenAccount] != 15 || len(importRecords(w, store, before)) != rep.Events {
			t.Errorf("applied %v", rep.Applied)
		}
		// The progress counts the files' bytes, not the archive's.
		if job.Progress.ReadPercent != 100 || job.Progress.BytesTotal <= int64(zb.Len()) || job.Progress.BytesRead != job.Progress.BytesTotal {
			t.Errorf("progress %+v", job.Progress)
		}

		// An archive without a directory file is refused, nothing written.
		n := len(w.Records(store))
		var empty bytes.Buffer
		zw = zip.NewWriter(&empty)
		if _, err := zw.Create("ENT_2024-09-03/LISEZMOI.txt"); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		body = webtest.UploadOf(t, map[string]string{"format": "aaf"}, nil, "ENT_2024-09-03.zip", empty.String())
		job = mustEnd(t, s, mustAccepted(t, w, post(s, body)).ID)
		if job.State != directoryimport.JobRefused || job.Code != domain.CodeInvalid || job.Report == nil || job.Report.Archive == nil ||
			job.Report.Archive.Code != directoryimport.ArchiveNoFeedFiles ||
			job.Report.Refused != "archive ENT_2024-09-03.zip holds no directory file the import knows (no *.xml file)" {
			t.Fatalf("an empty archive: %+v", job)
		}
		if len(w.Records(store)) != n {
			t.Fatal("a refused archive wrote")
		}
	})

	t.Run("dry run appends nothing", func(t *testing.T) {
		t.Parallel()
		s, _, store := w.importFork(t, nil)
		before := len(w.Records(store))
		started := mustAccepted(t, w, post(s, full(map[string]string{"dry_run": "true"})))
		if !started.DryRun {
			t.Fatalf("started %+v", started)
		}
		job := mustEnd(t, s, started.ID)
		rep := job.Report
		if job.State != directoryimport.JobDone || rep == nil || !rep.DryRun || len(rep.Changes) == 0 || rep.Planned[directoryimport.OpenAccount] != 15 {
			t.Fatalf("dry run job %+v", job)
		}
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("a dry run appended %d events", n)
		}
	})

	t.Run("refused feed: refused job, nothing appended", func(t *testing.T) {
		t.Parallel()
		s, _, store := w.importFork(t, nil)
		before := len(w.Records(store))
		job := mustEnd(t, s, mustAccepted(t, w, post(s, webtest.UploadOf(t, map[string]string{"format": "aaf"}, []string{"aaf/refused"}))).ID)
		rep := job.Report
		if job.State != directoryimport.JobRefused || job.Code != domain.CodeInvalid || job.Error == "" || rep == nil {
			t.Fatalf("refused job %+v", job)
		}
		if rep.Refused == "" || len(rep.Rejected) == 0 || rep.Rejected[0].File == "" || rep.Rejected[0].Line == 0 {
			t.Fatalf("refused report %+v", rep)
		}
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("a refused feed appended %d events", n)
		}
		// A truncated file too.
		job = mustEnd(t, s, mustAccepted(t, w, post(s, webtest.UploadOf(t, map[string]string{"format": "aaf"}, []string{"aaf/truncated"}))).ID)
		if job.State != directoryimport.JobRefused || job.Report == nil || job.Report.Refused == "" || len(w.Records(store)) != before {
			t.Fatalf("truncated: %+v", job)
		}
	})

	t.Run("idempotency key replays the job", func(t *testing.T) {
		t.Parallel()
		gate := webtest.NewGate()
		s, _, store := w.importFork(t, func(c *directoryimport.JobsConfig) { c.Locker, c.LockRetry = gate, webtest.GateRetry })
		before := len(w.Records(store))
		body := full(nil)
		first := mustAccepted(t, w, post(s, body, headerIdempotencyKey, "feed-2024-09-02"))

		// While it waits its turn: the status says so, and a retry
		// returns the live job, still 202.
		r := do(t, s, request{method: "GET", path: "/api/v1/imports/" + first.ID.String(), token: tokenOf(asAdmin)})
		if job := mustDecode[directoryimport.Job](t, r); r.status != http.StatusOK || job.State != directoryimport.JobQueued || r.header.Get("Retry-After") != "2" {
			t.Fatalf("queued status: %d %s %s", r.status, r.header.Get("Retry-After"), r.body)
		}
		r = post(s, body, headerIdempotencyKey, "feed-2024-09-02")
		if replay := mustDecode[directoryimport.Job](t, r); r.status != http.StatusAccepted || r.header.Get(headerReplayed) != "true" ||
			replay.ID != first.ID || !replay.State.Live() || r.header.Get("Location") != "/api/v1/imports/"+first.ID.String() {
			t.Fatalf("live replay: %d %v %s", r.status, r.header, r.body)
		}

		gate.Open()
		ended := mustEnd(t, s, first.ID)
		n := len(w.Records(store))
		if ended.State != directoryimport.JobDone || ended.Report.Events == 0 || n-before != ended.Report.Events {
			t.Fatalf("ended %+v, %d appended", ended, n-before)
		}
		// Once ended: 200, the same job with its report, nothing imported
		// again.
		r = post(s, body, headerIdempotencyKey, "feed-2024-09-02")
		replay := mustDecode[directoryimport.Job](t, r)
		if r.status != http.StatusOK || r.header.Get(headerReplayed) != "true" || replay.ID != first.ID ||
			replay.State != directoryimport.JobDone || replay.Report == nil || replay.Report.Events != ended.Report.Events ||
			r.header.Get("Location") != "/api/v1/imports/"+first.ID.String() {
			t.Fatalf("ended replay: %d %v %s", r.status, r.header, r.body)
		}
		if len(w.Records(store)) != n {
			t.Fatalf("the replay appended %d events", len(w.Records(store))-n)
		}
		// Another key is another job.
		other := mustAccepted(t, w, post(s, body, headerIdempotencyKey, "feed-2024-09-03"))
		if other.ID == first.ID {
			t.Fatal("two keys, one job")
		}
		mustProblem(t, post(s, body, headerIdempotencyKey, "a key\nwith a newline"), http.StatusBadRequest, "invalid-idempotency-key")
	})

	t.Run("failed: stopped before it ran, then no more jobs", func(t *testing.T) {
		t.Parallel()
		s, jobs, store := w.importFork(t, func(c *directoryimport.JobsConfig) { c.Locker, c.LockRetry = webtest.NewGate(), webtest.GateRetry })
		before := len(w.Records(store))
		started := mustAccepted(t, w, post(s, full(nil)))
		if err := jobs.Close(); err != nil {
			t.Fatal(err)
		}
		job := mustEnd(t, s, started.ID)
		if job.State != directoryimport.JobFailed || job.Error == "" || job.Report != nil {
			t.Fatalf("job of a stopped server %+v", job)
		}
		mustProblem(t, post(s, full(nil)), http.StatusServiceUnavailable, "imports-unavailable")
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("%d events appended", n)
		}
	})

	t.Run("bad uploads", func(t *testing.T) {
		t.Parallel()
		s, _, store := w.importFork(t, nil)
		before := len(w.Records(store))
		mustProblem(t, post(s, map[string]string{"format": "aaf"}), http.StatusUnsupportedMediaType, "multipart-required")
		mustProblem(t, post(s, webtest.UploadOf(t, map[string]string{"format": "xls"}, []string{"aaf/full"})), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, webtest.UploadOf(t, map[string]string{"format": "csv"}, []string{"csv/full/relatives.csv"})), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, webtest.UploadOf(t, map[string]string{"format": "aaf"}, nil)), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, full(map[string]string{"max_rejected": "150%"})), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, full(map[string]string{"mode": "sometimes"})), http.StatusBadRequest, "invalid-input")
		mustProblem(t, post(s, full(map[string]string{"dry_run": "perhaps"})), http.StatusBadRequest, "invalid-input")
		if n := len(w.Records(store)) - before; n != 0 {
			t.Fatalf("bad uploads appended %d events", n)
		}
	})

	t.Run("oversize: 413", func(t *testing.T) {
		t.Parallel()
		h, auth, store := w.Fork(t)
		s := w.serverWith(h, auth, store, func(c *Config) {
			c.Imports = w.Imports(h, store, func(ic *web.ImportsConfig) { ic.MaxBytes = 4 << 10 })
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
		t.Parallel()
		s, _, store := w.importFork(t, nil)
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

	t.Run("kept job of the world", func(t *testing.T) {
		t.Parallel()
		r := do(t, w.srv, request{method: "GET", path: "/api/v1/imports/" + webtest.KeptImportID.String(), token: tokenOf(asAdmin)})
		job := mustDecode[directoryimport.Job](t, r)
		if r.status != http.StatusOK || r.header.Get("Retry-After") != "" || job.State != directoryimport.JobDone ||
			job.Report == nil || job.Report.Events != 2 || job.Report.Rejected[0].Line != 3 {
			t.Fatalf("kept job: %d %s", r.status, r.body)
		}
	})
}

// TestImportOpenAPI: the upload is described as multipart/form-data,
// answered with the job; its status URL answers with the job too.
func TestImportOpenAPI(t *testing.T) {
	w := newWorld(t)
	doc, err := w.srv.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	type operation struct {
		RequestBody struct {
			Content map[string]json.RawMessage `json:"content"`
		} `json:"requestBody"`
		Responses map[string]json.RawMessage `json:"responses"`
	}
	var d struct {
		Paths map[string]map[string]operation `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	op := d.Paths["/api/v1/imports"]["post"]
	if _, ok := op.RequestBody.Content["multipart/form-data"]; !ok {
		t.Fatalf("request body %v", op.RequestBody.Content)
	}
	for _, code := range []string{"200", "202", "403", "413", "415"} {
		if _, ok := op.Responses[code]; !ok {
			t.Errorf("no %s response", code)
		}
	}
	for _, code := range []string{"200", "202"} {
		if !strings.Contains(string(op.Responses[code]), "#/components/schemas/Job") {
			t.Errorf("%s is not the job: %s", code, op.Responses[code])
		}
	}
	if _, ok := op.Responses["201"]; ok {
		t.Error("the upload still answers 201")
	}
	get, ok := d.Paths["/api/v1/imports/{correlation}"]["get"]
	if !ok {
		t.Fatal("no GET /api/v1/imports/{correlation}")
	}
	if !strings.Contains(string(get.Responses["200"]), "#/components/schemas/Job") {
		t.Errorf("the status is not the job: %s", get.Responses["200"])
	}
}

// A feed the guards refuse ends refused, its report saying which guard
// and why; sent again with force, it is imported and the log says it was
// forced.
func TestImportAPIGuards(t *testing.T) {
	w := newWorld(t)
	s, _, store := w.importFork(t, nil)
	before := len(w.Records(store))
	body := func(force string) webtest.MultipartBody {
		return webtest.UploadOf(t, map[string]string{"format": "csv", "profile": "student", "force": force}, nil,
			"eleves.csv", "id;uai;last_name;first_name\nX01;0990001Z;Lenoir;Ada\nX02;0990001Z;Leblanc;Léon\n")
	}
	r := do(t, s, request{method: "POST", path: "/api/v1/imports", body: body("false"), token: tokenOf(asAdmin)})
	job := mustEnd(t, s, mustAccepted(t, w, r).ID)
	rep := job.Report
	if job.State != directoryimport.JobRefused || job.Code != domain.CodeInvalid || rep == nil || len(rep.Guards) != 1 ||
		rep.Guards[0].Kind != directoryimport.GuardSkipped || rep.Guards[0].Count != 2 || rep.Guards[0].Forced {
		t.Fatalf("refused job %+v, report %+v", job, rep)
	}
	if f := rep.Files[0]; f.Persons != 2 || f.Skipped != 2 || len(f.Reasons) != 1 || f.Reasons[0].Code != directoryimport.ReasonUnregistered {
		t.Fatalf("file %+v", f)
	}
	if n := len(importRecords(w, store, before)); n != 0 {
		t.Fatalf("a refused upload appended %d events", n)
	}

	r = do(t, s, request{method: "POST", path: "/api/v1/imports", body: body("true"), token: tokenOf(asAdmin)})
	job = mustEnd(t, s, mustAccepted(t, w, r).ID)
	recs := importRecords(w, store, before)
	if job.State != directoryimport.JobDone || !job.Report.Force || !job.Report.Guards[0].Forced || len(recs) != 1 ||
		recs[0].Type != "import.forced.v1" || recs[0].Metadata.Actor != w.Accounts[asAdmin] || recs[0].Metadata.CorrelationID != job.ID {
		t.Fatalf("forced job %+v, records %+v", job, recs)
	}
	mustProblem(t, do(t, s, request{method: "POST", path: "/api/v1/imports", body: body("maybe"), token: tokenOf(asAdmin)}),
		http.StatusBadRequest, "invalid-input")
}

// An école's ONDE extraction is uploaded with the école's UAI; without it,
// nothing starts.
func TestImportAPIONDE(t *testing.T) {
	w := newWorld(t)
	s, _, store := w.importFork(t, nil)
	before := len(w.Records(store))
	upload := func(fields map[string]string) response {
		return do(t, s, request{method: "POST", path: "/api/v1/imports", token: tokenOf(asAdmin),
			body: webtest.UploadOf(t, fields, []string{"onde/ecole"})})
	}
	mustProblem(t, upload(map[string]string{"format": "onde"}), http.StatusBadRequest, "invalid-input")
	job := mustEnd(t, s, mustAccepted(t, w, upload(map[string]string{"format": "onde", "uai": strings.ToLower(w.UAI)})).ID)
	rep := job.Report
	if job.State != directoryimport.JobDone || rep == nil || rep.Applied[directoryimport.OpenAccount] != 12 ||
		rep.Applied[directoryimport.LinkRelative] != 6 || len(importRecords(w, store, before)) != 29 {
		t.Fatalf("job %+v, report %+v", job, rep)
	}
	for _, f := range rep.Files {
		if f.Format != directoryimport.FormatONDE || f.Encoding != "ISO-8859-1" {
			t.Errorf("file %+v", f)
		}
	}
}
