package api

import (
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
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
			q := s.dec.Query(r)
			uai := q.UAI("uai")
			if q.Err() != nil {
				return q.Err()
			}
			p := web.PrincipalOf(r)
			if uai == "" {
				uai = p.Actor().Establishment
			}
			if uai == "" {
				return domain.Errorf(domain.ErrInvalid, "uai is required")
			}
			if err := web.MayReadOffice(p, uai); err != nil {
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
