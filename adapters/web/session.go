package web

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// SignedIn is an opened session.
type SignedIn struct {
	Account *projections.AccountEntry
	Token   string
	Expires time.Time
}

// SignIn checks credentials, records the connection (and the account's
// first use), and opens a session of kind. Every failure that could tell
// whether an account exists is the same ErrBadCredentials; too many
// failures are ErrRateLimited, with how long to wait. When the event store
// is unavailable (full, unreachable) but the credentials and the directory
// can be read, the user signs in without the connection being recorded:
// reading must not wait for the store (Auth keeps the session itself when
// its database cannot).
func (s *Sessions) SignIn(r *http.Request, login, password, kind string) (*SignedIn, error) {
	ctx := r.Context()
	id, err := s.cfg.Auth.Authenticate(ctx, login, password, ClientAddr(r))
	switch {
	case errors.Is(err, s.cfg.AuthErrors.RateLimited):
		e := *ErrRateLimited
		var ra interface{ RetryAfter() time.Duration }
		if errors.As(err, &ra) {
			e.retryAfter = ra.RetryAfter()
		}
		return nil, &e
	case errors.Is(err, s.cfg.AuthErrors.BadCredentials):
		return nil, ErrBadCredentials
	case err != nil:
		return nil, err
	}
	return s.open(r, id, domain.SignInPassword, kind)
}

// SignInAccount opens a session of kind for an account that an identity
// provider vouched for (adapters/sso matched the identity to it), the way
// SignIn does after checking a password: it records the connection with
// method and the account's first use. An unknown or closed account is
// ErrBadCredentials.
func (s *Sessions) SignInAccount(r *http.Request, id uuid.UUID, method domain.SignInMethod, kind string) (*SignedIn, error) {
	return s.open(r, id, method, kind)
}

// open is the part of a sign-in after the person was authenticated:
// record the connection and the activation, open the session.
func (s *Sessions) open(r *http.Request, id uuid.UUID, method domain.SignInMethod, kind string) (*SignedIn, error) {
	ctx := r.Context()
	acc, err := s.openAccount(ctx, id)
	if errors.Is(err, ErrUnauthenticated) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	noteAccount(ctx, id)
	// One correlation id ties the connection and the activation: the
	// request's.
	corr := Correlation(ctx)
	if corr == uuid.Nil {
		corr = uuid.New()
	}
	req := commands.Request{Actor: id, CorrelationID: corr}
	recorded := true
	if _, err := s.cfg.Connections.RecordConnection(ctx, req, domain.RecordConnection{Method: method}); err != nil {
		switch {
		case domain.IsUnavailable(err):
			// The log cannot take the connection (full, unreachable): the
			// user still signs in to read what is there. The connection is
			// missing from the history and the usage indicators.
			s.log.WarnContext(ctx, "sign-in not recorded: the event store is unavailable", "account", id, "err", err)
			recorded = false
		case domain.CodeOf(err) != "":
			// The log says the account is unknown or closed: the read
			// model had not caught up yet.
			s.log.InfoContext(ctx, "sign-in refused by the ledger", "account", id, "err", err)
			return nil, ErrBadCredentials
		default:
			return nil, err
		}
	}
	if !acc.Activated && recorded {
		s.activate(r, req, id)
	}
	token, expires, err := s.cfg.Auth.NewSession(ctx, id, kind)
	if err != nil {
		return nil, err
	}
	return &SignedIn{Account: acc, Token: token, Expires: expires}, nil
}

// activate records an account's first use. It is best effort: a sign-in
// does not fail for it.
func (s *Sessions) activate(r *http.Request, req commands.Request, id uuid.UUID) {
	_, err := s.cfg.Connections.ActivateAccount(r.Context(), req, domain.ActivateAccount{Account: id})
	switch {
	case err == nil, errors.Is(err, domain.ErrAlreadyActivated):
	case domain.CodeOf(err) != "":
		// Inspectors and evaluators never write: the command layer refuses
		// their activation.
		s.log.DebugContext(r.Context(), "account not activated", "account", id, "err", err)
	default:
		s.log.WarnContext(r.Context(), "account not activated", "account", id, "err", err)
	}
}

// Cookie returns the cookie that carries a portal session.
func (s *Sessions) Cookie(token string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/",
		Expires: expires, MaxAge: max(int(expires.Sub(s.cfg.Now())/time.Second), 1),
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
}

// ClearCookie returns the cookie that removes the session cookie.
func (s *Sessions) ClearCookie() *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
}

// SecureCookies tells whether cookies are marked Secure.
func (s *Sessions) SecureCookies() bool { return s.cfg.SecureCookies }

// SignOut revokes token. It succeeds whatever the token's state: signing
// out twice is no error.
func (s *Sessions) SignOut(r *http.Request, token string) error {
	if token == "" {
		return nil
	}
	err := s.cfg.Auth.Revoke(r.Context(), token)
	if err != nil && !errors.Is(err, s.cfg.AuthErrors.Unauthenticated) {
		return err
	}
	if s.cfg.SessionEnded != nil {
		// The session is revoked whatever happens here: a socket not told
		// closes at its expiry or lifetime.
		if err := s.cfg.SessionEnded(r.Context(), SessionID(token)); err != nil {
			s.log.WarnContext(r.Context(), "sign-out not told to the live sockets", "err", err)
		}
	}
	return nil
}

// ClientAddr is the client's IP address, for per-address rate limits. The
// ledger is reached directly or through a proxy that sets RemoteAddr (it
// trusts no forwarding header).
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return strings.TrimSpace(r.RemoteAddr)
	}
	return host
}
