package api

import (
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) consultationRoutes() []route {
	return []route{{
		method: "GET", path: "/api/v1/establishments/{uai}/consultations", tag: "audit", status: http.StatusOK,
		summary: "The consultation trail: who (teachers, personnel, inspectors) read which student's file, what, when and how often, " +
			"the most recent first; written by each node every minute and at shutdown",
		profiles: "the head and deputies of the establishment",
		response: typeOf[[]projections.ConsultationEntry](), paged: true,
		query: append([]param{
			{name: "student", format: "uuid", doc: "only the reads of this student's file (and the exports of the establishment)"},
			{name: "from", format: "instant", doc: "entries last read at or after, RFC 3339 or a date"},
			{name: "to", format: "instant", doc: "entries last read before, RFC 3339 or a date (its midnight)"},
		}, listParams(web.MaxListLimit)...),
		handle: func(w http.ResponseWriter, r *http.Request) error {
			q := s.dec.Query(r)
			f := projections.ConsultationFilter{Student: q.ID("student"), From: q.Instant("from", false), To: q.Instant("to", false)}
			page := listPage(q)
			if q.Err() != nil {
				return q.Err()
			}
			uai, err := web.PathUAI(r, "uai")
			if err != nil {
				return err
			}
			if err := web.MayReadConsultations(web.PrincipalOf(r), uai); err != nil {
				return err
			}
			l, err := s.cfg.Queries.Consultations(r.Context(), uai, f, page)
			if err != nil {
				return err
			}
			return replyPage(w, r, l)
		},
	}}
}
