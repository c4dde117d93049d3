package api

// Directory imports uploaded by administrators: POST /api/v1/imports takes
// the feed's files as multipart/form-data and starts an import job as the
// signed-in administrator; it answers at once, 202 with the job and its
// status URL, which GET /api/v1/imports/{correlation} reads (the job's
// progress while it runs, its report once it ended). web.Imports reads the
// upload, directoryimport's Jobs run the imports and keep their reports.

import (
	"net/http"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/web"
)

// importForm lists the upload's fields, for the document.
var importForm = []param{
	{name: "file", format: "binary", required: true, doc: "a file of the feed; repeat the part for each file (AAF: the feed's XML files, CSV: the export, ONDE: the école's extraction files)"},
	{name: "format", format: "aaf,csv,onde", required: true, doc: "the files' format"},
	{name: "profile", format: "student,relative,teacher,personnel", doc: "CSV: the profile of the file's persons"},
	{name: "uai", format: "string", doc: "ONDE: the UAI of the école the extraction is from"},
	{name: "encoding", format: "string", doc: "CSV, ONDE: the files' encoding: UTF-8 (CSV's default; a UTF-8 BOM is honoured), ISO-8859-1 (ONDE's default), ISO-8859-15 or windows-1252; bytes that do not match it refuse the import"},
	{name: "mode", format: "auto,full,delta", doc: "full, delta, or auto (AAF: from the ENT_Complet_/ENT_Delta_ file names; CSV: full)"},
	{name: "dry_run", format: "boolean", doc: "compute and report the changes, write nothing"},
	{name: "max_rejected", format: "string", doc: "refuse the whole feed above this share of malformed records (of the feed, or of one file): 5% or 0.05 (default: the server's, 5%)"},
	{name: "max_skipped", format: "string", doc: "refuse the feed above this share of people left out (of the feed, or of one file): 5% or 0.05 (default: the server's, 5%)"},
	{name: "max_changes", format: "string", doc: "refuse the feed above this share of existing accounts renamed, flagged missing or closed: 10% or 0.1 (default: the server's, 10%)"},
	{name: "force", format: "boolean", doc: "import a feed the guards refuse (people left out, mass changes, missing part files, encodings); the import's events then start with import.forced.v1"},
}

// importPollSeconds is the Retry-After of a live job's status: how often a
// client had better poll it (the job writes its progress every 2 s).
const importPollSeconds = "2"

func (s *Server) importRoutes() []route {
	if s.cfg.Imports == nil {
		return nil
	}
	return []route{
		{
			method: "POST", path: "/api/v1/imports", tag: "directory", status: http.StatusAccepted,
			summary: "Start importing a directory feed (AAF XML files or a CSV export) as the signed-in administrator, in the background: " +
				"answers 202 at once with the job (queued) and its status URL in Location; only changes are written, under the job's id " +
				"as correlation id. An Idempotency-Key makes the job's id: a retry returns the same job (Idempotent-Replayed: true; " +
				"202 while it runs, 200 once it ended) and imports nothing again",
			profiles: "administrators of every establishment the feed changes",
			form:     importForm, response: typeOf[directoryimport.Job](),
			// A large feed over a slow line.
			timeout: web.TimeoutLong,
			others:  []int{http.StatusOK},
			handle:  s.postImport,
		},
		{
			method: "GET", path: "/api/v1/imports/{correlation}", tag: "directory", status: http.StatusOK,
			summary: "A directory import job, by its id (the import's correlation id): its state (queued, running; then done, refused " +
				"whole with nothing written, or failed midway: start it again to finish it), its progress, and once ended its report. " +
				"While it runs, Retry-After says when to ask again",
			profiles: "the administrator who imported, administrators and habilitated inspectors of every establishment of the feed",
			response: typeOf[directoryimport.Job](),
			handle:   s.getImport,
		},
	}
}

func (s *Server) postImport(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalOf(r)
	if err := web.MayImport(p); err != nil {
		return err
	}
	var key string
	if vs, ok := r.Header[headerIdempotencyKey]; ok {
		if key = vs[0]; len(vs) > 1 || !web.ValidIdempotencyKey(key) {
			return web.ErrInvalidHeader.With("one key of 1 to %d visible ASCII characters", web.MaxIdempotencyKey)
		}
	}
	u, err := s.cfg.Imports.ReadUpload(w, r)
	if err != nil {
		return err
	}
	defer u.Cleanup() // unless the job took the files
	job, replayed, err := s.cfg.Imports.StartImport(r.Context(), p, u, key)
	if err != nil {
		return err
	}
	w.Header().Set("Location", importURL(job))
	status := http.StatusAccepted
	if replayed {
		w.Header().Set(headerReplayed, "true")
		if !job.State.Live() {
			status = http.StatusOK
		}
	}
	return reply(w, status, job)
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "correlation")
	if err != nil {
		return err
	}
	job, err := s.cfg.Imports.ImportStatus(r.Context(), web.PrincipalOf(r), id)
	if err != nil {
		return err
	}
	if job.State.Live() {
		w.Header().Set("Retry-After", importPollSeconds)
	}
	return reply(w, http.StatusOK, job)
}

// importURL is the status URL of a job.
func importURL(job *directoryimport.Job) string { return "/api/v1/imports/" + job.ID.String() }
