package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// servicesPages: the services the ledger signs people in to (CAS), for
// the administrators of the establishment (docs/sso.md).
func (p *Portal) servicesPages() []page {
	admins := []domain.Profile{domain.ProfileAdmin}
	return []page{
		{method: "GET", path: "/services", profiles: admins, handle: p.servicesPage},
		{method: "POST", path: "/services", profiles: admins, handle: p.onForm(serviceForm, p.showServices, p.registerService)},
		{method: "POST", path: "/services/{service}/removal", profiles: admins, handle: p.onForm(serviceRemovalForm, p.showServices, p.removeService)},
	}
}

// servicesData is an establishment's services and the form to register one.
// UAI is the establishment; Choose asks an administrator of every
// establishment which one.
type servicesData struct {
	UAI        string
	Choose     bool
	Services   []projections.ServiceEntry
	Attributes []string
	Kinds      []domain.ServiceKind
	// Client is the OpenID Connect client just registered, whose secret
	// this page shows once.
	Client *registeredClient
}

// registeredClient is an OpenID Connect client just registered: its
// client id and, for a confidential client, its secret, which no other
// page shows again (the ledger keeps its hash). Replayed: the form was
// sent again, the secret was on the first answer only.
type registeredClient struct {
	Name, ClientID, Secret string
	Public, Replayed       bool
}

// servicesUAI is the establishment of the services page: the
// administrator's own, or, for an administrator of every establishment,
// the one the page or form names ("" until one is named).
func servicesUAI(r *http.Request, v *view) (string, error) {
	if v.Me.Establishment != "" {
		return v.Me.Establishment, nil
	}
	uai := strings.TrimSpace(r.URL.Query().Get("uai"))
	if uai == "" && r.Method == http.MethodPost {
		uai = strings.TrimSpace(r.PostForm.Get("establishment"))
	}
	if uai != "" && !domain.ValidUAI(uai) {
		return "", web.ErrInvalidQuery.With("uai %q is not a UAI", uai)
	}
	return uai, nil
}

// servicesPath is the services page of an establishment.
func servicesPath(v *view, uai string) string {
	if v.Me.Establishment != "" {
		return "/services"
	}
	return "/services?uai=" + url.QueryEscape(uai)
}

var (
	serviceForm        = formSpec{name: "service", fields: []string{"name", "kind", "urls", "post_logout_uris", "attributes", "single_logout", "public"}}
	serviceRemovalForm = formSpec{name: "service-removal"}
)

func (p *Portal) servicesPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showServices(w, r, v, http.StatusOK)
}

// showServices renders the services with status (a refused form's).
func (p *Portal) showServices(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	return p.renderServices(w, r, v, status, nil)
}

// renderServices renders the services, with the client just registered
// (nil: none).
func (p *Portal) renderServices(w http.ResponseWriter, r *http.Request, v *view, status int, client *registeredClient) error {
	uai, err := servicesUAI(r, v)
	if err != nil {
		return err
	}
	if err := web.MayManageServices(v.principal, uai); err != nil {
		return err
	}
	data := servicesData{UAI: uai, Choose: uai == "", Attributes: domain.ServiceAttributes, Kinds: domain.ServiceKinds, Client: client}
	if uai != "" {
		if data.Services, err = p.cfg.Queries.Services(r.Context(), uai); err != nil {
			return err
		}
	}
	p.render(w, r, status, v, "services", "title.services", data)
	return nil
}

// registerService registers a CAS service or an OpenID Connect client:
// one URL a line. A confidential client's secret is generated here and
// shown on the answer's page, once: it is never in a URL (no redirect).
func (p *Portal) registerService(w http.ResponseWriter, r *http.Request, v *view) error {
	uai, err := servicesUAI(r, v)
	if err != nil {
		return err
	}
	f := web.FormOf(r)
	cmd := domain.RegisterService{
		Establishment: uai, Kind: domain.ServiceKind(r.PostForm.Get("kind")),
		Name: f.Need("name"), Attributes: r.PostForm["attributes"], SingleLogout: r.PostForm.Get("single_logout") != "",
	}
	if cmd.Kind == "" {
		cmd.Kind = domain.ServiceCAS
	}
	urls := f.Need("urls")
	if f.Err() != nil {
		return f.Err()
	}
	cmd.URLs = lines(urls)
	var secret string
	if cmd.Kind == domain.ServiceOIDC {
		cmd.PostLogoutURIs = lines(r.PostForm.Get("post_logout_uris"))
		cmd.Public = r.PostForm.Get("public") != ""
		// The box is checked by default: back-channel logout is CAS's.
		cmd.SingleLogout = false
		if !cmd.Public {
			secret, cmd.SecretHash = domain.NewClientSecret()
		}
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.RegisterService(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	if cmd.Kind != domain.ServiceOIDC {
		return done(w, r, servicesPath(v, uai), "service_registered", res)
	}
	client := &registeredClient{Name: cmd.Name, ClientID: res.ID.String(), Public: cmd.Public, Replayed: res.Replayed}
	if !res.Replayed {
		client.Secret = secret
	}
	return p.renderServices(w, r, v, http.StatusOK, client)
}

// lines returns the lines of a text area that are not blank, trimmed.
func lines(text string) []string {
	var out []string
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// removeService unregisters a service.
func (p *Portal) removeService(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := uuid.Parse(r.PathValue("service"))
	if err != nil {
		return web.ErrNoRoute.With("%s", r.URL.Path)
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.UnregisterService(r.Context(), req, domain.UnregisterService{Service: id})
	if err != nil {
		return err
	}
	uai, err := servicesUAI(r, v)
	if err != nil {
		return err
	}
	return done(w, r, servicesPath(v, uai), "service_removed", res)
}
