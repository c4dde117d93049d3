package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/portal"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/sso"
	"github.com/schoollife/ledger/adapters/sso/casclient"
	"github.com/schoollife/ledger/adapters/sso/oidcclient"
	ssosaml "github.com/schoollife/ledger/adapters/sso/saml"
	"github.com/schoollife/ledger/adapters/sso/upstream"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// Single sign-on in serve: the SAML service provider, the OpenID Connect
// relying party and the CAS client of the providers of --sso (or the
// demo's identity provider with --demo), their store in the ledger's
// database (migration 0400_sso), the Completer they share, which matches
// identities to accounts and opens portal sessions, and what the portal
// shows of it (docs/sso.md).

// accountRevoker ends every session of an account (auth.Service).
type accountRevoker interface {
	RevokeAccount(ctx context.Context, account uuid.UUID) error
}

// ssoServe is single sign-on as serve runs it.
type ssoServe struct {
	cfg   *ssoConfig
	store *sso.Store
	// demo is the demo's identity provider (nil without --demo or with
	// --sso).
	demo *demoIdP
	saml *ssosaml.Service
	// getenv reads the variables that hold OpenID Connect client secrets.
	getenv func(string) string
}

// openSSOStore opens the single sign-on store in the event store's
// database.
func openSSOStore(store eventStore) (*sso.Store, error) {
	switch s := store.(type) {
	case *sqlite.Store:
		return sso.NewSQLite(s.DB(), s.WithTx), nil
	case *postgres.Store:
		return sso.NewPostgres(s.Pool()), nil
	}
	return nil, fmt.Errorf("single sign-on needs a SQLite or Postgres store, not %T", store)
}

// newSSOServe prepares single sign-on for serve: nil when neither --sso
// nor --demo asks for it.
func newSSOServe(cfg *Config, store eventStore, log *slog.Logger, getenv func(string) string) (*ssoServe, error) {
	c := cfg.sso
	var demo *demoIdP
	if c == nil && cfg.Demo {
		d, err := newDemoIdP()
		if err != nil {
			return nil, fmt.Errorf("demo identity provider: %w", err)
		}
		demo, c = d, d.config()
	}
	if c == nil {
		return nil, nil
	}
	if len(c.all) == 0 {
		return &ssoServe{cfg: c}, nil
	}
	st, err := openSSOStore(store)
	if err != nil {
		return nil, err
	}
	return &ssoServe{cfg: c, store: st, demo: demo, getenv: getenv}, nil
}

// Close releases the store.
func (s *ssoServe) Close() error {
	if s == nil || s.store == nil {
		return nil
	}
	return s.store.Close()
}

// ssoWeb is what webHandler needs to mount single sign-on.
type ssoWeb struct {
	serve   *ssoServe
	dir     sso.Directory
	linker  sso.Linker
	revoker accountRevoker
	log     *slog.Logger
}

// mount builds the Completer, the SAML service provider, the OpenID
// Connect relying party and the CAS client on the listener's address (or
// the file's base_url) and mounts their routes on mux, with the demo's
// identity provider when there is one.
func (w ssoWeb) mount(ctx context.Context, mux *http.ServeMux, listener *url.URL, sessions *web.Sessions, pages *portal.Portal) error {
	s := w.serve
	if s.store == nil {
		return nil
	}
	base := s.cfg.baseURL
	if base == nil {
		base = listener
	}
	if s.demo != nil {
		if err := s.demo.start(base); err != nil {
			return err
		}
		mux.Handle(demoIdPPath+"/", http.StripPrefix(demoIdPPath, s.demo.handler()))
		s.cfg = s.demo.config()
	}
	rules := map[string]sso.MatchRules{}
	for _, p := range s.cfg.all {
		rules[p.Name] = p.Match
	}
	completer, err := sso.NewCompleter(sso.CompleterConfig{
		Directory: w.dir, Linker: w.linker, Sessions: sessions, Refusals: pages, Store: s.store, Rules: rules, Logger: w.log,
	})
	if err != nil {
		return err
	}
	if err := w.mountUpstream(ctx, mux, base, completer, pages); err != nil {
		return err
	}
	if len(s.cfg.saml) == 0 {
		return nil
	}
	var providers []ssosaml.Provider
	for _, p := range s.cfg.saml {
		providers = append(providers, ssosaml.Provider{Name: p.Name, IdP: *p.SAML})
	}
	svc, err := ssosaml.New(ctx, ssosaml.Config{
		SP:        ssosaml.SPConfig{BaseURL: base, EntityID: s.cfg.entityID, Key: s.cfg.key, Certificate: s.cfg.cert},
		Providers: providers, Requests: s.store, Completer: completer, Refusals: pages, Logger: w.log,
		EndSessions: func(ctx context.Context, provider, subject string) error {
			acc, err := w.dir.AccountByIdentity(ctx, provider, subject)
			if errors.Is(err, domain.ErrUnknownAccount) {
				w.log.InfoContext(ctx, "single logout of an identity linked to no account", "provider", provider)
				return nil
			}
			if err != nil {
				return err
			}
			return w.revoker.RevokeAccount(ctx, acc.ID)
		},
	})
	if err != nil {
		return err
	}
	s.saml = svc
	h := svc.Handler()
	for _, pattern := range []string{"/saml/", "/sso/saml/"} {
		mux.Handle(pattern, h)
	}
	if s.demo != nil {
		if err := s.demo.register(svc); err != nil {
			return err
		}
	}
	return nil
}

// mountUpstream mounts the OpenID Connect relying party at /sso/oidc/ and
// the CAS client at /sso/cas/ when the file names such providers. The
// cookies of sign-ins in progress are sealed under the store's secret, the
// same on every node; failures are the portal's French page.
func (w ssoWeb) mountUpstream(ctx context.Context, mux *http.ServeMux, base *url.URL, completer sso.Completer, pages *portal.Portal) error {
	s := w.serve
	if len(s.cfg.oidc) == 0 && len(s.cfg.cas) == 0 {
		return nil
	}
	key, err := s.store.StateSecret(ctx)
	if err != nil {
		return err
	}
	fail := func(rw http.ResponseWriter, r *http.Request, f upstream.Failure) {
		pages.SignInRefused(rw, r, f.Provider, string(f.Reason))
	}
	if len(s.cfg.oidc) > 0 {
		cfg := oidcclient.Config{BaseURL: base.String()}
		for _, p := range s.cfg.oidc {
			cfg.Providers = append(cfg.Providers, oidcclient.Provider{Name: p.Name, OIDC: *p.OIDC})
		}
		h, err := oidcclient.New(cfg, completer, oidcclient.WithLogger(w.log), oidcclient.WithStateKey(key),
			oidcclient.WithFailure(fail), oidcclient.WithGetenv(s.getenv))
		if err != nil {
			return err
		}
		mux.Handle("/sso/oidc/", nextAsReturnTo(h))
	}
	if len(s.cfg.cas) > 0 {
		cfg := casclient.Config{BaseURL: base.String()}
		for _, p := range s.cfg.cas {
			cfg.Providers = append(cfg.Providers, casclient.Provider{Name: p.Name, CAS: *p.CAS})
		}
		h, err := casclient.New(cfg, completer, casclient.WithLogger(w.log), casclient.WithStateKey(key), casclient.WithFailure(fail))
		if err != nil {
			return err
		}
		mux.Handle("/sso/cas/", nextAsReturnTo(h))
	}
	return nil
}

// nextAsReturnTo passes the sign-in page's "next" (the page to land on)
// as the "returnTo" the OpenID Connect and CAS handlers read.
func nextAsReturnTo(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if next := q.Get("next"); next != "" && q.Get("returnTo") == "" {
			q.Set("returnTo", next)
			q.Del("next")
			r = r.Clone(r.Context())
			r.URL.RawQuery = q.Encode()
		}
		h.ServeHTTP(w, r)
	})
}

// run refreshes the providers' metadata until ctx ends.
func (s *ssoServe) run(ctx context.Context) {
	if s != nil && s.saml != nil {
		s.saml.Run(ctx)
	}
}

// Providers implements portal.SSO.
func (s *ssoServe) Providers() []portal.SSOProvider {
	if s.store == nil {
		return nil
	}
	var out []portal.SSOProvider
	for _, p := range s.cfg.all {
		out = append(out, portal.SSOProvider{Name: p.Name, Label: p.Label, Path: "/sso/" + p.Protocol + "/" + p.Name + "/login"})
	}
	return out
}

// Status implements portal.SSO.
func (s *ssoServe) Status() []portal.SSOStatus {
	var out []portal.SSOStatus
	loaded := map[string]ssosaml.ProviderStatus{}
	if s.saml != nil {
		for _, st := range s.saml.Status() {
			loaded[st.Name] = st
		}
	}
	for _, p := range s.cfg.all {
		st := portal.SSOStatus{Name: p.Name, Label: p.Label, Protocol: p.Protocol, Wired: true, NoMetadata: p.Protocol != sso.ProtocolSAML}
		if l, ok := loaded[p.Name]; ok {
			st.Loaded, st.LastError, st.LastErrorAt = l.Loaded, l.LastError, l.LastErrorAt
		}
		out = append(out, st)
	}
	return out
}

// Unmatched implements portal.SSO.
func (s *ssoServe) Unmatched(ctx context.Context, establishment string) ([]sso.Unmatched, error) {
	if s.store == nil {
		return nil, nil
	}
	return s.store.ListUnmatched(ctx, establishment, 200)
}

// Forget implements portal.SSO.
func (s *ssoServe) Forget(ctx context.Context, provider, subject string) error {
	if s.store == nil {
		return nil
	}
	return s.store.ForgetUnmatched(ctx, provider, subject)
}

// listenerURL is the http address of a listener, localhost when it
// listens on every interface.
func listenerURL(addr net.Addr) *url.URL {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return &url.URL{Scheme: "http", Host: addr.String()}
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
}

// SignOutURL implements portal.SSO.
func (s *ssoServe) SignOutURL(ctx context.Context, session string) (string, bool) {
	if s.saml == nil {
		return "", false
	}
	return s.saml.LogoutURL(ctx, session)
}
