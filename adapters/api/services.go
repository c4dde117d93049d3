package api

import (
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// servicesRoutes: the school's services the ledger signs people in to
// (docs/sso-cas-server.md).
func (s *Server) servicesRoutes() []route {
	h := s.cfg.Commands
	const admins = "administrators of the establishment"
	return []route{
		commandRoute(s, cmd[domain.RegisterService]{
			method: "POST", path: "/api/v1/establishments/{uai}/services", tag: "services", status: http.StatusCreated,
			summary:  "Register a service the ledger signs people in to (kind cas): its URL patterns and the attributes it is given",
			profiles: admins,
			fill: func(r *http.Request, c *domain.RegisterService) error {
				uai, err := web.PathUAI(r, "uai")
				c.Establishment = uai
				return err
			},
			run: h.RegisterService,
		}),
		commandRoute(s, cmd[domain.UnregisterService]{
			method: "DELETE", path: "/api/v1/services/{service}", tag: "services", status: http.StatusOK, noBody: true,
			summary: "Unregister a service: it gets no ticket any more", profiles: "administrators of the service's establishment",
			fill: func(r *http.Request, c *domain.UnregisterService) error {
				return web.SetPathID(r, "service", &c.Service)
			},
			run: h.UnregisterService,
		}),
		{
			method: "GET", path: "/api/v1/establishments/{uai}/services", tag: "services", status: http.StatusOK,
			summary: "An establishment's registered services", profiles: admins,
			response: typeOf[[]projections.ServiceEntry](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				uai, err := web.PathUAI(r, "uai")
				if err != nil {
					return err
				}
				if err := web.MayManageServices(web.PrincipalOf(r), uai); err != nil {
					return err
				}
				list, err := s.cfg.Queries.Services(r.Context(), uai)
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, list)
			},
		},
	}
}
