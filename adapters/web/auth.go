package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Auth is what the web layer needs of credentials and sessions
// (adapters/auth implements it).
type Auth interface {
	// Authenticate checks a login and password from client address addr.
	// It fails with a generic bad-credentials error or a rate-limit error.
	Authenticate(ctx context.Context, login, password, addr string) (uuid.UUID, error)
	// NewSession opens a session ("session", for the portal's cookie) or a
	// bearer token ("token", for API clients) for an account.
	NewSession(ctx context.Context, account uuid.UUID, kind string) (token string, expires time.Time, err error)
	// ResolveSession returns the account of a live session or token and
	// when it ends (the live endpoint closes its sockets then).
	ResolveSession(ctx context.Context, token string) (uuid.UUID, time.Time, error)
	// Revoke ends a session or token.
	Revoke(ctx context.Context, token string) error
}

// Session kinds passed to Auth.NewSession.
const (
	KindSession = "session"
	KindToken   = "token"
)

// AuthErrors are the sentinels Auth's errors are matched against.
type AuthErrors struct {
	// BadCredentials: unknown login or wrong password (401, generic).
	BadCredentials error
	// RateLimited: too many failures for the login or the address (429).
	// If the error has a RetryAfter() time.Duration method, its value is
	// sent as Retry-After.
	RateLimited error
	// Unauthenticated: no such live session or token (401).
	Unauthenticated error
}

// Validate checks that every sentinel is set.
func (e AuthErrors) Validate() error {
	if e.BadCredentials == nil || e.RateLimited == nil || e.Unauthenticated == nil {
		return errors.New("web: AuthErrors needs BadCredentials, RateLimited and Unauthenticated")
	}
	return nil
}

// SessionCookie is the name of the portal's session cookie.
const SessionCookie = "ledger_session"

// Principal is the signed-in account of a request.
type Principal struct {
	actor domain.Actor
	// account is the directory's entry of the account (its links and
	// memberships serve the policy).
	account *projections.AccountEntry
	// session names the request's token (SessionID); expires is when it
	// ends.
	session string
	expires time.Time
}

// Actor is who the principal acts as.
func (p *Principal) Actor() domain.Actor { return p.actor }

// Account is the principal's directory entry.
func (p *Principal) Account() *projections.AccountEntry { return p.account }

type principalKey struct{}

// WithPrincipal returns ctx carrying the signed-in account.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalOf returns the request's signed-in account. Routes that are not
// public always have one (they authenticate first).
func PrincipalOf(r *http.Request) *Principal {
	p, _ := r.Context().Value(principalKey{}).(*Principal)
	if p == nil {
		panic(fmt.Sprintf("no principal on %s %s: route registered as public?", r.Method, r.URL.Path))
	}
	return p
}

// ActorFromContext returns the signed-in actor of a request handled behind
// authentication (the live endpoint uses it).
func ActorFromContext(ctx context.Context) (domain.Actor, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	if !ok || p == nil {
		return domain.Actor{}, false
	}
	return p.actor, true
}

// SessionFromContext returns the session of a request handled behind
// authentication: an id that names it without revealing the token
// (SessionsConfig.SessionEnded receives the same on sign-out), and its
// expiry. The live endpoint uses them.
func SessionFromContext(ctx context.Context) (id string, expires time.Time, ok bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	if !ok || p == nil {
		return "", time.Time{}, false
	}
	return p.session, p.expires, true
}

// SessionID names a token without revealing it: the first half of its
// SHA-256, in base64url.
func SessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// RequestToken returns the bearer token of the Authorization header, or
// else the session cookie's.
func RequestToken(r *http.Request) (token string, fromCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", false
		}
		return strings.TrimSpace(tok), false
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value, true
	}
	return "", false
}

// Accounts reads the directory's accounts (projections.Queries).
type Accounts interface {
	Account(ctx context.Context, id uuid.UUID) (*projections.AccountEntry, error)
}

// Connections records sign-ins (commands.Handlers).
type Connections interface {
	RecordConnection(ctx context.Context, req commands.Request, cmd domain.RecordConnection) (commands.Result, error)
	ActivateAccount(ctx context.Context, req commands.Request, cmd domain.ActivateAccount) (commands.Result, error)
}

// SessionsConfig configures Sessions.
type SessionsConfig struct {
	Auth Auth
	// AuthErrors are the sentinels Auth's errors are matched against with
	// errors.Is (adapters/auth's ErrBadCredentials, ErrRateLimited,
	// ErrUnauthenticated).
	AuthErrors  AuthErrors
	Accounts    Accounts
	Connections Connections
	Logger      *slog.Logger
	// SecureCookies marks the session cookie Secure (behind TLS).
	SecureCookies bool
	// Now is the clock of cookie lifetimes (time.Now by default).
	Now func() time.Time
	// SessionEnded, when set, is told of each sign-out with the session's
	// id (SessionFromContext), so that the live sockets opened with it
	// close on every node.
	SessionEnded func(ctx context.Context, session string) error
}

// Validate checks the configuration and fills defaults.
func (c *SessionsConfig) Validate() error {
	switch {
	case c.Auth == nil:
		return errors.New("web: Auth is required")
	case c.Accounts == nil:
		return errors.New("web: Accounts is required")
	case c.Connections == nil:
		return errors.New("web: Connections is required")
	}
	if err := c.AuthErrors.Validate(); err != nil {
		return err
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Sessions signs accounts in and out and finds the signed-in account of a
// request, for the API and the portal alike.
type Sessions struct {
	cfg SessionsConfig
	log *slog.Logger
}

// NewSessions returns the sessions of cfg.
func NewSessions(cfg SessionsConfig) (*Sessions, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sessions{cfg: cfg, log: cfg.Logger}, nil
}

// Authenticate resolves the request's token to an open account of the
// directory. The account's profile, function, establishment and
// habilitations are those of the directory read model.
func (s *Sessions) Authenticate(r *http.Request) (*Principal, error) {
	ctx := r.Context()
	token, _ := RequestToken(r)
	if token == "" {
		return nil, ErrUnauthenticated.With("send Authorization: Bearer TOKEN or the session cookie")
	}
	id, expires, err := s.cfg.Auth.ResolveSession(ctx, token)
	if errors.Is(err, s.cfg.AuthErrors.Unauthenticated) {
		return nil, ErrUnauthenticated.With("the session or token is unknown, expired or revoked")
	}
	if err != nil {
		return nil, fmt.Errorf("resolve token: %w", err)
	}
	acc, err := s.openAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	noteAccount(ctx, id)
	return &Principal{account: acc, actor: actorOf(acc), session: SessionID(token), expires: expires}, nil
}

// openAccount returns the directory entry of an open account; an unknown
// or closed one is unauthenticated.
func (s *Sessions) openAccount(ctx context.Context, id uuid.UUID) (*projections.AccountEntry, error) {
	acc, err := s.cfg.Accounts.Account(ctx, id)
	if errors.Is(err, domain.ErrUnknownAccount) {
		return nil, ErrUnauthenticated.With("the account is unknown or closed")
	}
	if err != nil {
		return nil, fmt.Errorf("load account %s: %w", id, err)
	}
	if acc.Closed {
		return nil, ErrUnauthenticated.With("the account is unknown or closed")
	}
	return acc, nil
}

// actorOf returns the actor an account acts as.
func actorOf(acc *projections.AccountEntry) domain.Actor {
	return domain.Actor{
		Account: acc.ID, Profile: acc.Profile, Function: acc.Function,
		Establishment: acc.Establishment, Habilitations: acc.Habilitations,
	}
}
