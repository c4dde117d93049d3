package http

import (
	"net/http"

	"github.com/schoollife/ledger/projections"
)

func (s *Server) indicatorRoutes() []route {
	return []route{{
		method: "GET", path: "/api/v1/indicators", tag: "indicators", status: http.StatusOK,
		summary:  "Usage indicators over a period, per period and scope: accounts, groups, connections by profile, school-life acts, messages, contributions, homework (aggregates only)",
		profiles: "evaluators; global admins",
		response: typeOf[[]projections.IndicatorRow](),
		query: []param{
			{name: "from", format: "date", required: true, doc: "first day counted"},
			{name: "to", format: "date", required: true, doc: "last day counted"},
			{name: "establishment", format: "uai", doc: "only this establishment"},
			{name: "departement", format: "string", doc: "only this département (code)"},
			{name: "granularity", format: "day,week,month,schoolyear,total", doc: "period length (default total)"},
			{name: "by", format: "all,departement,establishment", doc: "breakdown of the rows (default: the narrowest filter given)"},
		},
		handle: func(w http.ResponseWriter, r *http.Request) error {
			q := s.query(r)
			iq := projections.IndicatorQuery{
				From: q.date("from"), To: q.date("to"), Establishment: q.uai("establishment"),
				Departement: q.str("departement"), Granularity: projections.Granularity(q.str("granularity")),
				By: projections.Level(q.str("by")),
			}
			if q.err != nil {
				return q.err
			}
			if err := mayReadIndicators(principalOf(r)); err != nil {
				return err
			}
			rows, err := s.cfg.Queries.Indicators(r.Context(), iq)
			if err != nil {
				return err
			}
			return reply(w, http.StatusOK, rows)
		},
	}}
}
