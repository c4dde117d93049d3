package oidcprovider

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/schoollife/ledger/domain"
)

// Client is a service registered to sign people in through the ledger.
type Client struct {
	// ID is the client_id.
	ID string
	// Name is the service's name, for logs.
	Name string
	// Establishment, when set, is the UAI of the establishment that
	// registered the service: only its people may reach it.
	Establishment string
	// RedirectURIs are the URIs codes may be sent to, matched exactly.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where a logout may return, matched
	// exactly.
	PostLogoutRedirectURIs []string
	// SecretHash is HashSecret of the client's secret; empty for a public
	// client, which must use PKCE with S256.
	SecretHash string
	// Attributes are the claims released beyond "sub" (Claim...).
	Attributes []string
}

// Public tells whether the client has no secret.
func (c Client) Public() bool { return c.SecretHash == "" }

// HashSecret returns how a client's secret is kept, as the registry of
// connected services keeps it (domain.HashClientSecret).
func HashSecret(secret string) string { return domain.HashClientSecret(secret) }

// checkSecret compares secret with the client's hash in constant time.
func (c Client) checkSecret(secret string) bool {
	if c.Public() || secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(c.SecretHash)) == 1
}

// ErrUnknownClient is the error of Clients for a client that is not
// registered.
var ErrUnknownClient = errors.New("client not registered")

// Clients gives the registered clients (the registry of connected
// services).
type Clients interface {
	// Client returns a registered client, ErrUnknownClient when there is
	// none of that id.
	Client(ctx context.Context, clientID string) (Client, error)
}

// Accesses records that a person reached a service (service.accessed.v1).
type Accesses interface {
	RecordAccess(ctx context.Context, account uuid.UUID, clientID string) error
}

// ErrUnknownPerson is the error of People for an account that is unknown.
var ErrUnknownPerson = errors.New("no such person")

// Person is what the provider tells services of a person: the same as the
// CAS server releases.
type Person struct {
	// Login is the person's login (empty for an account that signs in
	// through single sign-on only).
	Login       string
	DisplayName string
	// Profile is the national profile (National_ELV, National_TUT,
	// National_ENS...).
	Profile string
	// Establishment is the UAI of the person's establishment;
	// Establishments their others.
	Establishment  string
	Establishments []string
	Classes        []string
	Groups         []string
	// Jointure is the person's ENTPersonJointure (the national directory's
	// identifier the feed brought).
	Jointure string
	Closed   bool
}

// In tells whether the person belongs to the establishment uai.
func (p Person) In(uai string) bool {
	if p.Establishment == uai {
		return true
	}
	for _, e := range p.Establishments {
		if e == uai {
			return true
		}
	}
	return false
}

// People reads the directory.
type People interface {
	// Person returns the person of an account, ErrUnknownPerson when
	// there is none.
	Person(ctx context.Context, account uuid.UUID) (Person, error)
}

// Sessions are the portal's sessions.
type Sessions interface {
	// SignedIn returns the account of the request's portal session; ok is
	// false when nobody is signed in.
	SignedIn(r *http.Request) (account uuid.UUID, ok bool, err error)
	// SignOut ends the request's portal session and clears its cookie.
	SignOut(w http.ResponseWriter, r *http.Request) error
}

// Lifetimes and their bounds.
const (
	DefaultIDTokenLifetime     = 5 * time.Minute
	DefaultAccessTokenLifetime = 5 * time.Minute
	MaxTokenLifetime           = time.Hour
	DefaultCodeLifetime        = time.Minute
	// DefaultSignInLifetime bounds a sign-in from the service's redirect
	// to the code (the person may have to type their password).
	DefaultSignInLifetime = 15 * time.Minute
	// DefaultRotateEvery is how often a new signing key is made.
	DefaultRotateEvery = 30 * 24 * time.Hour
	// DefaultPublishAhead is how long a new key is published before it
	// signs, so that services that cache the keys see it first.
	DefaultPublishAhead = time.Hour
)

// Config configures the provider.
type Config struct {
	// Issuer is the ledger's public URL (https://ent.example.fr), with no
	// path: discovery is at its /.well-known/openid-configuration. Empty
	// with AllowInsecure (the demo), it is the scheme and host each
	// request came to.
	Issuer   string
	Store    *Store
	Clients  Clients
	Accesses Accesses
	People   People
	Sessions Sessions
	// LoginPath is the portal's sign-in page, given the step to come back
	// to in its "next" parameter ("/login").
	LoginPath string
	// LoggedOutPath is where a logout ends when the service names no
	// return ("/login?ok=signedout").
	LoggedOutPath string
	Logger        *slog.Logger
	// Now is the clock of codes, tokens and keys (time.Now).
	Now func() time.Time
	// IDTokenLifetime and AccessTokenLifetime: DefaultIDTokenLifetime and
	// DefaultAccessTokenLifetime, at most MaxTokenLifetime.
	IDTokenLifetime     time.Duration
	AccessTokenLifetime time.Duration
	CodeLifetime        time.Duration
	SignInLifetime      time.Duration
	// RotateEvery (DefaultRotateEvery) and PublishAhead
	// (DefaultPublishAhead) schedule the signing keys (Keys).
	RotateEvery  time.Duration
	PublishAhead time.Duration
	// AllowInsecure accepts an http issuer (tests, demo on the loopback).
	AllowInsecure bool
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.Issuer)
	switch {
	case c.Issuer == "" && c.AllowInsecure:
	case c.Issuer == "" || err != nil || u.Host == "":
		errs = append(errs, fmt.Errorf("oidcprovider: issuer %q is not an absolute URL", c.Issuer))
	case u.Scheme != "https" && !(c.AllowInsecure && u.Scheme == "http"):
		errs = append(errs, fmt.Errorf("oidcprovider: issuer %q is not https", c.Issuer))
	case strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, fmt.Errorf("oidcprovider: issuer %q has a path, query or fragment: discovery must be at the host's /.well-known/openid-configuration", c.Issuer))
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.Store == nil || c.Clients == nil || c.Accesses == nil || c.People == nil || c.Sessions == nil {
		errs = append(errs, errors.New("oidcprovider: Store, Clients, Accesses, People and Sessions are required"))
	}
	if c.LoginPath == "" {
		c.LoginPath = "/login"
	}
	if c.LoggedOutPath == "" {
		c.LoggedOutPath = "/login?ok=signedout"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.IDTokenLifetime, DefaultIDTokenLifetime)
	def(&c.AccessTokenLifetime, DefaultAccessTokenLifetime)
	def(&c.CodeLifetime, DefaultCodeLifetime)
	def(&c.SignInLifetime, DefaultSignInLifetime)
	def(&c.RotateEvery, DefaultRotateEvery)
	def(&c.PublishAhead, DefaultPublishAhead)
	for name, d := range map[string]time.Duration{"ID token": c.IDTokenLifetime, "access token": c.AccessTokenLifetime} {
		if d < 0 || d > MaxTokenLifetime {
			errs = append(errs, fmt.Errorf("oidcprovider: %s lifetime %s is not between 0 and %s", name, d, MaxTokenLifetime))
		}
	}
	if c.CodeLifetime < 0 || c.CodeLifetime > 10*time.Minute {
		errs = append(errs, fmt.Errorf("oidcprovider: code lifetime %s is over 10m", c.CodeLifetime))
	}
	if c.RotateEvery < c.PublishAhead+c.IDTokenLifetime {
		errs = append(errs, fmt.Errorf("oidcprovider: keys rotated every %s, less than they are published ahead (%s) plus a token's lifetime", c.RotateEvery, c.PublishAhead))
	}
	return errors.Join(errs...)
}
