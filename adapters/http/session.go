package http

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

// SignInRequest is the body of a sign-in.
type SignInRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// AccountSummary is who signed in.
type AccountSummary struct {
	Account       uuid.UUID       `json:"account"`
	DisplayName   string          `json:"display_name"`
	Profile       domain.Profile  `json:"profile"`
	Function      domain.Function `json:"function,omitempty"`
	Establishment string          `json:"establishment,omitempty"`
	Habilitations []string        `json:"habilitations,omitempty"`
}

func summaryOf(acc *projections.AccountEntry) AccountSummary {
	return AccountSummary{
		Account: acc.ID, DisplayName: acc.DisplayName, Profile: acc.Profile, Function: acc.Function,
		Establishment: acc.Establishment, Habilitations: acc.Habilitations,
	}
}

// SessionResponse answers a portal sign-in; the token is in the cookie
// only.
type SessionResponse struct {
	Account   AccountSummary `json:"account"`
	ExpiresAt time.Time      `json:"expires_at"`
}

// TokenResponse answers an API client's sign-in.
type TokenResponse struct {
	Token     string         `json:"token"`
	TokenType string         `json:"token_type"`
	ExpiresAt time.Time      `json:"expires_at"`
	Account   AccountSummary `json:"account"`
}

func (s *Server) sessionRoutes() []route {
	return []route{
		{
			method: "POST", path: "/api/v1/session", tag: "session", public: true, status: http.StatusOK,
			summary:  "Sign in to the portal: sets the session cookie",
			profiles: "anyone with an account",
			request:  typeOf[SignInRequest](), response: typeOf[SessionResponse](),
			handle: s.signIn(KindSession),
		},
		{
			method: "POST", path: "/api/v1/tokens", tag: "session", public: true, status: http.StatusCreated,
			summary:  "Sign in as an API client: returns a bearer token",
			profiles: "anyone with an account",
			request:  typeOf[SignInRequest](), response: typeOf[TokenResponse](),
			handle: s.signIn(KindToken),
		},
		{
			method: "DELETE", path: "/api/v1/session", tag: "session", public: true, status: http.StatusNoContent,
			summary:  "Sign out: revokes the session cookie's or the bearer's token",
			profiles: "anyone",
			handle:   s.signOut,
		},
	}
}

// signIn checks credentials, records the connection (and the account's
// first use), and opens a session of kind. Every failure that could tell
// whether an account exists is the same generic 401.
func (s *Server) signIn(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var body SignInRequest
		if err := s.decode(w, r, &body); err != nil {
			return err
		}
		if body.Login == "" || body.Password == "" {
			return domain.Errorf(domain.ErrInvalid, "login and password are required")
		}
		id, err := s.cfg.Auth.Authenticate(ctx, body.Login, body.Password, clientAddr(r))
		switch {
		case errors.Is(err, s.cfg.AuthErrors.RateLimited):
			e := *errRateLimited
			var ra interface{ RetryAfter() time.Duration }
			if errors.As(err, &ra) {
				e.retryAfter = ra.RetryAfter()
			}
			return &e
		case errors.Is(err, s.cfg.AuthErrors.BadCredentials):
			return errBadCredentials
		case err != nil:
			return err
		}
		acc, err := s.openAccount(ctx, id)
		if errors.Is(err, errUnauthenticated) {
			return errBadCredentials
		}
		if err != nil {
			return err
		}
		// One correlation id ties the connection and the activation.
		req := commands.Request{Actor: id, CorrelationID: uuid.New()}
		if _, err := s.cfg.Commands.RecordConnection(ctx, req, domain.SignInPassword); err != nil {
			if domain.CodeOf(err) != "" {
				// The log says the account is unknown or closed: the read
				// model had not caught up yet.
				s.log.InfoContext(ctx, "sign-in refused by the ledger", "account", id, "err", err)
				return errBadCredentials
			}
			return err
		}
		if !acc.Activated {
			s.activate(r, req, id)
		}
		token, expires, err := s.cfg.Auth.NewSession(ctx, id, kind)
		if err != nil {
			return err
		}
		if kind == KindToken {
			return reply(w, http.StatusCreated, TokenResponse{Token: token, TokenType: "Bearer", ExpiresAt: expires, Account: summaryOf(acc)})
		}
		http.SetCookie(w, s.sessionCookie(token, expires))
		return reply(w, http.StatusOK, SessionResponse{Account: summaryOf(acc), ExpiresAt: expires})
	}
}

// activate records an account's first use. It is best effort: a sign-in
// does not fail for it.
func (s *Server) activate(r *http.Request, req commands.Request, id uuid.UUID) {
	_, err := s.cfg.Commands.ActivateAccount(r.Context(), req, id)
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

// sessionCookie returns the cookie that carries a portal session.
func (s *Server) sessionCookie(token string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/",
		Expires: expires, MaxAge: max(int(expires.Sub(s.now())/time.Second), 1),
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
}

// signOut revokes the request's token, if any, and clears the cookie. It
// succeeds whatever the token's state: signing out twice is no error.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	token, fromCookie := requestToken(r)
	if token != "" {
		err := s.cfg.Auth.Revoke(r.Context(), token)
		if err != nil && !errors.Is(err, s.cfg.AuthErrors.Unauthenticated) {
			return err
		}
		if s.cfg.SessionEnded != nil {
			// The session is revoked whatever happens here: a socket not
			// told closes at its expiry or lifetime.
			if err := s.cfg.SessionEnded(r.Context(), sessionID(token)); err != nil {
				s.log.WarnContext(r.Context(), "sign-out not told to the live sockets", "err", err)
			}
		}
	}
	if fromCookie || token == "" {
		http.SetCookie(w, &http.Cookie{
			Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
		})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// clientAddr is the client's IP address, for per-address rate limits. The
// ledger is reached directly or through a proxy that sets RemoteAddr (it
// trusts no forwarding header).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return strings.TrimSpace(r.RemoteAddr)
	}
	return host
}
