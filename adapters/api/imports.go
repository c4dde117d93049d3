package api

// Directory imports uploaded by administrators: POST /api/v1/imports takes
// the feed's files as multipart/form-data, runs the import as the
// signed-in administrator and answers with its report; GET reads a kept
// report back by correlation id. web.Imports reads the upload and keeps
// the reports, for the portal's import page too.

import (
	"net/http"
	"time"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/web"
)

// importForm lists the upload's fields, for the document.
var importForm = []param{
	{name: "file", format: "binary", required: true, doc: "a file of the feed; repeat the part for each file (AAF: the feed's XML files, CSV: the export)"},
	{name: "format", format: "aaf,csv", required: true, doc: "the files' format"},
	{name: "profile", format: "student,relative,teacher,personnel", doc: "CSV: the profile of the file's persons"},
	{name: "encoding", format: "string", doc: "CSV: the files' encoding (UTF-8 by default; ISO-8859-15, ISO-8859-1, windows-1252)"},
	{name: "mode", format: "auto,full,delta", doc: "full, delta, or auto (AAF: from the ENT_Complet_/ENT_Delta_ file names; CSV: full)"},
	{name: "dry_run", format: "boolean", doc: "compute and report the changes, write nothing"},
	{name: "max_rejected", format: "string", doc: "refuse the whole feed above this share of malformed records: 5% or 0.05 (default 5%)"},
}

func (s *Server) importRoutes() []route {
	if s.cfg.Imports == nil {
		return nil
	}
	return []route{
		{
			method: "POST", path: "/api/v1/imports", tag: "directory", status: http.StatusCreated,
			summary: "Import a directory feed (AAF XML files or a CSV export) as the signed-in administrator: only changes are written, " +
				"under one correlation id; answers with the report (201 applied, 200 dry run, 422 refused whole: nothing written)",
			profiles: "administrators of every establishment the feed changes",
			form:     importForm, response: typeOf[directoryimport.Report](),
			others: []int{http.StatusOK, http.StatusUnprocessableEntity},
			handle: s.postImport,
		},
		{
			method: "GET", path: "/api/v1/imports/{correlation}", tag: "directory", status: http.StatusOK,
			summary:  "The kept report of a directory import, by its correlation id",
			profiles: "the administrator who imported, administrators and habilitated inspectors of every establishment of the feed",
			response: typeOf[web.ImportReport](),
			handle:   s.getImport,
		},
	}
}

func (s *Server) postImport(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalOf(r)
	if err := web.MayImport(p); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(web.ImportTimeout)) // not every writer supports it
	u, err := s.cfg.Imports.ReadUpload(w, r)
	if err != nil {
		return err
	}
	defer u.Cleanup()
	var key string
	if vs, ok := r.Header[headerIdempotencyKey]; ok {
		if key = vs[0]; len(vs) > 1 || !web.ValidIdempotencyKey(key) {
			return web.ErrInvalidHeader.With("one key of 1 to %d visible ASCII characters", web.MaxIdempotencyKey)
		}
	}
	_ = rc.SetWriteDeadline(time.Now().Add(web.ImportTimeout))
	rep, replayed, err := s.cfg.Imports.RunImport(r.Context(), p, u, key)
	if rep == nil {
		return err
	}
	if replayed {
		w.Header().Set(headerReplayed, "true")
	}
	return reply(w, importStatus(rep), rep)
}

// importStatus is the status of an import's response.
func importStatus(rep *directoryimport.Report) int {
	switch {
	case rep.Refused != "":
		return http.StatusUnprocessableEntity
	case rep.DryRun:
		return http.StatusOK
	}
	return http.StatusCreated
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "correlation")
	if err != nil {
		return err
	}
	kept, err := s.cfg.Imports.KeptImport(r.Context(), id)
	if err != nil {
		return err
	}
	if err := web.MayReadImport(web.PrincipalOf(r), kept.Report); err != nil {
		return err
	}
	return reply(w, http.StatusOK, kept)
}
