package oidcprovider_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// service is a school service signing people in through the ledger with
// go-oidc and oauth2, as a real relying party does: discovery, the
// authorization code with PKCE, state and nonce, the ID token checked
// against the ledger's keys, userinfo.
type service struct {
	srv      *httptest.Server
	conf     oauth2.Config
	verifier *gooidc.IDTokenVerifier
	provider *gooidc.Provider

	mu       sync.Mutex
	state    string
	nonce    string
	pkce     string
	rawID    string
	token    *oauth2.Token
	idClaims map[string]any
	userinfo map[string]any
	err      error
}

// newService starts a service registered (or not) as clientID with
// secret ("" for a public client).
func newService(t *testing.T, issuer, clientID, secret string) *service {
	t.Helper()
	s := &service{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", s.start)
	mux.HandleFunc("GET /callback", s.callback)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	p, err := gooidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	s.provider = p
	s.conf = oauth2.Config{
		ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(),
		RedirectURL: s.srv.URL + "/callback", Scopes: []string{gooidc.ScopeOpenID, "profile"},
	}
	// One way of sending the secret: oauth2's auto-detection would try
	// again another way after a refusal.
	s.conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	s.verifier = p.Verifier(&gooidc.Config{ClientID: clientID})
	return s
}

// authURL starts a sign-in and returns where the browser goes.
func (s *service) authURL(opts ...oauth2.AuthCodeOption) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state, s.nonce, s.pkce = oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	opts = append([]oauth2.AuthCodeOption{gooidc.Nonce(s.nonce), oauth2.S256ChallengeOption(s.pkce)}, opts...)
	return s.conf.AuthCodeURL(s.state, opts...)
}

func (s *service) start(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, s.authURL(), http.StatusFound)
}

// isCallback tells whether u is this service's callback.
func (s *service) isCallback(u *url.URL) bool {
	return "http://"+u.Host == s.srv.URL && u.Path == "/callback"
}

func (s *service) callback(w http.ResponseWriter, r *http.Request) {
	err := s.finish(r.Context(), r.URL.Query(), s.pkce)
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	fmt.Fprintln(w, "signed in")
}

// finish checks the callback's state, exchanges the code with verifier
// and checks the ID token, then reads userinfo.
func (s *service) finish(ctx context.Context, q url.Values, verifier string, opts ...oauth2.AuthCodeOption) error {
	s.mu.Lock()
	state, nonce := s.state, s.nonce
	s.mu.Unlock()
	if e := q.Get("error"); e != "" {
		return fmt.Errorf("provider refused: %s", e)
	}
	if q.Get("state") != state {
		return fmt.Errorf("state %q, want %q", q.Get("state"), state)
	}
	tok, err := s.conf.Exchange(ctx, q.Get("code"), append([]oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, opts...)...)
	if err != nil {
		return fmt.Errorf("exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("ID token: %w", err)
	}
	if idt.Nonce != nonce {
		return fmt.Errorf("nonce %q, want %q", idt.Nonce, nonce)
	}
	var idClaims map[string]any
	if err := idt.Claims(&idClaims); err != nil {
		return err
	}
	ui, err := s.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	var claims map[string]any
	if err := ui.Claims(&claims); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rawID, s.idClaims, s.userinfo, s.token = raw, idClaims, claims, tok
	return nil
}

func (s *service) result() (rawID string, idClaims, userinfo map[string]any, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rawID, s.idClaims, s.userinfo, s.err
}
