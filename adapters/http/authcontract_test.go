package http

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
)

// adapters/auth's service is what the API expects.
var _ Auth = (*auth.Service)(nil)

// authErrors is how cmd/ledger wires adapters/auth's sentinels.
var authErrors = AuthErrors{
	BadCredentials: auth.ErrBadCredentials, RateLimited: auth.ErrRateLimited, Unauthenticated: auth.ErrUnauthenticated,
}

// sentinelAuth fails every sign-in with err and resolves no token.
type sentinelAuth struct {
	*fakeAuth
	err error
}

func (a sentinelAuth) Authenticate(context.Context, string, string, string) (uuid.UUID, error) {
	return uuid.Nil, a.err
}

func (a sentinelAuth) Resolve(context.Context, string) (uuid.UUID, error) {
	return uuid.Nil, auth.ErrUnauthenticated
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
		srv, err := NewServer(Config{Commands: w.h, Queries: w.queries, Auth: sentinelAuth{w.auth, tt.err}, AuthErrors: authErrors})
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
