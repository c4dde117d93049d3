package api

import (
	"io"
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// defaultHistoryLimit is the size of a history page unless asked.
const defaultHistoryLimit = 200

func (s *Server) auditRoutes() []route {
	const inspectors = "inspectors habilitated for the establishment"
	return []route{
		{
			method: "GET", path: "/api/v1/history/{subject}", tag: "audit", status: http.StatusOK,
			summary:  "The history of a student, account, group or resource: every event about it or by it, in log order, with who, when, which command and correlation",
			profiles: inspectors + " of the subject",
			response: typeOf[[]projections.AuditEntry](), paged: true,
			query: []param{
				{name: "types", format: "list", doc: "event wire names to keep, comma-separated"},
				{name: "from", format: "instant", doc: "events at or after, RFC 3339 or a date"},
				{name: "to", format: "instant", doc: "events before, RFC 3339 or a date (its midnight)"},
				{name: "actor", format: "uuid", doc: "only what this account did"},
				{name: "after", format: "position", doc: "the page after this position (the last one of the previous page, which its Link header names)"},
				{name: "limit", format: "integer", doc: "at most this many (default 200, at most 1000)"},
			},
			handle: s.getHistory,
		},
		{
			method: "GET", path: "/api/v1/students/{student}/file/as-of", tag: "audit", status: http.StatusOK,
			summary:  "A student's whole file as it stood at a past moment, replayed from its history",
			profiles: inspectors + " of the student",
			response: typeOf[projections.StudentFile](), paged: true,
			query: []param{
				{name: "at", format: "instant", required: true, doc: "the moment, RFC 3339, or a date meaning the end of that day"},
				{name: "from", format: "date", doc: "first day (default: the file's beginning); a file cut short names the next in its Link header"},
			},
			handle: s.getFileAsOf,
		},
		{
			method: "GET", path: "/api/v1/establishments/{uai}/export", tag: "audit", status: http.StatusOK,
			summary:   "Export an establishment's history from the log itself, as JSON Lines (one event per line), streamed",
			profiles:  inspectors,
			response:  typeOf[projections.ExportedEvent](),
			mediaType: "application/x-ndjson", timeout: web.TimeoutLong,
			query: []param{
				{name: "from", format: "instant", doc: "events at or after, RFC 3339 or a date"},
				{name: "to", format: "instant", doc: "events before, RFC 3339 or a date (its midnight)"},
			},
			handle: s.getExport,
		},
	}
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) error {
	q := s.dec.Query(r)
	f := projections.HistoryFilter{
		Types: q.List("types"), From: q.Instant("from", false), To: q.Instant("to", false),
		Actor: q.ID("actor"), After: q.Position("after"), Limit: q.LimitIn(defaultHistoryLimit, web.MaxHistoryLimit),
	}
	if q.Err() != nil {
		return q.Err()
	}
	subject, err := web.PathID(r, "subject")
	if err != nil {
		return err
	}
	p := web.PrincipalOf(r)
	if p.Actor().Profile != domain.ProfileInspector {
		return domain.Errorf(domain.ErrForbidden, "only inspectors read histories")
	}
	uai, err := web.SubjectEstablishment(r.Context(), s.cfg.Queries, p, subject)
	if err != nil {
		return err
	}
	if err := web.MayAudit(p, uai); err != nil {
		return err
	}
	h, err := s.cfg.Queries.History(r.Context(), subject, f)
	if err != nil {
		return err
	}
	if acc, err := s.cfg.Queries.Account(r.Context(), subject); err == nil && acc.Profile == domain.ProfileStudent {
		s.cfg.Trail.ReadStudent(p, uai, subject, domain.ConsultHistory)
	}
	return replyPage(w, r, h)
}

func (s *Server) getFileAsOf(w http.ResponseWriter, r *http.Request) error {
	q := s.dec.Query(r)
	at, from := q.Instant("at", true), q.Date("from")
	if q.Err() != nil {
		return q.Err()
	}
	if at.IsZero() {
		return web.ErrInvalidQuery.With("at is required")
	}
	student, err := web.PathStudent(r, s.cfg.Queries)
	if err != nil {
		return err
	}
	if err := web.MayAudit(web.PrincipalOf(r), student.Establishment); err != nil {
		return err
	}
	f, err := s.cfg.Queries.StudentFileAsOf(r.Context(), student.ID, at, from)
	if err != nil {
		return err
	}
	s.cfg.Trail.ReadStudent(web.PrincipalOf(r), student.Establishment, student.ID, domain.ConsultFileAsOf)
	return replyFile(w, r, f)
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request) error {
	q := s.dec.Query(r)
	from, to := q.Instant("from", false), q.Instant("to", false)
	if q.Err() != nil {
		return q.Err()
	}
	uai, err := web.PathUAI(r, "uai")
	if err != nil {
		return err
	}
	if err := web.MayAudit(web.PrincipalOf(r), uai); err != nil {
		return err
	}
	s.cfg.Trail.ReadEstablishment(web.PrincipalOf(r), uai)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="`+uai+`.jsonl"`)
	cw := &countingWriter{w: w, rc: http.NewResponseController(w)}
	err = s.cfg.Queries.ExportEstablishment(r.Context(), cw, uai, from, to)
	if err == nil && cw.n == 0 {
		w.WriteHeader(http.StatusOK) // an empty export
	}
	if err != nil && cw.n > 0 {
		// The status is sent: cut the stream so that the client sees it
		// is incomplete rather than a short, valid-looking export.
		s.log.ErrorContext(r.Context(), "export failed mid-stream", "uai", uai, "bytes", cw.n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

// countingWriter counts the bytes written through it, and flushes the
// response they go to (a projections.Flusher).
type countingWriter struct {
	w  io.Writer
	rc *http.ResponseController
	n  int64
}

func (c *countingWriter) Flush() error { return c.rc.Flush() }

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
