package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
)

// eventsSince decodes the events appended to store after the first n.
func (w *world) eventsSince(store *memory.Store, n int) []domain.Record {
	w.T.Helper()
	return w.Records(store)[n:]
}

func TestSignInSetsTheSessionCookie(t *testing.T) {
	w := newWorld(t)
	srv, store := w.fork(t)
	before := len(w.Records(store))
	r := do(t, srv, request{method: "POST", path: "/api/v1/session", body: SignInRequest{Login: asTeacher, Password: webtest.Password}})
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	got := mustDecode[SessionResponse](t, r)
	if got.Account.Account != w.Accounts[asTeacher] || got.Account.Profile != domain.ProfileTeacher || got.Account.Establishment != w.UAI {
		t.Errorf("account %+v", got.Account)
	}
	if bytes.Contains(r.body, []byte("session-")) {
		t.Errorf("the token is in the body: %s", r.body)
	}
	cookie := mustCookie(t, r)
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure || cookie.MaxAge <= 0 {
		t.Errorf("cookie %+v", cookie)
	}

	// The connection is recorded, and the first sign-in activates.
	recs := w.eventsSince(store, before)
	types := []string{}
	for _, rec := range recs {
		types = append(types, rec.Type)
		if rec.Metadata.Actor != w.Accounts[asTeacher] {
			t.Errorf("%s by %s", rec.Type, rec.Metadata.Actor)
		}
	}
	if len(recs) != 2 || recs[0].Type != "user.connected.v1" || recs[1].Type != "account.activated.v1" ||
		recs[0].Metadata.CorrelationID != recs[1].Metadata.CorrelationID {
		t.Errorf("events %v", types)
	}

	// The cookie signs the requests in.
	me := do(t, srv, request{method: "GET", path: "/api/v1/me", headers: map[string]string{"Cookie": cookie.String()}})
	if me.status != http.StatusOK || mustDecode[map[string]any](t, me)["id"] != w.Accounts[asTeacher].String() {
		t.Fatalf("me: %d %s", me.status, me.body)
	}

	// Sign-out revokes it and clears the cookie.
	out := do(t, srv, request{method: "DELETE", path: "/api/v1/session", headers: map[string]string{"Cookie": cookie.String()}})
	if out.status != http.StatusNoContent {
		t.Fatalf("sign-out: %d %s", out.status, out.body)
	}
	if c := mustCookie(t, out); c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("cookie not cleared: %+v", c)
	}
	me = do(t, srv, request{method: "GET", path: "/api/v1/me", headers: map[string]string{"Cookie": cookie.String()}})
	mustProblem(t, me, http.StatusUnauthorized, "unauthenticated")
}

func TestSecureCookies(t *testing.T) {
	w := newWorld(t)
	srv, err := NewServer(Config{Commands: w.H, Queries: w.Queries, Now: w.Clock,
		Sessions: w.Sessions(w.H, w.Auth.Clone(), webtest.FakeAuthErrors(), func(c *web.SessionsConfig) { c.SecureCookies = true })})
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, srv, request{method: "POST", path: "/api/v1/session", body: SignInRequest{Login: asStudent, Password: webtest.Password}})
	if c := mustCookie(t, r); !c.Secure {
		t.Errorf("cookie %+v", c)
	}
}

func TestSignInForAPIClients(t *testing.T) {
	w := newWorld(t)
	srv, store := w.fork(t)
	r := do(t, srv, request{method: "POST", path: "/api/v1/tokens", body: SignInRequest{Login: asInspector, Password: webtest.Password}})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if len(r.header.Values("Set-Cookie")) != 0 {
		t.Error("a token sign-in sets a cookie")
	}
	got := mustDecode[TokenResponse](t, r)
	if got.Token == "" || got.TokenType != "Bearer" || got.Account.Profile != domain.ProfileInspector ||
		len(got.Account.Habilitations) != 1 || got.ExpiresAt.IsZero() {
		t.Fatalf("%+v", got)
	}
	// An inspector's first sign-in records their connection and activates
	// their account: read-only profiles write nothing else.
	last := w.Records(store)
	types := map[string]bool{}
	for _, rec := range last[len(last)-2:] {
		if rec.Metadata.Actor != w.Accounts[asInspector] {
			t.Errorf("event %s by %s, want the inspector", rec.Type, rec.Metadata.Actor)
		}
		types[rec.Type] = true
	}
	if !types["user.connected.v1"] || !types["account.activated.v1"] {
		t.Errorf("last events %v, want a connection and an activation", types)
	}
	if r := do(t, srv, request{method: "GET", path: "/api/v1/me", token: got.Token}); r.status != http.StatusOK {
		t.Errorf("me: %d", r.status)
	}
	if r := do(t, srv, request{method: "DELETE", path: "/api/v1/session", token: got.Token}); r.status != http.StatusNoContent {
		t.Errorf("sign-out: %d", r.status)
	}
	mustProblem(t, do(t, srv, request{method: "GET", path: "/api/v1/me", token: got.Token}), http.StatusUnauthorized, "unauthenticated")
}

// TestSignInFailuresAreGeneric: a wrong password, an unknown login and a
// closed account get the same answer, and record nothing.
func TestSignInFailuresAreGeneric(t *testing.T) {
	w := newWorld(t)
	srv, store := w.fork(t)
	before := len(w.Records(store))
	var first web.Problem
	for i, body := range []SignInRequest{
		{Login: asTeacher, Password: "wrong"},
		{Login: "nobody", Password: webtest.Password},
		{Login: "closed", Password: webtest.Password},
	} {
		for _, path := range []string{"/api/v1/session", "/api/v1/tokens"} {
			r := do(t, srv, request{method: "POST", path: path, body: body})
			p := mustProblem(t, r, http.StatusUnauthorized, "bad-credentials")
			p.Instance = ""
			if i == 0 {
				first = p
			} else if p != first {
				t.Errorf("%s tells more: %+v, not %+v", body.Login, p, first)
			}
			if len(r.header.Values("Set-Cookie")) != 0 {
				t.Error("a failed sign-in sets a cookie")
			}
		}
	}
	if after := len(w.Records(store)); after != before {
		t.Errorf("failed sign-ins appended %d events", after-before)
	}
	mustProblem(t, do(t, srv, request{method: "POST", path: "/api/v1/session", body: SignInRequest{Login: asTeacher}}),
		http.StatusBadRequest, "invalid-input")
}

func TestSignInRateLimited(t *testing.T) {
	w := newWorld(t)
	auth := w.Auth.Clone()
	auth.Limited[asRelative] = true
	srv, err := NewServer(Config{Commands: w.H, Queries: w.Queries, Sessions: w.Sessions(w.H, auth, webtest.FakeAuthErrors(), nil)})
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, srv, request{method: "POST", path: "/api/v1/session", body: SignInRequest{Login: asRelative, Password: webtest.Password}})
	mustProblem(t, r, http.StatusTooManyRequests, "rate-limited")
	if ra := r.header.Get("Retry-After"); ra != "42" {
		t.Errorf("Retry-After %q", ra)
	}
}

// TestSignInTwice: the second sign-in records a connection, no second
// activation.
func TestSignInTwice(t *testing.T) {
	w := newWorld(t)
	srv, store := w.fork(t)
	for range 2 {
		if r := do(t, srv, request{method: "POST", path: "/api/v1/tokens", body: SignInRequest{Login: asStudent, Password: webtest.Password}}); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	count := map[string]int{}
	for _, rec := range w.Records(store) {
		if rec.Metadata.Actor == w.Accounts[asStudent] {
			count[rec.Type]++
		}
	}
	// The read side is not caught up between the two: the second
	// activation is refused by the command layer (already activated) and
	// ignored.
	if count["user.connected.v1"] != 2 || count["account.activated.v1"] != 1 {
		t.Errorf("events %v", count)
	}
}

// TestLiveIsMountedBehindAuthentication: the live handler gets the actor.
func TestLiveIsMountedBehindAuthentication(t *testing.T) {
	w := newWorld(t)
	r := do(t, w.srv, request{method: "GET", path: "/api/v1/live", token: tokenOf(asRelative)})
	if r.status != http.StatusOK || string(r.body) != w.Accounts[asRelative].String() {
		t.Errorf("%d %s", r.status, r.body)
	}
	if _, ok := web.ActorFromContext(t.Context()); ok {
		t.Error("an actor out of nowhere")
	}
	srv, err := NewServer(Config{Commands: w.H, Queries: w.Queries, Sessions: w.Deps(w.H, w.Auth, w.Store).Sessions})
	if err != nil {
		t.Fatal(err)
	}
	mustProblem(t, do(t, srv, request{method: "GET", path: "/api/v1/live", token: tokenOf(asRelative)}), http.StatusNotFound, "no-such-route")
}

func mustCookie(t *testing.T, r response) *http.Cookie {
	t.Helper()
	c, err := http.ParseSetCookie(r.header.Get("Set-Cookie"))
	if err != nil {
		t.Fatalf("Set-Cookie %q: %v", r.header.Get("Set-Cookie"), err)
	}
	if c.Name != web.SessionCookie {
		t.Fatalf("cookie %q", c.Name)
	}
	return c
}

// TestSignOutNamesTheLiveSession: the live handler sees the request's
// session id, and signing out tells SessionEnded that same id.
func TestSignOutNamesTheLiveSession(t *testing.T) {
	w := newWorld(t)
	var ended []string
	sessions := w.Sessions(w.H, w.Auth, webtest.FakeAuthErrors(), func(c *web.SessionsConfig) {
		c.SessionEnded = func(_ context.Context, session string) error {
			ended = append(ended, session)
			return nil
		}
	})
	srv := w.serverWith(w.H, w.Auth, w.Store, func(c *Config) {
		c.Sessions = sessions
		c.Live = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			id, _, ok := web.SessionFromContext(r.Context())
			if !ok || id == "" {
				http.Error(rw, "no session", http.StatusInternalServerError)
				return
			}
			fmt.Fprint(rw, id)
		})
	})
	token := tokenOf(asRelative)
	r := do(t, srv, request{method: "GET", path: "/api/v1/live", token: token})
	if r.status != http.StatusOK || len(r.body) == 0 || strings.Contains(string(r.body), token) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if out := do(t, srv, request{method: "DELETE", path: "/api/v1/session", token: token}); out.status != http.StatusNoContent {
		t.Fatalf("sign-out: %d %s", out.status, out.body)
	}
	if len(ended) != 1 || ended[0] != string(r.body) {
		t.Fatalf("SessionEnded got %q, want [%s]", ended, r.body)
	}
}
