package api

import (
	"cmp"
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

func (s *Server) privacyRoutes() []route {
	return []route{
		{
			method: "GET", path: "/api/v1/accounts/{account}/export", tag: "privacy", status: http.StatusOK,
			summary: "Everything the ledger holds about a person (GDPR art. 15 and 20): their directory entry, current file and every event of the log about them, " +
				"as one JSON document or a readable French HTML summary, streamed; each export is recorded (privacy.data_exported.v1)",
			profiles:  "the person, a legal guardian of theirs, an administrator of their establishment",
			mediaType: "application/json", timeout: web.TimeoutLong,
			query: []param{
				{name: "format", format: "string", doc: "json (the archive, default) or html (the summary)"},
			},
			handle: s.getAccountExport,
		},
	}
}

func (s *Server) getAccountExport(w http.ResponseWriter, r *http.Request) error {
	q := s.dec.Query(r)
	format := domain.ExportFormat(cmp.Or(q.Str("format"), string(domain.ExportJSON)))
	if q.Err() != nil {
		return q.Err()
	}
	if !format.Valid() {
		return web.ErrInvalidQuery.With("format is json or html")
	}
	subject, err := web.PathID(r, "account")
	if err != nil {
		return err
	}
	if s.cfg.Exports == nil {
		return domain.Errorf(domain.ErrNotFound, "exports are not served here")
	}
	req, err := commandRequest(r)
	if err != nil {
		return err
	}
	ext, ctype := ".json", "application/json"
	if format == domain.ExportHTML {
		ext, ctype = ".html", "text/html; charset=utf-8"
	}
	cw := &countingWriter{w: w, rc: http.NewResponseController(w)}
	// The headers are set once the export is recorded, by the first write.
	hw := &headerWriter{countingWriter: cw, set: func() {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", `attachment; filename="`+subject.String()+ext+`"`)
	}}
	err = s.cfg.Exports.Export(r.Context(), hw, req, subject, format)
	if err != nil && cw.n > 0 {
		s.log.ErrorContext(r.Context(), "export failed mid-stream", "subject", subject, "bytes", cw.n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

// headerWriter sets the response's headers before its first write.
type headerWriter struct {
	*countingWriter
	set  func()
	done bool
}

func (h *headerWriter) Write(p []byte) (int, error) {
	if !h.done {
		h.set()
		h.done = true
	}
	return h.countingWriter.Write(p)
}
