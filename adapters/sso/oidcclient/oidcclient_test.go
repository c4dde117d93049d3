package oidcclient_test

import (
	"bytes"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/sso"
	"github.com/schoollife/ledger/adapters/sso/oidcclient"
	"github.com/schoollife/ledger/adapters/sso/oidctest"
	"github.com/schoollife/ledger/adapters/sso/upstream"
)

const (
	clientID     = "ledger-ent"
	clientSecret = "s3cret-that-must-never-be-logged"
	providerName = "academie"
)

// recorder is the Completer: it keeps what it was handed.
type recorder struct {
	mu        sync.Mutex
	ids       []sso.Identity
	returnTos []string
	failures  []upstream.Reason
}

func (c *recorder) Complete(w http.ResponseWriter, _ *http.Request, id sso.Identity, returnTo string) {
	c.mu.Lock()
	c.ids = append(c.ids, id)
	c.returnTos = append(c.returnTos, returnTo)
	c.mu.Unlock()
	_, _ = io.WriteString(w, "signed in")
}

func (c *recorder) fail(w http.ResponseWriter, r *http.Request, f upstream.Failure) {
	c.mu.Lock()
	c.failures = append(c.failures, f.Reason)
	c.mu.Unlock()
	upstream.Page(w, r, f)
}

func (c *recorder) completed() []sso.Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sso.Identity(nil), c.ids...)
}

func (c *recorder) lastFailure() upstream.Reason {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.failures) == 0 {
		return ""
	}
	return c.failures[len(c.failures)-1]
}

// fixture is a provider, the ledger's handler in front of it, and a clock.
type fixture struct {
	op       *oidctest.Provider
	site     *httptest.Server
	rec      *recorder
	offset   atomic.Int64 // nanoseconds the relying party's clock is ahead
	logs     *lockedBuffer
	callback string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type setup struct {
	client   oidctest.Client
	settings func(*oidcclient.Settings)
}

func mustFixture(t *testing.T, s setup) *fixture {
	t.Helper()
	f := &fixture{op: oidctest.Start(t), rec: &recorder{}, logs: &lockedBuffer{}}
	mux := http.NewServeMux()
	f.site = httptest.NewServer(mux)
	t.Cleanup(f.site.Close)
	f.callback = f.site.URL + "/sso/oidc/" + providerName + "/callback"

	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(clientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	settings := oidcclient.Settings{
		Issuer: f.op.Issuer, ClientID: clientID, ClientSecretFile: secretFile,
		Scopes: []string{"profile", "email"}, Claims: []string{"email", "preferred_username", "groups", "uai"},
	}
	if s.settings != nil {
		s.settings(&settings)
	}
	c := s.client
	c.ID, c.Secret, c.RedirectURI = clientID, clientSecret, f.callback
	f.op.AddClient(c)
	f.op.SignIn(oidctest.User{Subject: "agent-42", Claims: map[string]any{
		"email": "j.dupont@ac-exemple.fr", "preferred_username": "jdupont",
		"groups": []string{"enseignants", "0750001A"}, "uai": 750001, "sid": "session-7",
	}})

	cfg := oidcclient.Config{BaseURL: f.site.URL, Providers: []oidcclient.Provider{{Name: providerName, OIDC: settings}}}
	h, err := oidcclient.New(cfg, f.rec,
		oidcclient.WithClock(func() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) }),
		oidcclient.WithFailure(f.rec.fail),
		oidcclient.WithLogger(slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		oidcclient.WithStateKey(bytes.Repeat([]byte("k"), 32)),
	)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux.Handle("/sso/", h)
	t.Cleanup(func() {
		if strings.Contains(f.logs.String(), clientSecret) {
			t.Errorf("the client secret is in the logs:\n%s", f.logs.String())
		}
	})
	return f
}

// browser is a user agent with its cookies that follows redirects one at
// a time, so a test can stop before the ledger's callback.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// get fetches u and returns the response with its body read.
func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

// follow goes from u through redirects until a URL starting with stop (not
// fetched, returned) or a page that is no redirect (fetched, returned).
func (b *browser) follow(u, stop string) (next string, resp *http.Response, body string) {
	b.t.Helper()
	for range 10 {
		if stop != "" && strings.HasPrefix(u, stop) {
			return u, nil, ""
		}
		resp, body = b.get(u)
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			return u, resp, body
		}
		next, err := resp.Request.URL.Parse(loc)
		if err != nil {
			b.t.Fatal(err)
		}
		u = next.String()
	}
	b.t.Fatalf("too many redirects from %s", u)
	return "", nil, ""
}

// toCallback signs in at the provider and stops at the ledger's callback
// URL (code and state), not yet visited.
func (f *fixture) toCallback(t *testing.T, b *browser, returnTo string) string {
	t.Helper()
	u, _, body := b.follow(f.site.URL+"/sso/oidc/"+providerName+"/login?returnTo="+url.QueryEscape(returnTo), f.callback)
	if !strings.HasPrefix(u, f.callback) {
		t.Fatalf("stopped at %s, not the callback: %s", u, body)
	}
	return u
}

func mustFrenchFailure(t *testing.T, resp *http.Response, body string, status int, title string) {
	t.Helper()
	body = html.UnescapeString(body)
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if !strings.Contains(body, `<html lang="fr">`) || !strings.Contains(body, title) {
		t.Errorf("page is not the French %q page:\n%s", title, body)
	}
	for _, w := range []string{"error", "Error", "invalid", "state", "nonce", "token", http.StatusText(status), clientSecret} {
		if strings.Contains(body, w) {
			t.Errorf("page shows %q:\n%s", w, body)
		}
	}
	for _, d := range []string{"400", "403", "404", "502"} {
		if strings.Contains(body, d) {
			t.Errorf("page shows the code %s", d)
		}
	}
}

func TestSignInHandsTheCheckedIdentity(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{client: oidctest.Client{ClaimsInIDToken: true}})
	b := newBrowser(t)
	u, resp, body := b.follow(f.site.URL+"/sso/oidc/"+providerName+"/login?returnTo=%2Fcahier%3Fjour%3Dlundi", "")
	if resp.StatusCode != http.StatusOK || body != "signed in" {
		t.Fatalf("ended at %s with %d: %s", u, resp.StatusCode, body)
	}
	ids := f.rec.completed()
	if len(ids) != 1 {
		t.Fatalf("%d completions, want 1", len(ids))
	}
	want := sso.Identity{
		Provider: providerName, Protocol: sso.ProtocolOIDC, Subject: "agent-42", SessionIndex: "session-7",
		Attributes: map[string][]string{
			"email": {"j.dupont@ac-exemple.fr"}, "preferred_username": {"jdupont"},
			"groups": {"enseignants", "0750001A"}, "uai": {"750001"},
		},
	}
	if !reflect.DeepEqual(ids[0], want) {
		t.Errorf("identity\n got %+v\nwant %+v", ids[0], want)
	}
	if got := f.rec.returnTos[0]; got != "/cahier?jour=lundi" {
		t.Errorf("returnTo %q", got)
	}
	// The sign-in's cookie is gone once used.
	cb, _ := url.Parse(f.callback)
	if cs := b.client.Jar.Cookies(cb); len(cs) != 0 {
		t.Errorf("cookies left for the callback: %v", cs)
	}
}

func TestSignInAsksUserinfoForMissingClaims(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{settings: func(s *oidcclient.Settings) { s.UserInfo = true }})
	b := newBrowser(t)
	_, resp, body := b.follow(f.site.URL+"/sso/oidc/"+providerName+"/login", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d: %s", resp.StatusCode, body)
	}
	ids := f.rec.completed()
	if len(ids) != 1 || ids[0].Attributes["preferred_username"][0] != "jdupont" || ids[0].Attributes["uai"][0] != "750001" {
		t.Fatalf("identity from userinfo: %+v", ids)
	}
	if f.rec.returnTos[0] != "/" {
		t.Errorf("returnTo %q, want /", f.rec.returnTos[0])
	}
}

func TestWithoutUserinfoOnlyTheIDTokenCounts(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	_, resp, _ := newBrowser(t).follow(f.site.URL+"/sso/oidc/"+providerName+"/login", "")
	ids := f.rec.completed()
	if resp.StatusCode != http.StatusOK || len(ids) != 1 {
		t.Fatalf("%d, %d completions", resp.StatusCode, len(ids))
	}
	if len(ids[0].Attributes) != 0 {
		t.Errorf("attributes not in the ID token: %v", ids[0].Attributes)
	}
}

func TestReturnToOffSiteIsRewritten(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	for _, rt := range []string{"https://evil.example/x", "//evil.example/x", `/\evil.example`, "javascript:alert(1)", "/a\r\nLocation: x", "relative"} {
		_, resp, _ := newBrowser(t).follow(f.site.URL+"/sso/oidc/"+providerName+"/login?returnTo="+url.QueryEscape(rt), "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: status %d", rt, resp.StatusCode)
		}
	}
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	if len(f.rec.returnTos) != 6 {
		t.Fatalf("%d completions", len(f.rec.returnTos))
	}
	for i, rt := range f.rec.returnTos {
		if rt != "/" {
			t.Errorf("completion %d: returnTo %q, want /", i, rt)
		}
	}
}

func TestUnknownProvider(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	b := newBrowser(t)
	for _, path := range []string{"/sso/oidc/nobody/login", "/sso/oidc/nobody/callback?code=x&state=y"} {
		resp, body := b.get(f.site.URL + path)
		mustFrenchFailure(t, resp, body, http.StatusNotFound, "Service d'identification inconnu")
		if f.rec.lastFailure() != upstream.ReasonUnknownProvider {
			t.Errorf("%s: reason %q", path, f.rec.lastFailure())
		}
	}
	if n := len(f.rec.completed()); n != 0 {
		t.Errorf("%d completions", n)
	}
}

func TestProviderErrorEndsOnAFrenchPage(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	b := newBrowser(t)
	resp, _ := b.get(f.site.URL + "/sso/oidc/" + providerName + "/login")
	authz, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !f.op.AuthorizeURLHost(authz) {
		t.Fatalf("login sent to %v (%v)", authz, err)
	}
	q := authz.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorization request lacks PKCE, nonce or state: %s", authz)
	}
	resp, body := b.get(f.callback + "?error=access_denied&error_description=User+cancelled&state=" + url.QueryEscape(q.Get("state")))
	mustFrenchFailure(t, resp, body, http.StatusForbidden, "Connexion refusée")
	if f.rec.lastFailure() != upstream.ReasonDenied || len(f.rec.completed()) != 0 {
		t.Errorf("reason %q, %d completions", f.rec.lastFailure(), len(f.rec.completed()))
	}
}

func TestWrongStateIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	b := newBrowser(t)
	cb, _ := url.Parse(f.toCallback(t, b, "/"))
	q := cb.Query()
	q.Set("state", q.Get("state")+"x")
	cb.RawQuery = q.Encode()
	resp, body := b.get(cb.String())
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion expirée")
	// Without any state either.
	q.Del("state")
	cb.RawQuery = q.Encode()
	resp, body = b.get(cb.String())
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion expirée")
	if len(f.rec.completed()) != 0 || f.op.TokensIssued() != 0 {
		t.Errorf("%d completions, %d tokens", len(f.rec.completed()), f.op.TokensIssued())
	}
}

func TestCallbackInAnotherBrowserIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	cb := f.toCallback(t, newBrowser(t), "/")
	// A callback forged into someone else's browser (login CSRF).
	resp, body := newBrowser(t).get(cb)
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion expirée")
	if len(f.rec.completed()) != 0 || f.op.TokensIssued() != 0 {
		t.Errorf("%d completions, %d tokens", len(f.rec.completed()), f.op.TokensIssued())
	}
}

func TestReplayedCallbackIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	b := newBrowser(t)
	cb := f.toCallback(t, b, "/")
	cbURL, _ := url.Parse(cb)
	stolen := b.client.Jar.Cookies(cbURL)
	if len(stolen) != 1 {
		t.Fatalf("%d cookies for the callback, want 1", len(stolen))
	}
	if resp, body := b.get(cb); resp.StatusCode != http.StatusOK {
		t.Fatalf("first callback: %d %s", resp.StatusCode, body)
	}
	// Same browser: its sign-in in progress is spent.
	resp, body := b.get(cb)
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion expirée")
	// A copy of the cookie taken before: the provider refuses the spent code.
	thief := newBrowser(t)
	thief.client.Jar.SetCookies(cbURL, stolen)
	resp, body = thief.get(cb)
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion impossible")
	if n := len(f.rec.completed()); n != 1 || f.op.TokensIssued() != 1 {
		t.Errorf("%d completions, %d tokens; want 1 and 1", n, f.op.TokensIssued())
	}
}

func TestCodeWithAnotherPKCEVerifierIsRefusedByTheProvider(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	victim := f.toCallback(t, newBrowser(t), "/")
	attacker := newBrowser(t)
	own := f.toCallback(t, attacker, "/")
	// The attacker delivers the victim's code with their own state: the
	// state matches their cookie, but their PKCE verifier is not the
	// victim's challenge's.
	v, _ := url.Parse(victim)
	a, _ := url.Parse(own)
	q := a.Query()
	q.Set("code", v.Query().Get("code"))
	a.RawQuery = q.Encode()
	resp, body := attacker.get(a.String())
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion impossible")
	if len(f.rec.completed()) != 0 || f.op.TokensIssued() != 0 {
		t.Errorf("%d completions, %d tokens: the provider granted the code", len(f.rec.completed()), f.op.TokensIssued())
	}
	if !strings.Contains(f.logs.String(), "token request") {
		t.Errorf("the refusal is not the token request's:\n%s", f.logs.String())
	}
}

// mustBeRefusedAtCallback signs in, lets the provider issue its tokens,
// and checks the ledger refuses them and completes nothing.
func mustBeRefusedAtCallback(t *testing.T, f *fixture, before func()) {
	t.Helper()
	b := newBrowser(t)
	cb := f.toCallback(t, b, "/")
	if before != nil {
		before()
	}
	resp, body := b.get(cb)
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion impossible")
	if f.rec.lastFailure() != upstream.ReasonInvalid {
		t.Errorf("reason %q", f.rec.lastFailure())
	}
	if len(f.rec.completed()) != 0 {
		t.Errorf("%d completions", len(f.rec.completed()))
	}
	if f.op.TokensIssued() != 1 {
		t.Errorf("%d tokens issued, want 1 (refused by the ledger, not the provider)", f.op.TokensIssued())
	}
}

func TestWrongNonceIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	f.op.SetTamper(oidctest.Tamper{Nonce: "a-nonce-of-another-sign-in"})
	mustBeRefusedAtCallback(t, f, nil)
	if !strings.Contains(f.logs.String(), "nonce") {
		t.Errorf("refused for another reason than the nonce:\n%s", f.logs.String())
	}
}

func TestWrongAudienceIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	f.op.SetTamper(oidctest.Tamper{IDToken: func(c map[string]any) { c["aud"], c["azp"] = "another-service", "another-service" }})
	mustBeRefusedAtCallback(t, f, nil)
	if !strings.Contains(f.logs.String(), "audience") {
		t.Errorf("refused for another reason than the audience:\n%s", f.logs.String())
	}
}

func TestSeveralAudiencesNeedThisClientAsAuthorizedParty(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	// Issued to this client among others: accepted.
	f.op.SetTamper(oidctest.Tamper{IDToken: func(c map[string]any) { c["aud"], c["azp"] = []string{clientID, "another-service"}, clientID }})
	if _, resp, body := newBrowser(t).follow(f.site.URL+"/sso/oidc/"+providerName+"/login", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("%d: %s", resp.StatusCode, body)
	}
	if len(f.rec.completed()) != 1 {
		t.Fatalf("%d completions", len(f.rec.completed()))
	}
	// Issued to another client, this one in the audience too: refused.
	f.op.SetTamper(oidctest.Tamper{IDToken: func(c map[string]any) { c["aud"], c["azp"] = []string{clientID, "another-service"}, "another-service" }})
	b := newBrowser(t)
	resp, body := b.get(f.toCallback(t, b, "/"))
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion impossible")
	if len(f.rec.completed()) != 1 {
		t.Errorf("%d completions, want 1", len(f.rec.completed()))
	}
}

func TestForgedSignatureIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	// Tokens signed with a key that is not the provider's, under its key id.
	f.op.SetTamper(oidctest.Tamper{IDToken: func(c map[string]any) { c["sub"] = "someone-else" }, ForeignKey: true})
	mustBeRefusedAtCallback(t, f, nil)
	if !strings.Contains(f.logs.String(), "signature") {
		t.Errorf("refused for another reason than the signature:\n%s", f.logs.String())
	}
}

func TestExpiredIDTokenIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{client: oidctest.Client{IDTokenLifetime: time.Minute}})
	// The ledger's clock is two minutes on when the tokens arrive: the ID
	// token has expired, the sign-in in progress (ten minutes) has not.
	mustBeRefusedAtCallback(t, f, func() { f.offset.Store(int64(2 * time.Minute)) })
	if !strings.Contains(f.logs.String(), "expired") {
		t.Errorf("refused for another reason than expiry:\n%s", f.logs.String())
	}
}

func TestSignInLeftTooLongIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	b := newBrowser(t)
	cb := f.toCallback(t, b, "/")
	f.offset.Store(int64(11 * time.Minute))
	resp, body := b.get(cb)
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion expirée")
	if len(f.rec.completed()) != 0 || f.op.TokensIssued() != 0 {
		t.Errorf("%d completions, %d tokens", len(f.rec.completed()), f.op.TokensIssued())
	}
}

func TestAnswerFromAnotherIssuerIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	b := newBrowser(t)
	cb := f.toCallback(t, b, "/")
	resp, body := b.get(cb + "&iss=" + url.QueryEscape("https://other-provider.example"))
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion impossible")
	if len(f.rec.completed()) != 0 || f.op.TokensIssued() != 0 {
		t.Errorf("%d completions, %d tokens", len(f.rec.completed()), f.op.TokensIssued())
	}
}

func TestProviderDownEndsOnAFrenchPage(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, setup{})
	f.op.Server.Close()
	resp, body := newBrowser(t).get(f.site.URL + "/sso/oidc/" + providerName + "/login")
	mustFrenchFailure(t, resp, body, http.StatusBadGateway, "Service d'identification indisponible")
}
