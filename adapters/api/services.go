package api

import (
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// servicesRoutes: the school's services the ledger signs people in to
// (docs/sso.md).
func (s *Server) servicesRoutes() []route {
	h := s.cfg.Commands
	const admins = "administrators of the establishment"
	return []route{
		s.registerServiceRoute(),
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

// ServiceRegistration answers the registration of a service: what the
// command recorded and, for an OpenID Connect client, its client_id and,
// for a confidential one, the client_secret the ledger generated. The
// secret is in this response only (the ledger keeps its hash): a replay
// of the request (Idempotent-Replayed) answers without it.
type ServiceRegistration struct {
	CommandResponse
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// registerServiceRoute registers a service (kind cas or oidc): the
// command route, with the OpenID Connect client's id and secret in the
// response.
func (s *Server) registerServiceRoute() route {
	rt := commandRoute(s, cmd[domain.RegisterService]{
		method: "POST", path: "/api/v1/establishments/{uai}/services", tag: "services", status: http.StatusCreated,
		summary: "Register a service the ledger signs people in to: a CAS service (kind cas) with its URL patterns, " +
			"or an OpenID Connect client (kind oidc) with its exact redirect URIs, public or given a generated secret; and the attributes it is given",
		profiles: "administrators of the establishment",
	})
	rt.response = typeOf[ServiceRegistration]()
	rt.handle = func(w http.ResponseWriter, r *http.Request) error {
		var c domain.RegisterService
		if err := s.dec.JSON(w, r, &c); err != nil {
			return err
		}
		uai, err := web.PathUAI(r, "uai")
		if err != nil {
			return err
		}
		c.Establishment = uai
		var secret string
		if c.Kind == domain.ServiceOIDC && !c.Public {
			secret, c.SecretHash = domain.NewClientSecret()
		}
		req, err := commandRequest(r)
		if err != nil {
			return err
		}
		res, err := s.cfg.Commands.RegisterService(r.Context(), req, c)
		if err != nil {
			return err
		}
		out := ServiceRegistration{CommandResponse: responseOf(res)}
		if c.Kind == domain.ServiceOIDC {
			out.ClientID = res.ID.String()
			if !res.Replayed {
				out.ClientSecret = secret
			}
		}
		if res.Replayed {
			w.Header().Set(headerReplayed, "true")
		}
		return reply(w, http.StatusCreated, out)
	}
	return rt
}
