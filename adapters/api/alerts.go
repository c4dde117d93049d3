package api

import (
	"net/http"
	"strconv"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) alertRoutes() []route {
	h := s.cfg.Commands
	const office = "personnel of the establishment (head, CPE, vie scolaire); habilitated inspectors"
	return []route{
		{
			method: "GET", path: "/api/v1/establishments/{uai}/alerts", tag: "office", status: http.StatusOK,
			summary: "The establishment's alerts: unjustified half-days of absence in a month, lateness in a period, " +
				"lessons ended without a roll call; open ones first, then handled ones with who handled them and how",
			profiles: office, response: typeOf[[]projections.AlertEntry](),
			query: []param{{name: "open", format: "boolean", doc: "true: the open alerts only"}},
			handle: func(w http.ResponseWriter, r *http.Request) error {
				uai, err := web.PathUAI(r, "uai")
				if err != nil {
					return err
				}
				q := s.dec.Query(r)
				var open bool
				switch q.Str("open") {
				case "", "false":
				case "true":
					open = true
				default:
					q.Fail("open", "true or false")
				}
				if q.Err() != nil {
					return q.Err()
				}
				if err := web.MayReadOffice(web.PrincipalOf(r), uai); err != nil {
					return err
				}
				list, err := s.cfg.Queries.Alerts(r.Context(), uai, open)
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, list)
			},
		},
		commandRoute(s, cmd[domain.HandleAlert]{
			method: "POST", path: "/api/v1/alerts/{alert}/handling", tag: "office", status: http.StatusOK,
			summary: "Record how an open alert was handled (appel à la famille, courrier, convocation, signalement au DASEN...); " +
				"the signed-in account is who handled it",
			profiles: "personnel of the alert's establishment",
			fill:     func(r *http.Request, c *domain.HandleAlert) error { return web.SetPathID(r, "alert", &c.Alert) },
			run:      h.HandleAlert,
		}),
		{
			method: "GET", path: "/api/v1/establishments/{uai}/alert-settings", tag: "office", status: http.StatusOK,
			summary:  "The establishment's alert thresholds (the defaults until the head sets them)",
			profiles: office, response: typeOf[domain.AlertSettings](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				uai, err := web.PathUAI(r, "uai")
				if err != nil {
					return err
				}
				if err := web.MayReadOffice(web.PrincipalOf(r), uai); err != nil {
					return err
				}
				set, err := h.AlertSettings(r.Context(), uai)
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, set)
			},
		},
		{
			method: "GET", path: "/api/v1/establishments/{uai}/letter-candidates", tag: "office", status: http.StatusOK,
			summary: "The students with unjustified absences in a period, for letters to their families: their unjustified " +
				"half-days (by the establishment's rule), their absences, their legal guardians and the letters sent so far",
			profiles: office, response: typeOf[[]projections.LetterCandidate](),
			query: []param{
				{name: "from", format: "date", doc: "the period's first day (required)"},
				{name: "to", format: "date", doc: "its last day (required; a year at most)"},
				{name: "threshold", format: "integer", doc: "the fewest unjustified half-days (default 1)"},
				{name: "group", format: "uuid", doc: "the students of this class or group only"},
			},
			handle: func(w http.ResponseWriter, r *http.Request) error {
				uai, err := web.PathUAI(r, "uai")
				if err != nil {
					return err
				}
				q := s.dec.Query(r)
				f := projections.LetterFilter{From: q.Date("from"), To: q.Date("to"), Threshold: 1}
				if v := q.Str("threshold"); v != "" {
					n, err := strconv.Atoi(v)
					if err != nil || n < 1 || n > 200 {
						q.Fail("threshold", "a whole number from 1 to 200")
					}
					f.Threshold = n
				}
				if q.Str("group") != "" {
					f.Group = q.ID("group")
				}
				if q.Err() != nil {
					return q.Err()
				}
				if f.From.IsZero() || f.To.IsZero() || f.To.Before(f.From) || f.To.Compare(f.From.AddDays(366)) > 0 {
					return domain.Errorf(domain.ErrInvalid, "from and to: a period of a year at most")
				}
				if err := web.MayReadOffice(web.PrincipalOf(r), uai); err != nil {
					return err
				}
				set, err := h.AlertSettings(r.Context(), uai)
				if err != nil {
					return err
				}
				list, err := s.cfg.Queries.LetterCandidates(r.Context(), uai, f, set)
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, list)
			},
		},
		commandRoute(s, cmd[domain.SetAlertSettings]{
			method: "PUT", path: "/api/v1/establishments/{uai}/alert-settings", tag: "office", status: http.StatusOK,
			summary:  "Set the establishment's alert thresholds: half-days per month, how a half-day is counted, lateness per period, the office's delay on a forgotten roll call",
			profiles: "the head of establishment (or a deputy); administrators of the establishment",
			fill: func(r *http.Request, c *domain.SetAlertSettings) error {
				uai, err := web.PathUAI(r, "uai")
				c.Establishment = uai
				return err
			},
			run: h.SetAlertSettings,
		}),
	}
}
