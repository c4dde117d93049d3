// Package demoservice is the demo's connected service: a small page the
// ledger serves itself under /demo-service/ (serve --demo), which signs
// people in through the ledger's CAS server and through its OpenID
// provider, as a school's service would, and shows the attributes it
// received. It speaks to the ledger over HTTP, at the address the
// browser used, so that both flows are the real ones.
package demoservice

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Paths of the demo service.
const (
	Prefix       = "/demo-service/"
	PathCAS      = "/demo-service/cas"
	PathCallback = "/demo-service/oidc/callback"
	pathOIDC     = "/demo-service/oidc"
	flowCookie   = "demo_service_flow"
)

// Config configures the demo service.
type Config struct {
	// ClientID is its OpenID Connect client id (a public client: PKCE).
	ClientID string
	// Issuer is the ledger's public URL (--oidc-issuer); empty, the
	// scheme http and the host each request came to (the demo on the
	// loopback).
	Issuer string
	// Client calls the ledger (validation, discovery, tokens); nil: one
	// with a 10 s timeout.
	Client *http.Client
	Logger *slog.Logger
}

// Service is the demo service.
type Service struct {
	cfg  Config
	page *template.Template
}

// New returns the demo service.
func New(cfg Config) (*Service, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("demoservice: ClientID is required")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	page, err := template.New("demo").Parse(pageHTML)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, page: page}, nil
}

// Handler serves the demo service under Prefix.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"{$}", s.home)
	mux.HandleFunc("GET "+PathCAS, s.cas)
	mux.HandleFunc("GET "+pathOIDC, s.oidcStart)
	mux.HandleFunc("GET "+PathCallback, s.oidcCallback)
	return mux
}

// base is the ledger's address: the issuer, or as the browser used it
// (the demo on http, on the loopback, where the registered URLs are).
func (s *Service) base(r *http.Request) string {
	if s.cfg.Issuer != "" {
		return s.cfg.Issuer
	}
	return "http://" + r.Host
}

// Attribute is one attribute received, with its values.
type Attribute struct {
	Name   string
	Values []string
}

type pageData struct {
	Protocol string
	User     string
	Attrs    []Attribute
	Problem  string
}

func (s *Service) home(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, pageData{})
}

// cas signs in through the ledger's CAS server: without a ticket, to its
// /cas/login; with one, validated at /cas/p3/serviceValidate.
func (s *Service) cas(w http.ResponseWriter, r *http.Request) {
	service := s.base(r) + PathCAS
	ticket := r.URL.Query().Get("ticket")
	if ticket == "" {
		http.Redirect(w, r, s.base(r)+"/cas/login?service="+url.QueryEscape(service), http.StatusFound)
		return
	}
	user, attrs, err := s.validate(r.Context(), s.base(r), service, ticket)
	if err != nil {
		s.cfg.Logger.InfoContext(r.Context(), "demo service: CAS ticket refused", "err", err)
		s.render(w, http.StatusForbidden, pageData{Protocol: "CAS", Problem: "Le ticket CAS a été refusé par l'ENT."})
		return
	}
	s.render(w, http.StatusOK, pageData{Protocol: "CAS 3.0", User: user, Attrs: attrs})
}

// casResponse is the CAS 3.0 validation response.
type casResponse struct {
	Success *struct {
		User       string `xml:"user"`
		Attributes struct {
			Any []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"attributes"`
	} `xml:"authenticationSuccess"`
	Failure *struct {
		Code string `xml:"code,attr"`
	} `xml:"authenticationFailure"`
}

func (s *Service) validate(ctx context.Context, base, service, ticket string) (string, []Attribute, error) {
	u := base + "/cas/p3/serviceValidate?" + url.Values{"service": {service}, "ticket": {ticket}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", nil, err
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return "", nil, fmt.Errorf("validate: %w", err)
	}
	defer resp.Body.Close()
	var v casResponse
	if err := xml.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v); err != nil {
		return "", nil, fmt.Errorf("validate: %w", err)
	}
	if v.Success == nil {
		code := ""
		if v.Failure != nil {
			code = v.Failure.Code
		}
		return "", nil, fmt.Errorf("validate: failure %q", code)
	}
	var attrs []Attribute
	for _, a := range v.Success.Attributes.Any {
		name := a.XMLName.Local
		if i := slices.IndexFunc(attrs, func(x Attribute) bool { return x.Name == name }); i >= 0 {
			attrs[i].Values = append(attrs[i].Values, a.Value)
		} else {
			attrs = append(attrs, Attribute{Name: name, Values: []string{a.Value}})
		}
	}
	return v.Success.User, attrs, nil
}

// oauth returns the provider (by discovery at the ledger) and the
// client's configuration.
func (s *Service) oauth(r *http.Request) (*gooidc.Provider, oauth2.Config, error) {
	ctx := gooidc.ClientContext(r.Context(), s.cfg.Client)
	p, err := gooidc.NewProvider(ctx, s.base(r))
	if err != nil {
		return nil, oauth2.Config{}, fmt.Errorf("discovery: %w", err)
	}
	conf := oauth2.Config{
		ClientID: s.cfg.ClientID, Endpoint: p.Endpoint(), RedirectURL: s.base(r) + PathCallback,
		Scopes: []string{gooidc.ScopeOpenID, "profile"},
	}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	return p, conf, nil
}

// oidcStart sends the browser to the ledger's authorization endpoint
// with state, nonce and a PKCE challenge, kept in a cookie of the demo
// service's path until the callback.
func (s *Service) oidcStart(w http.ResponseWriter, r *http.Request) {
	_, conf, err := s.oauth(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{
		Name: flowCookie, Value: state + "." + nonce + "." + verifier, Path: Prefix,
		MaxAge: 900, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, conf.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// oidcCallback takes the code: checks the state, exchanges the code with
// the verifier, verifies the ID token and its nonce, reads userinfo.
func (s *Service) oidcCallback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(flowCookie)
	parts := []string{}
	if err == nil {
		parts = strings.Split(c.Value, ".")
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Path: Prefix, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	if len(parts) != 3 || q.Get("state") != parts[0] || q.Get("code") == "" {
		s.render(w, http.StatusBadRequest, pageData{Protocol: "OpenID Connect", Problem: "La connexion n'a pas abouti : recommencez depuis cette page."})
		return
	}
	p, conf, err := s.oauth(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := gooidc.ClientContext(r.Context(), s.cfg.Client)
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(parts[2]))
	if err != nil {
		s.fail(w, r, fmt.Errorf("exchange: %w", err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&gooidc.Config{ClientID: s.cfg.ClientID}).Verify(ctx, raw)
	if err != nil || idt.Nonce != parts[1] {
		s.fail(w, r, fmt.Errorf("ID token: %v", err))
		return
	}
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		s.fail(w, r, fmt.Errorf("userinfo: %w", err))
		return
	}
	var claims map[string]any
	if err := ui.Claims(&claims); err != nil {
		s.fail(w, r, err)
		return
	}
	var attrs []Attribute
	for name, v := range claims {
		a := Attribute{Name: name}
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				a.Values = append(a.Values, fmt.Sprint(x))
			}
		default:
			a.Values = []string{fmt.Sprint(v)}
		}
		attrs = append(attrs, a)
	}
	slices.SortFunc(attrs, func(a, b Attribute) int { return strings.Compare(a.Name, b.Name) })
	s.render(w, http.StatusOK, pageData{Protocol: "OpenID Connect", User: idt.Subject, Attrs: attrs})
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.WarnContext(r.Context(), "demo service: OpenID Connect sign-in failed", "err", err)
	s.render(w, http.StatusBadGateway, pageData{Protocol: "OpenID Connect", Problem: "L'ENT n'a pas confirmé la connexion : recommencez depuis cette page."})
}

func (s *Service) render(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = s.page.Execute(w, d)
}

const pageHTML = `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Service de démonstration</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem">
<p style="background: #fff3cd; padding: .5rem 1rem; border-radius: .3rem"><strong>Service de démonstration</strong> :
ce n'est pas un vrai service de l'établissement, mais un exemple fourni avec l'ENT de démonstration pour essayer la connexion unique.</p>
<h1>Service de démonstration</h1>
<p>Un service de l'établissement (vie scolaire, manuels numériques, Moodle…) connecte ses usagers par l'ENT, sans second mot de passe.
Essayez les deux protocoles :</p>
<ul>
<li><a href="/demo-service/cas">Se connecter par CAS</a></li>
<li><a href="/demo-service/oidc">Se connecter par OpenID Connect</a></li>
</ul>
{{with .Problem}}<p role="alert"><strong>{{.}}</strong></p>{{end}}
{{if .User}}<h2>Connecté par {{.Protocol}}</h2>
<p>Identifiant reçu : <code id="user">{{.User}}</code></p>
<p>Informations transmises par l'ENT :</p>
<table id="attributes"><tbody>
{{range .Attrs}}<tr><th scope="row" style="text-align: left"><code>{{.Name}}</code></th><td>{{range $i, $v := .Values}}{{if $i}}, {{end}}{{$v}}{{end}}</td></tr>
{{end}}</tbody></table>{{end}}
<p><a href="/">Retour à l'ENT</a></p>
</body></html>
`
