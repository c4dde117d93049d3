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
// the administrators of the establishment (docs/sso-cas-server.md).
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
	serviceForm        = formSpec{name: "service", fields: []string{"name", "urls", "attributes", "single_logout"}}
	serviceRemovalForm = formSpec{name: "service-removal"}
)

func (p *Portal) servicesPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showServices(w, r, v, http.StatusOK)
}

// showServices renders the services with status (a refused form's).
func (p *Portal) showServices(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	uai, err := servicesUAI(r, v)
	if err != nil {
		return err
	}
	if err := web.MayManageServices(v.principal, uai); err != nil {
		return err
	}
	data := servicesData{UAI: uai, Choose: uai == "", Attributes: domain.ServiceAttributes}
	if uai != "" {
		if data.Services, err = p.cfg.Queries.Services(r.Context(), uai); err != nil {
			return err
		}
	}
	p.render(w, r, status, v, "services", "title.services", data)
	return nil
}

// registerService registers a CAS service: one URL pattern a line.
func (p *Portal) registerService(w http.ResponseWriter, r *http.Request, v *view) error {
	uai, err := servicesUAI(r, v)
	if err != nil {
		return err
	}
	f := web.FormOf(r)
	cmd := domain.RegisterService{
		Establishment: uai, Kind: domain.ServiceCAS,
		Name: f.Need("name"), Attributes: r.PostForm["attributes"], SingleLogout: r.PostForm.Get("single_logout") != "",
	}
	urls := f.Need("urls")
	if f.Err() != nil {
		return f.Err()
	}
	for line := range strings.Lines(urls) {
		if line = strings.TrimSpace(line); line != "" {
			cmd.URLs = append(cmd.URLs, line)
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
	return done(w, r, servicesPath(v, uai), "service_registered", res)
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
