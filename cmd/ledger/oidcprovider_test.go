package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/schoollife/ledger/adapters/oidcprovider"
)

// mustOIDCClient registers an OpenID Connect client for the test's
// establishment with `ledger services register --kind oidc` and returns
// its client id and secret ("" for a public client).
func mustOIDCClient(t *testing.T, store, name, redirect string, public bool) (id, secret string) {
	t.Helper()
	args := []string{"services", "register", "--kind", "oidc", "--store", store, "--establishment", testUAI, "--name", name,
		"--redirect-uri", redirect, "--post-logout-uri", redirect + "/bye"}
	if public {
		args = append(args, "--public")
	}
	code, out, errOut, _ := exit(t, nil, nil, args...)
	m := regexp.MustCompile(`(?m)^client_id: (\S+)$`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("register %s: %d %s %s", name, code, out, errOut)
	}
	if s := regexp.MustCompile(`(?m)^client_secret: (\S+)$`).FindStringSubmatch(out); s != nil {
		secret = s[1]
	}
	if public != (secret == "") {
		t.Fatalf("register %s (public %v): %s", name, public, out)
	}
	return m[1], secret
}

// authorizes tells whether the provider takes an authorization request of
// client for redirect (it sends the browser on to sign in) rather than
// refusing it; it follows no redirect.
func authorizes(t *testing.T, issuer, client, redirect string) bool {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u := issuer + oidcprovider.Prefix + "authorize?" + url.Values{
		"client_id": {client}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
	}.Encode()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if loc != nil && loc.Query().Get("code") != "" {
		t.Fatalf("a code without sign-in: %s", loc)
	}
	return resp.StatusCode == http.StatusFound && loc != nil && strings.HasPrefix(loc.Path, oidcprovider.Prefix)
}

// TestServeOIDCProvider: `ledger serve --oidc-provider` is the OpenID
// provider of the OpenID Connect clients of the registry of connected
// services (an issuer on the loopback may be http). A client registered
// with `ledger services register --kind oidc` gets a teacher's claims
// through discovery, the code with PKCE, the ID token and userinfo; each
// code taken appends service.accessed.v1. An unregistered client, a CAS
// service's id and, after `services remove`, a removed client are
// refused; so is a wrong secret.
func TestServeOIDCProvider(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	issuer := "http://" + addr
	// The service's address: nothing answers there, the browser stops.
	const redirect = "http://localhost:9/callback"
	store := MustLedgerFile(t)
	path := strings.TrimPrefix(store, "sqlite:")
	ids := mustAccounts(t, store)
	clientID, secret := mustOIDCClient(t, store, "Manuels", redirect, false)
	removed, _ := mustOIDCClient(t, store, "Ancien service", redirect, true)
	mustService(t, store, "Pronote", "https://pronote.example.fr/cas", false)
	if uuid.Validate(clientID) != nil || len(secret) < 43 {
		t.Fatalf("client id %q, secret of %d characters", clientID, len(secret))
	}
	startServe(t, "--store", store, "--addr", addr, "--oidc-provider", "--oidc-issuer", issuer).
		mustLog(t, `msg=serving addr=`+regexp.QuoteMeta(addr)+` `)
	waitFor(t, "the provider knows its clients", func() bool { return authorizes(t, issuer, clientID, redirect) })

	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{
		ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
		RedirectURL: redirect, Scopes: []string{gooidc.ScopeOpenID, "profile"},
	}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	b := newBrowser(t, issuer, true)
	b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == "localhost:9" {
			return http.ErrUseLastResponse
		}
		return nil
	}

	state, nonce, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))

	// Not signed in: the portal's sign-in page, which comes back to the
	// authorization step.
	resp, body := b.get(t, authURL)
	next := resp.Request.URL.Query().Get("next")
	if resp.Request.URL.Path != "/login" || !strings.HasPrefix(next, "/oidc/login?id=") {
		t.Fatalf("not signed in, ended at %s", resp.Request.URL)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if csrf == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%.500s", body)
	}
	form := url.Values{"login": {"prof.martin"}, "password": {DemoPassword}, "next": {next}, "csrf": {csrf[1]}}
	resp, err = b.c.PostForm(issuer+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Host != "localhost:9" || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		t.Fatalf("after sign-in (%d), sent to %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	before := accesses(t, path)
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil || idt.Nonce != nonce {
		t.Fatalf("ID token: %v (nonce %q)", err, idt.Nonce)
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var claims struct {
		Sub, Name     string
		Login         string `json:"ENTPersonLogin"`
		Establishment string `json:"ENTPersonStructRattachRNE"`
		Profiles      string `json:"ENTPersonProfils"`
	}
	if err := ui.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Sub != idt.Subject || claims.Sub != ids["prof.martin"] {
		t.Errorf("userinfo's subject %q, the ID token's %q: not the account id %s", claims.Sub, idt.Subject, ids["prof.martin"])
	}
	if claims.Name != "M. Martin" || claims.Login != "prof.martin" || claims.Profiles != "National_ENS" || claims.Establishment != testUAI {
		t.Errorf("claims %+v", claims)
	}
	if got := accesses(t, path); got != before+1 {
		t.Fatalf("%d accesses recorded for a code taken, want 1", got-before)
	}

	// Signed in: the next service's sign-in needs nothing more.
	state2 := oauth2.GenerateVerifier()
	resp, _ = b.get(t, conf.AuthCodeURL(state2, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	loc2, err := resp.Location()
	if err != nil || loc2.Query().Get("state") != state2 || loc2.Query().Get("code") == "" {
		t.Fatalf("signed in, sent to %s", resp.Header.Get("Location"))
	}
	// A wrong secret gets no token, and records nothing.
	wrong := conf
	wrong.ClientSecret = secret + "x"
	if _, err := wrong.Exchange(ctx, loc2.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("a wrong secret got a token")
	}
	// The code is spent once.
	if _, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("a code was taken twice")
	}

	// Refused: a client nobody registered, a CAS service's id, another
	// redirect URI; a client once removed.
	_, list, _, _ := exit(t, nil, nil, "services", "list", "--store", store, "--establishment", testUAI)
	cas := regexp.MustCompile(`(?m)^(\S+)\tcas\t`).FindStringSubmatch(list)
	if cas == nil {
		t.Fatalf("no CAS service listed:\n%s", list)
	}
	for _, c := range []struct{ name, client, redirect string }{
		{"unregistered", uuid.NewString(), redirect},
		{"a CAS service", cas[1], "https://pronote.example.fr/cas"},
		{"not a uuid", "manuels", redirect},
		{"other redirect", clientID, "http://localhost:9/elsewhere"},
	} {
		if authorizes(t, issuer, c.client, c.redirect) {
			t.Errorf("%s: authorized", c.name)
		}
	}
	if !authorizes(t, issuer, removed, redirect) {
		t.Fatal("the client to remove is refused before its removal")
	}
	if code, out, errOut, _ := exit(t, nil, nil, "services", "remove", "--store", store, "--service", removed); code != 0 {
		t.Fatalf("remove: %s %s", out, errOut)
	}
	waitFor(t, "the removed client is refused", func() bool { return !authorizes(t, issuer, removed, redirect) })
	if got := accesses(t, path); got != before+1 {
		t.Fatalf("refusals recorded %d accesses", got-before-1)
	}
}

// TestOIDCRotateKeys: `ledger oidc rotate-keys` makes the next signing
// key, each time another; a negative --signs-in is refused.
func TestOIDCRotateKeys(t *testing.T) {
	t.Parallel()
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	re := regexp.MustCompile(`^signing key ([0-9a-f]{24}) published; it signs from \S+\n$`)
	var ids []string
	for range 2 {
		out, err := runLedger(t, "oidc", "rotate-keys", "--store", store, "--signs-in", "0")
		m := re.FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("rotate-keys: %v\n%s", err, out)
		}
		ids = append(ids, m[1])
	}
	if ids[0] == ids[1] {
		t.Fatalf("the same key twice: %v", ids)
	}
	if _, err := runLedger(t, "oidc", "rotate-keys", "--store", store, "--signs-in", "-1s"); err == nil {
		t.Fatal("a negative --signs-in was taken")
	}
}

// TestOIDCProviderSettings: --demo turns the provider on, its issuer the
// host each request comes to, http allowed; http is allowed otherwise for
// an issuer on the loopback only.
func TestOIDCProviderSettings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args         []string
		on           bool
		issuer       string
		allowingHTTP bool
	}{
		{[]string{"serve"}, false, "", false},
		{[]string{"serve", "--demo"}, true, "", true},
		{[]string{"serve", "--oidc-provider", "--oidc-issuer", "https://ent.example.fr"}, true, "https://ent.example.fr", false},
		{[]string{"serve", "--oidc-provider", "--oidc-issuer", "http://ent.example.fr"}, true, "http://ent.example.fr", false},
		{[]string{"serve", "--oidc-provider", "--oidc-issuer", "http://127.0.0.1:8080"}, true, "http://127.0.0.1:8080", true},
		{[]string{"serve", "--oidc-provider", "--oidc-issuer", "http://localhost:8080"}, true, "http://localhost:8080", true},
	} {
		cfg, err := configOf(t, nil, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		issuer, insecure := cfg.oidcIssuer()
		if cfg.OIDCProvider != c.on || issuer != c.issuer || insecure != c.allowingHTTP {
			t.Errorf("%v: provider %v, issuer %q, http %v", c.args, cfg.OIDCProvider, issuer, insecure)
		}
	}
}

// TestServeOIDCProviderNeedsIssuer: outside the demo, the provider does
// not start without its public URL.
func TestServeOIDCProviderNeedsIssuer(t *testing.T) {
	t.Parallel()
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	_, err := runLedger(t, "serve", "--oidc-provider", "--addr", "127.0.0.1:0", "--seal-every", "0", "--store", store)
	if err == nil || !strings.Contains(err.Error(), "--oidc-issuer") {
		t.Fatalf("serve without --oidc-issuer: %v", err)
	}
}
