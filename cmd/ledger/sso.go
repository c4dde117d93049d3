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
	ssosaml "github.com/schoollife/ledger/adapters/sso/saml"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// Single sign-on in serve: the SAML service provider of the providers of
// --sso (or of the demo's identity provider with --demo), its store in the
// ledger's database (migration 0400_sso), the Completer that matches
// identities to accounts and opens portal sessions, and what the portal
// shows of it.

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
	// labels are the providers' labels by name, in order.
	providers []ssoProvider
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
func newSSOServe(cfg *Config, store eventStore, log *slog.Logger) (*ssoServe, error) {
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
	for _, p := range c.pending {
		log.Warn("single sign-on: provider not wired yet, left out", "provider", p.Name, "protocol", p.Protocol)
	}
	if len(c.saml) == 0 {
		return &ssoServe{cfg: c, providers: c.pending}, nil
	}
	st, err := openSSOStore(store)
	if err != nil {
		return nil, err
	}
	return &ssoServe{cfg: c, store: st, demo: demo, providers: append(append([]ssoProvider(nil), c.saml...), c.pending...)}, nil
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

// mount builds the Completer and the SAML service provider on the
// listener's address (or the file's base_url) and mounts their routes on
// mux, with the demo's identity provider when there is one.
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
	var providers []ssosaml.Provider
	for _, p := range s.cfg.saml {
		rules[p.Name] = p.Match
		providers = append(providers, ssosaml.Provider{Name: p.Name, IdP: *p.SAML})
	}
	completer, err := sso.NewCompleter(sso.CompleterConfig{
		Directory: w.dir, Linker: w.linker, Sessions: sessions, Refusals: pages, Store: s.store, Rules: rules, Logger: w.log,
	})
	if err != nil {
		return err
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

// run refreshes the providers' metadata until ctx ends.
func (s *ssoServe) run(ctx context.Context) {
	if s != nil && s.saml != nil {
		s.saml.Run(ctx)
	}
}

// Providers implements portal.SSO.
func (s *ssoServe) Providers() []portal.SSOProvider {
	var out []portal.SSOProvider
	for _, p := range s.cfg.saml {
		out = append(out, portal.SSOProvider{Name: p.Name, Label: p.Label, Path: "/sso/saml/" + p.Name + "/login"})
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
	for _, p := range s.providers {
		st := portal.SSOStatus{Name: p.Name, Label: p.Label, Protocol: p.Protocol, Wired: p.Protocol == sso.ProtocolSAML}
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
