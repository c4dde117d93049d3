package http

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Limits of a history page.
const (
	defaultHistoryLimit = 200
	maxHistoryLimit     = 1000
)

// exportWriteTimeout is how long an export may take to stream, beyond the
// server's write timeout.
const exportWriteTimeout = 30 * time.Minute

func (s *Server) auditRoutes() []route {
	const inspectors = "inspectors habilitated for the establishment"
	return []route{
		{
			method: "GET", path: "/api/v1/history/{subject}", tag: "audit", status: http.StatusOK,
			summary:  "The history of a student, account, group or resource: every event about it or by it, in log order, with who, when, which command and correlation",
			profiles: inspectors + " of the subject",
			response: typeOf[[]projections.AuditEntry](),
			query: []param{
				{name: "types", format: "list", doc: "event wire names to keep, comma-separated"},
				{name: "from", format: "instant", doc: "events at or after, RFC 3339 or a date"},
				{name: "to", format: "instant", doc: "events before, RFC 3339 or a date (its midnight)"},
				{name: "actor", format: "uuid", doc: "only what this account did"},
				{name: "after", format: "position", doc: "the page after this position (the last one of the previous page)"},
				{name: "limit", format: "integer", doc: "at most this many (default 200, at most 1000)"},
			},
			handle: s.getHistory,
		},
		{
			method: "GET", path: "/api/v1/students/{student}/file/as-of", tag: "audit", status: http.StatusOK,
			summary:  "A student's whole file as it stood at a past moment, replayed from its history",
			profiles: inspectors + " of the student",
			response: typeOf[projections.StudentFile](),
			query: []param{{name: "at", format: "instant", required: true,
				doc: "the moment, RFC 3339, or a date meaning the end of that day"}},
			handle: s.getFileAsOf,
		},
		{
			method: "GET", path: "/api/v1/establishments/{uai}/export", tag: "audit", status: http.StatusOK,
			summary:   "Export an establishment's history from the log itself, as JSON Lines (one event per line), streamed",
			profiles:  inspectors,
			response:  typeOf[projections.ExportedEvent](),
			mediaType: "application/x-ndjson",
			query: []param{
				{name: "from", format: "instant", doc: "events at or after, RFC 3339 or a date"},
				{name: "to", format: "instant", doc: "events before, RFC 3339 or a date (its midnight)"},
			},
			handle: s.getExport,
		},
	}
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	f := projections.HistoryFilter{
		Types: q.list("types"), From: q.instant("from", false), To: q.instant("to", false),
		Actor: q.id("actor"), After: q.position("after"), Limit: q.limitIn(defaultHistoryLimit, maxHistoryLimit),
	}
	if q.err != nil {
		return q.err
	}
	subject, err := pathID(r, "subject")
	if err != nil {
		return err
	}
	p := principalOf(r)
	if p.actor.Profile != domain.ProfileInspector {
		return forbidden("only inspectors read histories")
	}
	uai, err := s.subjectEstablishment(r.Context(), p, subject)
	if err != nil {
		return err
	}
	if err := mayAudit(p, uai); err != nil {
		return err
	}
	h, err := s.cfg.Queries.History(r.Context(), subject, f)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, h)
}

// subjectEstablishment returns the establishment a history's subject
// belongs to: an account's, a group's, or a resource's.
func (s *Server) subjectEstablishment(ctx context.Context, p *principal, subject uuid.UUID) (string, error) {
	acc, err := s.cfg.Queries.Account(ctx, subject)
	if err == nil {
		return acc.Establishment, nil
	}
	if !errors.Is(err, domain.ErrUnknownAccount) {
		return "", err
	}
	g, err := s.cfg.Queries.Group(ctx, subject)
	if err == nil {
		return g.Establishment, nil
	}
	if !errors.Is(err, domain.ErrUnknownGroup) {
		return "", err
	}
	uai, err := s.resourceEstablishment(ctx, p, subject)
	if errors.Is(err, domain.ErrUnknownResource) {
		return "", domain.Errorf(domain.ErrNotFound, "no account, group or resource %s", subject)
	}
	return uai, err
}

func (s *Server) getFileAsOf(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	at := q.instant("at", true)
	if q.err != nil {
		return q.err
	}
	if at.IsZero() {
		return errInvalidQuery.with("at is required")
	}
	student, err := s.student(r)
	if err != nil {
		return err
	}
	if err := mayAudit(principalOf(r), student.Establishment); err != nil {
		return err
	}
	f, err := s.cfg.Queries.StudentFileAsOf(r.Context(), student.ID, at)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, f)
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	from, to := q.instant("from", false), q.instant("to", false)
	if q.err != nil {
		return q.err
	}
	uai, err := pathUAI(r, "uai")
	if err != nil {
		return err
	}
	if err := mayAudit(principalOf(r), uai); err != nil {
		return err
	}
	// A large export outlasts the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="`+uai+`.jsonl"`)
	cw := &countingWriter{w: w}
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

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
