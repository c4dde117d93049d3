package http

import (
	"net/http"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) officeRoutes() []route {
	return []route{{
		method: "GET", path: "/api/v1/office", tag: "office", status: http.StatusOK,
		summary:  "The school-life office of an establishment today: absences, lateness, absences awaiting a decision, missing roll calls",
		profiles: "personnel of the establishment (head, CPE, vie scolaire); habilitated inspectors",
		response: typeOf[projections.Office](),
		query:    []param{{name: "uai", format: "uai", doc: "the establishment (default: the reader's own)"}},
		handle: func(w http.ResponseWriter, r *http.Request) error {
			q := s.query(r)
			uai := q.uai("uai")
			if q.err != nil {
				return q.err
			}
			p := principalOf(r)
			if uai == "" {
				uai = p.actor.Establishment
			}
			if uai == "" {
				return domain.Errorf(domain.ErrInvalid, "uai is required")
			}
			if err := mayReadOffice(p, uai); err != nil {
				return err
			}
			o, err := s.cfg.Queries.Office(r.Context(), uai, s.now())
			if err != nil {
				return err
			}
			return reply(w, http.StatusOK, o)
		},
	}}
}
