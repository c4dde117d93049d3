package main

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/schoollife/ledger/adapters/oidcprovider"
)

// TestServeOIDCProvider: `ledger serve --oidc-provider` is the OpenID
// provider of the services of --oidc-clients (an issuer on the loopback
// may be http). A teacher signed in on the portal with her password
// reaches a service, which gets her directory's claims
// through discovery, the code with PKCE, the ID token and userinfo.
// Someone not signed in is sent to the portal's sign-in
// page, which brings them back.
func TestServeOIDCProvider(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	issuer := "http://" + addr
	const redirect = "http://service.invalid/callback"
	clients := filepath.Join(t.TempDir(), "clients.json")
	file := `{"clients": [{"client_id": "manuels", "name": "Manuels", "redirect_uris": ["` + redirect + `"],
		"secret_hash": "` + oidcprovider.HashSecret("s3cret-du-service") + `"}]}`
	if err := os.WriteFile(clients, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	store := MustLedgerFile(t)
	if _, err := runAccount(t, "create", "--store", store, "--establishment", testUAI, "--profile", "teacher",
		"--name", "Marie Curie", "--login", "marie.curie", "--password-file", MustFile(t, "radium et polonium\n")); err != nil {
		t.Fatal(err)
	}
	startServe(t, "--store", store, "--addr", addr, "--oidc-provider", "--oidc-issuer", issuer, "--oidc-clients", clients).
		mustLog(t, `msg=serving addr=`+regexp.QuoteMeta(addr)+` `)

	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{
		ClientID: "manuels", ClientSecret: "s3cret-du-service", Endpoint: provider.Endpoint(),
		RedirectURL: redirect, Scopes: []string{gooidc.ScopeOpenID, "profile"},
	}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == "service.invalid" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp, b.String()
	}

	state, nonce, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))

	// Not signed in: the portal's sign-in page, which comes back to the
	// authorization step.
	resp, body := get(authURL)
	next := resp.Request.URL.Query().Get("next")
	if resp.Request.URL.Path != "/login" || !strings.HasPrefix(next, "/oidc/login?id=") {
		t.Fatalf("not signed in, ended at %s", resp.Request.URL)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if csrf == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%.500s", body)
	}
	form := url.Values{"login": {"marie.curie"}, "password": {"radium et polonium"}, "next": {next}, "csrf": {csrf[1]}}
	// The directory is built in the background: the account signs in once
	// it is.
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err = browser.PostForm(issuer+"/login", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound {
			break
		}
		if resp.StatusCode != http.StatusUnauthorized || time.Now().After(deadline) {
			t.Fatalf("sign-in answered %d at %s", resp.StatusCode, resp.Request.URL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	loc, err := resp.Location()
	if err != nil || loc.Host != "service.invalid" || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		t.Fatalf("after sign-in, sent to %s", resp.Header.Get("Location"))
	}

	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: "manuels"}).Verify(ctx, raw)
	if err != nil || idt.Nonce != nonce {
		t.Fatalf("ID token: %v (nonce %q)", err, idt.Nonce)
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var claims struct {
		Sub, Name     string
		Establishment string   `json:"ENTPersonStructRattachRNE"`
		Profiles      string   `json:"ENTPersonProfils"`
		Classes       []string `json:"ENTEleveClasses"`
	}
	if err := ui.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Sub != idt.Subject || uuid.Validate(claims.Sub) != nil {
		t.Errorf("userinfo's subject %q, the ID token's %q: not the account id", claims.Sub, idt.Subject)
	}
	if claims.Name != "Marie Curie" || claims.Profiles != "National_ENS" || claims.Establishment != testUAI {
		t.Errorf("claims %+v", claims)
	}

	// Signed in: the next service's sign-in needs nothing more.
	state2 := oauth2.GenerateVerifier()
	resp, _ = get(conf.AuthCodeURL(state2, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if loc, err := resp.Location(); err != nil || loc.Query().Get("state") != state2 || loc.Query().Get("code") == "" {
		t.Fatalf("signed in, sent to %s", resp.Header.Get("Location"))
	}
	// The code is spent once.
	if _, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("a code was taken twice")
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
