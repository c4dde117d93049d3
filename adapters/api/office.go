package api

import (
	"net/http"
	"strconv"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) officeRoutes() []route {
	return []route{{
		method: "GET", path: "/api/v1/office", tag: "office", status: http.StatusOK,
		summary:  "The school-life office of an establishment today: absences, lateness, absences awaiting a decision, missing roll calls",
		profiles: "personnel of the establishment (head, CPE, vie scolaire); habilitated inspectors",
		response: typeOf[projections.Office](), paged: true,
		query: append([]param{{name: "uai", format: "uai", doc: "the establishment (default: the reader's own)"}},
			param{name: "limit", format: "integer", doc: "at most this many absences awaiting a decision (default and most " + strconv.Itoa(web.MaxListLimit) + ")"},
			param{name: "after", format: "cursor", doc: "the page of absences awaiting a decision after the one whose Link header named this cursor"}),
		handle: func(w http.ResponseWriter, r *http.Request) error {
			q := s.dec.Query(r)
			uai := q.UAI("uai")
			page := listPage(q)
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
			o, err := s.cfg.Queries.Office(r.Context(), uai, s.now(), page)
			if err != nil {
				return err
			}
			web.SetNext(w, r, o.AwaitingNext())
			return reply(w, http.StatusOK, o)
		},
	}}
}
