package oidcclient

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/schoollife/ledger/adapters/sso"
	"github.com/schoollife/ledger/adapters/sso/upstream"
)

// flow is what a sign-in in progress keeps in its sealed cookie.
type flow struct {
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r"`
}

// handler serves the routes of every configured provider.
type handler struct {
	providers map[string]*provider
	completer sso.Completer
	cookies   *upstream.StateCookies
	opts      options
	mux       *http.ServeMux
}

// provider is one configured OpenID provider, discovered on first use.
type provider struct {
	name        string
	settings    Settings
	secret      string
	redirectURL string
	callback    string // the callback's path, where the state cookie goes

	mu         sync.Mutex
	discovered *discovered
}

// discovered is what the discovery document gave.
type discovered struct {
	oidc     *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New returns the handler of /sso/oidc/{provider}/login and
// /sso/oidc/{provider}/callback for cfg's providers. It reads the client
// secrets now (an unset one is an error) but reaches no provider: each is
// discovered on its first sign-in, so a provider down at start-up stops
// nothing else.
func New(cfg Config, completer sso.Completer, opts ...Option) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if completer == nil {
		return nil, errors.New("oidc: no completer")
	}
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	base, _ := upstream.CheckURL("base_url", cfg.BaseURL)
	cookies, err := upstream.StateCookiesFor(o.stateKey, "ledger_oidc", base, o.stateTTL, o.now)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	h := &handler{providers: map[string]*provider{}, completer: completer, cookies: cookies, opts: o, mux: http.NewServeMux()}
	for _, p := range cfg.Providers {
		secret, err := p.OIDC.secret(o.getenv)
		if err != nil {
			return nil, fmt.Errorf("oidc provider %s: %w", p.Name, err)
		}
		callback := "/sso/oidc/" + p.Name + "/callback"
		h.providers[p.Name] = &provider{
			name: p.Name, settings: p.OIDC, secret: secret,
			redirectURL: upstream.JoinPath(base, callback), callback: callback,
		}
	}
	h.mux.HandleFunc("GET /sso/oidc/{provider}/login", h.login)
	h.mux.HandleFunc("GET /sso/oidc/{provider}/callback", h.callback)
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// RedirectURL returns the redirect URI to register at a provider.
func RedirectURL(baseURL, provider string) string {
	u, err := upstream.CheckURL("base_url", baseURL)
	if err != nil {
		return ""
	}
	return upstream.JoinPath(u, "/sso/oidc/"+provider+"/callback")
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, provider string, reason upstream.Reason, err error) {
	h.opts.logger.WarnContext(r.Context(), "oidc sign-in failed",
		slog.String("provider", provider), slog.String("reason", string(reason)), slog.Any("err", err))
	h.opts.fail(w, r, upstream.Failure{Provider: provider, Reason: reason, Err: err})
}

// ctx carries the HTTP client that go-oidc and oauth2 use.
func (h *handler) ctx(r *http.Request) context.Context {
	return oidc.ClientContext(r.Context(), h.opts.client)
}

// discover returns the provider's endpoints and keys, fetching the
// discovery document on first use (and again after a failure).
func (h *handler) discover(ctx context.Context, p *provider) (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovered != nil {
		return p.discovered, nil
	}
	op, err := oidc.NewProvider(ctx, p.settings.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", p.settings.Issuer, err)
	}
	scopes := []string{oidc.ScopeOpenID}
	for _, s := range p.settings.Scopes {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	p.discovered = &discovered{
		oidc: op,
		oauth: oauth2.Config{
			ClientID: p.settings.ClientID, ClientSecret: p.secret,
			Endpoint: op.Endpoint(), RedirectURL: p.redirectURL, Scopes: scopes,
		},
		verifier: op.Verifier(&oidc.Config{ClientID: p.settings.ClientID, Now: h.opts.now}),
	}
	return p.discovered, nil
}

// login sends the browser to the provider with a fresh state, nonce and
// PKCE challenge, kept in a sealed cookie of this browser.
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	p, ok := h.providers[name]
	if !ok {
		h.fail(w, r, name, upstream.ReasonUnknownProvider, errors.New("no such provider"))
		return
	}
	d, err := h.discover(h.ctx(r), p)
	if err != nil {
		h.fail(w, r, name, upstream.ReasonUnavailable, err)
		return
	}
	state := upstream.RandomToken()
	f := flow{Nonce: upstream.RandomToken(), Verifier: oauth2.GenerateVerifier(), ReturnTo: upstream.LocalPath(r.URL.Query().Get("returnTo"))}
	if err := h.cookies.Set(w, p.callback, name, state, f); err != nil {
		h.fail(w, r, name, upstream.ReasonInvalid, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, d.oauth.AuthCodeURL(state, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// callback checks the provider's answer and hands the identity over.
func (h *handler) callback(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	p, ok := h.providers[name]
	if !ok {
		h.fail(w, r, name, upstream.ReasonUnknownProvider, errors.New("no such provider"))
		return
	}
	q := r.URL.Query()
	var f flow
	if err := h.cookies.Take(w, r, p.callback, name, q.Get("state"), &f); err != nil {
		h.fail(w, r, name, upstream.ReasonExpired, err)
		return
	}
	id, reason, err := h.verify(r, p, q, f)
	if err != nil {
		h.fail(w, r, name, reason, err)
		return
	}
	h.completer.Complete(w, r, id, f.ReturnTo)
}

// verify redeems the code (with the PKCE verifier), verifies the ID token
// (signature by the provider's keys, issuer, audience, expiry, nonce) and
// builds the identity.
func (h *handler) verify(r *http.Request, p *provider, q url.Values, f flow) (sso.Identity, upstream.Reason, error) {
	// RFC 9207: a provider that names itself must be the one asked.
	if iss := q.Get("iss"); iss != "" && iss != p.settings.Issuer {
		return sso.Identity{}, upstream.ReasonInvalid, fmt.Errorf("answer from issuer %q", truncate(iss))
	}
	if e := q.Get("error"); e != "" {
		reason := upstream.ReasonInvalid
		if e == "access_denied" {
			reason = upstream.ReasonDenied
		}
		return sso.Identity{}, reason, fmt.Errorf("provider error %q: %q", truncate(e), truncate(q.Get("error_description")))
	}
	code := q.Get("code")
	if code == "" {
		return sso.Identity{}, upstream.ReasonInvalid, errors.New("no code")
	}
	ctx := h.ctx(r)
	d, err := h.discover(ctx, p)
	if err != nil {
		return sso.Identity{}, upstream.ReasonUnavailable, err
	}
	tok, err := d.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return sso.Identity{}, upstream.ReasonInvalid, fmt.Errorf("token request: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return sso.Identity{}, upstream.ReasonInvalid, errors.New("token response without id_token")
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		return sso.Identity{}, upstream.ReasonInvalid, fmt.Errorf("id token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return sso.Identity{}, upstream.ReasonInvalid, errors.New("id token: nonce is not this sign-in's")
	}
	var cl claims
	if err := idt.Claims(&cl); err != nil {
		return sso.Identity{}, upstream.ReasonInvalid, fmt.Errorf("id token claims: %w", err)
	}
	// OpenID Connect Core 3.1.3.7: with several audiences, the token must
	// say it was issued to this client.
	if len(idt.Audience) > 1 {
		if cl.str("azp") != p.settings.ClientID {
			return sso.Identity{}, upstream.ReasonInvalid, errors.New("id token: several audiences and azp is not this client")
		}
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return sso.Identity{}, upstream.ReasonInvalid, fmt.Errorf("id token: %w", err)
		}
	}
	if p.settings.UserInfo && cl.missing(p.settings.Claims) {
		ui, err := d.oidc.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return sso.Identity{}, upstream.ReasonUnavailable, fmt.Errorf("userinfo: %w", err)
		}
		// OpenID Connect Core 5.3.2: userinfo about someone else is void.
		if ui.Subject != idt.Subject {
			return sso.Identity{}, upstream.ReasonInvalid, errors.New("userinfo: another subject than the id token's")
		}
		var more claims
		if err := ui.Claims(&more); err != nil {
			return sso.Identity{}, upstream.ReasonInvalid, fmt.Errorf("userinfo claims: %w", err)
		}
		for k, v := range more {
			if _, ok := cl[k]; !ok {
				cl[k] = v
			}
		}
	}
	id := sso.Identity{
		Provider: p.name, Protocol: sso.ProtocolOIDC, Subject: idt.Subject,
		Attributes: cl.attributes(p.settings.Claims), SessionIndex: cl.str("sid"),
	}
	if err := upstream.CheckIdentity(id); err != nil {
		return sso.Identity{}, upstream.ReasonInvalid, err
	}
	return id, "", nil
}

// missing reports whether any named claim is absent.
func (c claims) missing(names []string) bool {
	for _, n := range names {
		if _, ok := c[n]; !ok {
			return true
		}
	}
	return false
}

// truncate bounds what a provider's error says before it reaches a log.
func truncate(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
