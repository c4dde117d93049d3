package api

import (
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

func (s *Server) disciplineRoutes() []route {
	h := s.cfg.Commands
	return []route{
		commandRoute(s, cmd[domain.ReportIncident]{
			method: "POST", path: "/api/v1/incidents", tag: "discipline", status: http.StatusCreated,
			summary: "Report an incident and its protagonists", profiles: "teachers and personnel of the establishment",
			run: h.ReportIncident,
		}),
		commandRoute(s, cmd[domain.GivePunishment]{
			method: "POST", path: "/api/v1/students/{student}/punishments", tag: "discipline", status: http.StatusCreated,
			summary:  "Give a student a punishment (retenue, devoir supplémentaire, exclusion de cours)",
			profiles: "teachers of one of the student's groups (naming it); personnel of the establishment",
			fill:     func(r *http.Request, c *domain.GivePunishment) error { return web.SetPathID(r, "student", &c.Student) },
			run:      h.GivePunishment,
		}),
		commandRoute(s, cmd[domain.PronounceSanction]{
			method: "POST", path: "/api/v1/students/{student}/sanctions", tag: "discipline", status: http.StatusCreated,
			summary:  "Pronounce a disciplinary sanction (avertissement, blâme, mesure de responsabilisation, exclusion)",
			profiles: "the head of establishment (or a deputy)",
			fill: func(r *http.Request, c *domain.PronounceSanction) error {
				return web.SetPathID(r, "student", &c.Student)
			},
			run: h.PronounceSanction,
		}),
		commandRoute(s, cmd[domain.AnnulSanction]{
			method: "POST", path: "/api/v1/students/{student}/sanctions/{sanction}/annulment", tag: "discipline", status: http.StatusOK,
			summary: "Annul a sanction (it stays on file, flagged)", profiles: "the head of establishment (or a deputy)",
			fill: func(r *http.Request, c *domain.AnnulSanction) error {
				return firstError(web.SetPathID(r, "student", &c.Student), web.SetPathID(r, "sanction", &c.Sanction))
			},
			run: h.AnnulSanction,
		}),
	}
}
