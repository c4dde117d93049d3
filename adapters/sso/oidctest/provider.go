// Package oidctest runs an OpenID provider in the test process, built
// with zitadel/oidc's op package over an in-memory storage: the relying
// party's tests sign in through it as through a real provider (discovery,
// keys, authorization code with PKCE, token and userinfo endpoints), and
// can make it misbehave (another nonce, another audience) to see the
// relying party refuse.
package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/text/language"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is the person the provider's login page signs in.
type User struct {
	Subject string
	// Claims go in the ID token (when the client's ClaimsInIDToken) and
	// the userinfo answer.
	Claims map[string]any
}

// Client is a client registered at the provider.
type Client struct {
	ID, Secret  string
	RedirectURI string
	// IDTokenLifetime defaults to one hour.
	IDTokenLifetime time.Duration
	// ClaimsInIDToken puts the user's claims in the ID token; otherwise
	// they are only given by userinfo.
	ClaimsInIDToken bool
}

// Tamper makes the provider issue wrong ID tokens.
type Tamper struct {
	// Nonce, when set, replaces the nonce of the sign-in.
	Nonce string
	// IDToken, when set, changes the claims of the ID tokens the token
	// endpoint answers; they are signed again with the provider's key, so
	// only what the relying party checks in the claims can refuse them.
	IDToken func(claims map[string]any)
	// ForeignKey signs the changed ID tokens with a key that is not the
	// provider's (under the provider's key id).
	ForeignKey bool
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's issuer URL (http on the loopback).
	Issuer string
	// Server serves it.
	Server *httptest.Server
	st     *storage
}

// Start runs a provider until the test ends.
func Start(t testing.TB) *Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("oidctest: listen: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Listener.Close()
	srv.Listener = ln
	issuer := "http://" + ln.Addr().String()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("oidctest: key: %v", err)
	}
	st := &storage{
		key: key, keyID: "test-key-1",
		clients: map[string]*client{}, requests: map[string]*authRequest{},
		codes: map[string]string{}, tokens: map[string]*token{},
	}
	config := &op.Config{
		CryptoKey:          sha256.Sum256([]byte("oidctest " + issuer)),
		CodeMethodS256:     true,
		AuthMethodPost:     true,
		SupportedUILocales: []language.Tag{language.French},
	}
	provider, err := op.NewProvider(config, st, op.StaticIssuer(issuer),
		op.WithAllowInsecure(), op.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("oidctest: provider: %v", err)
	}
	mux := http.NewServeMux()
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	callback := op.AuthCallbackURL(provider)
	mux.Handle("/login", interceptor.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		if err := st.signIn(id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}))
	mux.Handle("/", st.tamperTokens(provider))
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &Provider{Issuer: issuer, Server: srv, st: st}
}

// AddClient registers a client.
func (p *Provider) AddClient(c Client) {
	if c.IDTokenLifetime == 0 {
		c.IDTokenLifetime = time.Hour
	}
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.clients[c.ID] = &client{Client: c}
}

// SignIn sets the person the login page signs in.
func (p *Provider) SignIn(u User) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.user = u
}

// SetTamper makes the next ID tokens wrong as t says.
func (p *Provider) SetTamper(t Tamper) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.tamper = t
}

// TokensIssued counts the token requests the provider granted.
func (p *Provider) TokensIssued() int {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.issued
}

// AuthorizeURLHost tells whether u points at this provider.
func (p *Provider) AuthorizeURLHost(u *url.URL) bool {
	return "http://"+u.Host == p.Issuer
}

// signingKey and publicKey give the provider's ES256 key to op.
type signingKey struct {
	id  string
	key *ecdsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

var _ op.Storage = (*storage)(nil)
