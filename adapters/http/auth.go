package http

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Auth is what the API needs of credentials and sessions (adapters/auth
// implements it).
type Auth interface {
	// Authenticate checks a login and password from client address addr.
	// It fails with a generic bad-credentials error or a rate-limit error.
	Authenticate(ctx context.Context, login, password, addr string) (uuid.UUID, error)
	// NewSession opens a session ("session", for the portal's cookie) or a
	// bearer token ("token", for API clients) for an account.
	NewSession(ctx context.Context, account uuid.UUID, kind string) (token string, expires time.Time, err error)
	// Resolve returns the account of a live session or token.
	Resolve(ctx context.Context, token string) (uuid.UUID, error)
	// Revoke ends a session or token.
	Revoke(ctx context.Context, token string) error
}

// sessionResolver is an Auth that also tells when a token's session ends
// (adapters/auth does): the live endpoint closes its sockets then.
type sessionResolver interface {
	ResolveSession(ctx context.Context, token string) (uuid.UUID, time.Time, error)
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

func (e AuthErrors) validate() error {
	if e.BadCredentials == nil || e.RateLimited == nil || e.Unauthenticated == nil {
		return errors.New("http: AuthErrors needs BadCredentials, RateLimited and Unauthenticated")
	}
	return nil
}

// SessionCookie is the name of the portal's session cookie.
const SessionCookie = "ledger_session"

// principal is the signed-in account of a request.
type principal struct {
	actor domain.Actor
	// account is the directory's entry of the account (its links and
	// memberships serve the policy).
	account *projections.AccountEntry
	// session identifies the request's token (sessionID); expires is when
	// it ends, if Auth tells.
	session string
	expires time.Time
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalOf returns the request's signed-in account. Routes that are not
// public always have one (register authenticates first).
func principalOf(r *http.Request) *principal {
	p, _ := r.Context().Value(principalKey{}).(*principal)
	if p == nil {
		panic(fmt.Sprintf("no principal on %s %s: route registered as public?", r.Method, r.URL.Path))
	}
	return p
}

// ActorFromContext returns the signed-in actor of a request handled behind
// the server's authentication (the live endpoint uses it).
func ActorFromContext(ctx context.Context) (domain.Actor, bool) {
	p, ok := ctx.Value(principalKey{}).(*principal)
	if !ok || p == nil {
		return domain.Actor{}, false
	}
	return p.actor, true
}

// SessionFromContext returns the session of a request handled behind the
// server's authentication: an id that names it without revealing the
// token (Config.SessionEnded receives the same on sign-out), and its
// expiry (zero when Auth does not tell). The live endpoint uses them.
func SessionFromContext(ctx context.Context) (id string, expires time.Time, ok bool) {
	p, ok := ctx.Value(principalKey{}).(*principal)
	if !ok || p == nil {
		return "", time.Time{}, false
	}
	return p.session, p.expires, true
}

// sessionID names a token without revealing it: the first half of its
// SHA-256, in base64url.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// requestToken returns the bearer token of the Authorization header, or
// else the session cookie's.
func requestToken(r *http.Request) (token string, fromCookie bool) {
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

// authenticate resolves the request's token to an open account of the
// directory. The account's profile, function, establishment and
// habilitations are those of the directory read model.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	ctx := r.Context()
	token, _ := requestToken(r)
	if token == "" {
		return nil, errUnauthenticated.with("send Authorization: Bearer TOKEN or the session cookie")
	}
	var id uuid.UUID
	var expires time.Time
	var err error
	if sr, ok := s.cfg.Auth.(sessionResolver); ok {
		id, expires, err = sr.ResolveSession(ctx, token)
	} else {
		id, err = s.cfg.Auth.Resolve(ctx, token)
	}
	if errors.Is(err, s.cfg.AuthErrors.Unauthenticated) {
		return nil, errUnauthenticated.with("the session or token is unknown, expired or revoked")
	}
	if err != nil {
		return nil, fmt.Errorf("resolve token: %w", err)
	}
	acc, err := s.openAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	return &principal{account: acc, actor: actorOf(acc), session: sessionID(token), expires: expires}, nil
}

// openAccount returns the directory entry of an open account; an unknown
// or closed one is unauthenticated.
func (s *Server) openAccount(ctx context.Context, id uuid.UUID) (*projections.AccountEntry, error) {
	acc, err := s.cfg.Queries.Account(ctx, id)
	if errors.Is(err, domain.ErrUnknownAccount) {
		return nil, errUnauthenticated.with("the account is unknown or closed")
	}
	if err != nil {
		return nil, fmt.Errorf("load account %s: %w", id, err)
	}
	if acc.Closed {
		return nil, errUnauthenticated.with("the account is unknown or closed")
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
