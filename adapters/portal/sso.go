package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/schoollife/ledger/adapters/sso"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// Single sign-on on the portal: the sign-in page offers the configured
// identity providers above the local form; a person whom a provider
// vouched for but who cannot sign in is told why, in French; an
// administrator sees the providers' status and the identities that
// matched no account, and links them by hand.

// SSO is what the portal shows and does of single sign-on (cmd/ledger
// wires it; nil: none).
type SSO interface {
	// Providers are the providers offered on the sign-in page, in order.
	Providers() []SSOProvider
	// Status is the providers' status, for administrators.
	Status() []SSOStatus
	// Unmatched lists the identities that matched no account, the latest
	// first: those naming establishment, or all when it is "" (an
	// administrator of every establishment); Forget removes one once
	// linked.
	Unmatched(ctx context.Context, establishment string) ([]sso.Unmatched, error)
	Forget(ctx context.Context, provider, subject string) error
	// SignOutURL is where a person signing out goes next when a provider
	// opened their session (its single logout); false: nowhere.
	SignOutURL(ctx context.Context, session string) (string, bool)
}

// SSOProvider is a provider on the sign-in page.
type SSOProvider struct {
	Name string
	// Label is what the page shows ("Élève ou parent : ÉduConnect").
	Label string
	// Path starts the sign-in (/sso/saml/educonnect/login).
	Path string
}

// SSOStatus is a provider's status.
type SSOStatus struct {
	Name, Label, Protocol string
	// Wired is false for a provider whose protocol serve does not run yet.
	Wired bool
	// NoMetadata: the provider has no metadata to read (OpenID Connect
	// is discovered at the first sign-in, CAS needs none).
	NoMetadata bool
	// Loaded is when its metadata in use was read (zero: never).
	Loaded time.Time
	// LastError is the last failure to read it, after Loaded.
	LastError   string
	LastErrorAt time.Time
}

var linkIdentityForm = formSpec{name: "link", fields: []string{"provider", "subject", "external_id"},
	aliases: map[string]string{"account": "external_id"}}

func (p *Portal) ssoPages() []page {
	if p.cfg.SSO == nil {
		return nil
	}
	admins := []domain.Profile{domain.ProfileAdmin}
	return []page{
		{method: "GET", path: "/admin/sso", profiles: admins, handle: p.ssoAdmin},
		{method: "POST", path: "/admin/sso/links", profiles: admins, handle: p.onForm(linkIdentityForm, p.showSSOAdmin, p.linkIdentity)},
	}
}

// ssoAdminData is the administrators' page.
type ssoAdminData struct {
	Status    []SSOStatus
	Unmatched []sso.Unmatched
}

func (p *Portal) ssoAdmin(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showSSOAdmin(w, r, v, http.StatusOK)
}

func (p *Portal) showSSOAdmin(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	if err := mayAdministerSSO(v.principal); err != nil {
		return err
	}
	un, err := p.cfg.SSO.Unmatched(r.Context(), v.principal.Actor().Establishment)
	if err != nil {
		return err
	}
	p.render(w, r, status, v, "sso_admin", "title.sso_admin", ssoAdminData{Status: p.cfg.SSO.Status(), Unmatched: un})
	return nil
}

// mayAdministerSSO: the providers and the unmatched identities are the
// administrators' (an establishment's administrator links only accounts of
// their establishment: the command layer decides).
func mayAdministerSSO(pr *web.Principal) error {
	if pr == nil || pr.Actor().Profile != domain.ProfileAdmin {
		return domain.Errorf(domain.ErrForbidden, "only administrators manage single sign-on")
	}
	return nil
}

// linkIdentity links an identity to the account the administrator names
// by its directory id (the AAF's ENTPersonJointure, the CSV's id).
func (p *Portal) linkIdentity(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := mayAdministerSSO(v.principal); err != nil {
		return err
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	f := web.FormOf(r)
	provider, subject, external := f.Need("provider"), f.Need("subject"), strings.TrimSpace(f.Need("external_id"))
	if f.Err() != nil {
		return f.Err()
	}
	acc, err := p.cfg.Queries.AccountByExternalID(r.Context(), external)
	if errors.Is(err, domain.ErrUnknownAccount) {
		e := domain.Errorf(domain.ErrUnknownAccount, "no account has the directory id %q", external)
		e.Field = "external_id"
		return e
	}
	if err != nil {
		return err
	}
	// One identity, one account: the streams are the accounts', so the
	// directory tells whether another has it.
	if other, err := p.cfg.Queries.AccountByIdentity(r.Context(), provider, subject); err == nil && other.ID != acc.ID {
		return domain.Errorf(domain.ErrIdentityLinked, "%s is linked to another account", provider)
	}
	res, err := p.cfg.Commands.LinkIdentity(r.Context(), req, domain.LinkIdentity{
		Account: acc.ID, Provider: provider, Subject: subject, How: domain.IdentityByAdministrator,
	})
	if err != nil {
		return err
	}
	if err := p.cfg.SSO.Forget(r.Context(), provider, subject); err != nil {
		p.log.WarnContext(r.Context(), "linked identity still listed as unmatched", "err", err)
	}
	return done(w, r, "/admin/sso", "identity_linked", res)
}

// ssoRefusedData is the page of a sign-in through a provider that did not
// succeed.
type ssoRefusedData struct {
	// Message is the key of what happened and what to do.
	Message string
}

// SignInRefused tells a person, in French, why the sign-in a provider
// vouched for cannot go on (sso.Refusals): no account matched (the
// administrators see the attempt), several did, the account is closed, or
// the response failed a check or the provider is unavailable.
func (p *Portal) SignInRefused(w http.ResponseWriter, r *http.Request, provider, reason string) {
	v := p.newView(r)
	status, msg := http.StatusInternalServerError, "sso.refused.error"
	switch reason {
	case sso.ReasonNone:
		status, msg = http.StatusForbidden, "sso.refused.none"
	case sso.ReasonSeveral:
		status, msg = http.StatusForbidden, "sso.refused.several"
	case sso.ReasonClosed:
		status, msg = http.StatusForbidden, "sso.refused.closed"
	case "invalid":
		status, msg = http.StatusBadRequest, "sso.refused.invalid"
	case "unavailable":
		status, msg = http.StatusServiceUnavailable, "sso.refused.unavailable"
	case "denied":
		status, msg = http.StatusForbidden, "sso.refused.denied"
	case "expired":
		status, msg = http.StatusBadRequest, "sso.refused.expired"
	case "unknown-provider":
		status, msg = http.StatusNotFound, "sso.refused.unknown"
	}
	// The protocol handlers' routes are not the portal's: its headers are
	// set here.
	for k, vs := range pageHeaders() {
		w.Header()[k] = vs
	}
	p.render(w, r, status, v, "sso_refused", "title.sso_refused", ssoRefusedData{Message: msg})
}
