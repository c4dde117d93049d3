package oidcprovider

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Paths the provider serves.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	// Prefix is where every other endpoint is.
	Prefix       = "/oidc/"
	loginPath    = "/oidc/login"
	callbackPath = "/oidc/authorize/callback"
)

// Provider is the ledger as an OpenID provider.
type Provider struct {
	cfg     Config
	keys    *Keys
	op      *op.Provider
	handler http.Handler
}

// New returns the provider of cfg. It reads (or, on the first node,
// creates) the provider's secret in cfg.Store.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	secret, err := cfg.Store.secret(ctx, cfg.Now())
	if err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, keys: newKeys(&cfg)}
	config := &op.Config{
		CryptoKey:                secret,
		DefaultLogoutRedirectURI: cfg.LoggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedUILocales:       []language.Tag{language.French, language.English},
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeProfile},
		SupportedClaims: append([]string{
			"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "at_hash", "c_hash", "azp",
			"name", "preferred_username",
		}, AllClaims...),
	}
	endpoint := func(name string) *op.Endpoint { return op.NewEndpoint(strings.TrimPrefix(Prefix, "/") + name) }
	opts := []op.Option{
		op.WithCustomEndpoints(endpoint("authorize"), endpoint("token"), endpoint("userinfo"),
			endpoint("revoke"), endpoint("end_session"), endpoint("keys")),
		op.WithCustomIntrospectionEndpoint(endpoint("introspect")),
		op.WithCustomDeviceAuthorizationEndpoint(endpoint("device_authorization")),
	}
	if cfg.AllowInsecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	issuer := op.StaticIssuer(cfg.Issuer)
	if cfg.Issuer == "" {
		issuer = op.IssuerFromHost("")
	}
	p.op, err = op.NewProvider(config, &storage{p: p}, issuer, opts...)
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+DiscoveryPath, p.op)
	mux.HandleFunc("GET "+loginPath, p.login)
	browser := frenchErrors(p.op)
	mux.Handle("GET /oidc/authorize", browser)
	mux.Handle("POST /oidc/authorize", browser)
	mux.Handle("GET "+callbackPath, browser)
	endSession := frenchErrors(withExchange(p.op))
	mux.Handle("GET /oidc/end_session", endSession)
	mux.Handle("POST /oidc/end_session", endSession)
	mux.Handle(Prefix, p.op)
	p.handler = mux
	return p, nil
}

// Handler serves DiscoveryPath and everything under Prefix.
func (p *Provider) Handler() http.Handler { return p.handler }

// Keys are the provider's signing keys.
func (p *Provider) Keys() *Keys { return p.keys }

// login is the step between the service's authorization request and its
// code: the portal's session says who the person is (they sign in first
// when they have not), and the sign-in is theirs. Consent is implicit: the
// service was registered by the establishment.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.URL.Query().Get("id")
	req, err := p.cfg.Store.request(ctx, id, p.cfg.Now())
	if err != nil {
		if !errors.Is(err, errNotFound) {
			p.cfg.Logger.ErrorContext(ctx, "OpenID sign-in not read", "err", err)
		}
		frenchPage(w, http.StatusBadRequest, msgExpired)
		return
	}
	account, ok, err := p.cfg.Sessions.SignedIn(r)
	if err != nil {
		p.cfg.Logger.ErrorContext(ctx, "portal session not read", "err", err)
		frenchPage(w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	if !ok {
		next := loginPath + "?id=" + url.QueryEscape(id)
		http.Redirect(w, r, p.cfg.LoginPath+"?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	if req.account != "" {
		if req.account != account.String() {
			frenchPage(w, http.StatusBadRequest, msgExpired)
			return
		}
		http.Redirect(w, r, callbackPath+"?id="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	if reason := p.refuse(ctx, account, req.clientID); reason != "" {
		p.cfg.Logger.InfoContext(ctx, "OpenID sign-in refused", "client", req.clientID, "account", account, "reason", reason)
		op.AuthRequestError(w, r, &authRequest{req}, oidc.ErrAccessDenied().WithDescription("%s", reason), p.op)
		return
	}
	if err := p.cfg.Store.signedIn(ctx, id, account.String(), p.cfg.Now()); err != nil {
		p.cfg.Logger.WarnContext(ctx, "OpenID sign-in not completed", "err", err)
		frenchPage(w, http.StatusBadRequest, msgExpired)
		return
	}
	http.Redirect(w, r, callbackPath+"?id="+url.QueryEscape(id), http.StatusSeeOther)
}

// refuse says why account may not reach the client, "" when it may.
func (p *Provider) refuse(ctx context.Context, account uuid.UUID, clientID string) string {
	c, err := p.cfg.Clients.Client(ctx, clientID)
	if err != nil {
		return "the service is no longer registered"
	}
	person, err := p.cfg.People.Person(ctx, account)
	if err != nil || person.Closed {
		return "the account cannot sign in"
	}
	if c.Establishment != "" && !person.In(c.Establishment) {
		return "the service is not open to this account's establishment"
	}
	return ""
}

// Messages of the pages the person may see.
const (
	msgExpired     = "Cette connexion au service a expiré ou n'est plus valable. Retournez sur le service et connectez-vous de nouveau."
	msgRefused     = "Le service n'a pas pu vous connecter : il n'est pas inscrit auprès de l'établissement ou son adresse de retour n'est pas la bonne. Prévenez l'administrateur de l'ENT."
	msgUnavailable = "L'ENT ne peut pas vous connecter au service pour le moment. Réessayez dans quelques minutes."
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Connexion à un service</title></head>
<body><main><h1>Connexion à un service</h1><p>{{.}}</p><p><a href="/">Retour à l'accueil de l'ENT</a></p></main></body></html>
`))

func frenchPage(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_ = page.Execute(w, msg)
}

// frenchErrors shows a page in French instead of op's own error answers
// (English text or JSON) on the steps a person's browser goes through.
// Errors that op redirects to the service are left as they are.
func frenchErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&errorPage{ResponseWriter: w}, r)
	})
}

type errorPage struct {
	http.ResponseWriter
	replaced bool
}

func (e *errorPage) WriteHeader(code int) {
	if code >= 400 {
		e.replaced = true
		msg := msgRefused
		if code >= 500 {
			msg = msgUnavailable
		}
		frenchPage(e.ResponseWriter, code, msg)
		return
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *errorPage) Write(b []byte) (int, error) {
	if e.replaced {
		return len(b), nil
	}
	return e.ResponseWriter.Write(b)
}

func (e *errorPage) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// exchange is the request of an end-session, for the storage to end the
// portal session (op passes it the context only).
type exchange struct {
	w http.ResponseWriter
	r *http.Request
}

type exchangeKey struct{}

func withExchange(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &exchange{w: w}
		r = r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x))
		x.r = r
		next.ServeHTTP(w, r)
	})
}
