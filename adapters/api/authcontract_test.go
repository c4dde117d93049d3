package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
)

// adapters/auth's service is what the API expects.
var _ web.Auth = (*auth.Service)(nil)

// authErrors is how cmd/ledger wires adapters/auth's sentinels.
var authErrors = web.AuthErrors{
	BadCredentials: auth.ErrBadCredentials, RateLimited: auth.ErrRateLimited, Unauthenticated: auth.ErrUnauthenticated,
}

// sentinelAuth fails every sign-in with err and resolves no token.
type sentinelAuth struct {
	*webtest.FakeAuth
	err error
}

func (a sentinelAuth) Authenticate(context.Context, string, string, string) (uuid.UUID, error) {
	return uuid.Nil, a.err
}

func (a sentinelAuth) ResolveSession(context.Context, string) (uuid.UUID, time.Time, error) {
	return uuid.Nil, time.Time{}, auth.ErrUnauthenticated
}

// TestAuthSentinels maps adapters/auth's errors as its documentation says.
func TestAuthSentinels(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		err        error
		status     int
		slug       string
		retryAfter string
	}{
		{auth.ErrBadCredentials, http.StatusUnauthorized, "bad-credentials", ""},
		{&auth.RateLimitError{Wait: 89500 * time.Millisecond}, http.StatusTooManyRequests, "rate-limited", "90"},
	} {
		srv, err := NewServer(Config{Commands: w.H, Queries: w.Queries, Sessions: w.Sessions(w.H, sentinelAuth{w.Auth, tt.err}, authErrors, nil)})
		if err != nil {
			t.Fatal(err)
		}
		r := do(t, srv, request{method: "POST", path: "/api/v1/session", body: SignInRequest{Login: "a", Password: "b"}})
		mustProblem(t, r, tt.status, tt.slug)
		if got := r.header.Get("Retry-After"); got != tt.retryAfter {
			t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
		}
		mustProblem(t, do(t, srv, request{method: "GET", path: "/api/v1/me", token: "t"}), http.StatusUnauthorized, "unauthenticated")
	}
}
