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
			summary: "Pronounce a disciplinary sanction of the scale of art. R. 511-13 (avertissement, blâme, mesure de responsabilisation, " +
				"exclusion temporaire de la classe or de l'établissement, exclusion définitive), possibly with a sursis",
			profiles: "the head of establishment (or a deputy), alone for the sanctions 1° to 5°, recording the disciplinary council's decision " +
				"(authority conseil_de_discipline, with its sitting) for any of them and always for the exclusion définitive",
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
		commandRoute(s, cmd[domain.RevokeSursis]{
			method: "POST", path: "/api/v1/students/{student}/sanctions/{sanction}/sursis-revocation", tag: "discipline", status: http.StatusOK,
			summary:  "Revoke the sursis of a sanction after a new breach within its period (art. R. 511-13-1)",
			profiles: "the head of establishment (or a deputy); the disciplinary council alone for an exclusion définitive",
			fill: func(r *http.Request, c *domain.RevokeSursis) error {
				return firstError(web.SetPathID(r, "student", &c.Student), web.SetPathID(r, "sanction", &c.Sanction))
			},
			run: h.RevokeSursis,
		}),
		commandRoute(s, cmd[domain.EffaceSanction]{
			method: "POST", path: "/api/v1/students/{student}/sanctions/{sanction}/effacement", tag: "discipline", status: http.StatusOK,
			summary: "Efface a sanction from the student's administrative file before its date: a student changing establishment " +
				"asked for it (changement_etablissement) or secondary schooling ended (fin_scolarite_second_degre); art. R. 511-13, IV",
			profiles: "the head of establishment (or a deputy)",
			fill: func(r *http.Request, c *domain.EffaceSanction) error {
				return firstError(web.SetPathID(r, "student", &c.Student), web.SetPathID(r, "sanction", &c.Sanction))
			},
			run: h.EffaceSanction,
		}),
	}
}
