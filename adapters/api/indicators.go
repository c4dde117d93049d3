package api

import (
	"net/http"
	"strconv"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) indicatorRoutes() []route {
	return []route{{
		method: "GET", path: "/api/v1/indicators", tag: "indicators", status: http.StatusOK,
		summary:  "Usage indicators over a period, per period and scope: accounts, groups, connections by profile, school-life acts, messages, contributions, homework (aggregates only)",
		profiles: "evaluators; global admins",
		response: typeOf[[]projections.IndicatorRow](), paged: true,
		query: []param{
			{name: "from", format: "date", required: true, doc: "first day counted"},
			{name: "to", format: "date", required: true, doc: "last day counted"},
			{name: "establishment", format: "uai", doc: "only this establishment"},
			{name: "departement", format: "string", doc: "only this département (code)"},
			{name: "granularity", format: "day,week,month,schoolyear,total", doc: "period length (default total)"},
			{name: "by", format: "all,departement,establishment", doc: "breakdown of the rows (default: the narrowest filter given)"},
			{name: "after", format: "cursor", doc: "the page of the scopes after those of the page whose Link header named this cursor " +
				"(a page holds every period of as many scopes as " + strconv.Itoa(projections.MaxIndicatorRows) + " rows allow)"},
		},
		handle: func(w http.ResponseWriter, r *http.Request) error {
			q := s.dec.Query(r)
			iq := projections.IndicatorQuery{
				From: q.Date("from"), To: q.Date("to"), Establishment: q.UAI("establishment"),
				Departement: q.Str("departement"), Granularity: projections.Granularity(q.Str("granularity")),
				By: projections.Level(q.Str("by")),
			}
			after := q.Cursor("after")
			if q.Err() != nil {
				return q.Err()
			}
			if err := web.MayReadIndicators(web.PrincipalOf(r)); err != nil {
				return err
			}
			rows, err := s.cfg.Queries.Indicators(r.Context(), iq, after)
			if err != nil {
				return err
			}
			projections.SuppressSmallCounts(rows.Items, s.cfg.SmallCount)
			return replyPage(w, r, rows)
		},
	}}
}
