package api

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
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
			handle: s.signIn(web.KindSession),
		},
		{
			method: "POST", path: "/api/v1/tokens", tag: "session", public: true, status: http.StatusCreated,
			summary:  "Sign in as an API client: returns a bearer token",
			profiles: "anyone with an account",
			request:  typeOf[SignInRequest](), response: typeOf[TokenResponse](),
			handle: s.signIn(web.KindToken),
		},
		{
			method: "DELETE", path: "/api/v1/session", tag: "session", public: true, status: http.StatusNoContent,
			summary:  "Sign out: revokes the session cookie's or the bearer's token",
			profiles: "anyone",
			handle:   s.signOut,
		},
	}
}

// signIn opens a session of kind: the cookie's (the portal) or a bearer
// token (API clients).
func (s *Server) signIn(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body SignInRequest
		if err := s.dec.JSON(w, r, &body); err != nil {
			return err
		}
		if body.Login == "" || body.Password == "" {
			return domain.Errorf(domain.ErrInvalid, "login and password are required")
		}
		in, err := s.cfg.Sessions.SignIn(r, body.Login, body.Password, kind)
		if err != nil {
			return err
		}
		if kind == web.KindToken {
			return reply(w, http.StatusCreated, TokenResponse{Token: in.Token, TokenType: "Bearer", ExpiresAt: in.Expires, Account: summaryOf(in.Account)})
		}
		http.SetCookie(w, s.cfg.Sessions.Cookie(in.Token, in.Expires))
		return reply(w, http.StatusOK, SessionResponse{Account: summaryOf(in.Account), ExpiresAt: in.Expires})
	}
}

// signOut revokes the request's token, if any, and clears the cookie. It
// succeeds whatever the token's state: signing out twice is no error.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	token, fromCookie := web.RequestToken(r)
	if err := s.cfg.Sessions.SignOut(r, token); err != nil {
		return err
	}
	if fromCookie || token == "" {
		http.SetCookie(w, s.cfg.Sessions.ClearCookie())
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
