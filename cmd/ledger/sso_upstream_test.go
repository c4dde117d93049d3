package main

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/schoollife/ledger/adapters/sso/oidctest"
)

// Signing in through an OpenID provider and an académie's CAS server,
// through the real serve: the providers of the --sso file are offered on
// the sign-in page, a teacher matched by ENTPersonJointure lands on her
// page and the connection is recorded with its method, and what does not
// pass a check records nothing.

const (
	upstreamOIDC = "agents-oidc"
	upstreamCAS  = "cas-academie"
)

// upstreamCASServer is an académie's CAS server: whoever comes to its
// login page is signed in as user; its tickets are single-use and bound
// to their service.
type upstreamCASServer struct {
	*httptest.Server
	mu       sync.Mutex
	n        int
	tickets  map[string]string // ticket -> service
	user     string
	jointure string
}

func startUpstreamCAS(t *testing.T, user, jointure string) *upstreamCASServer {
	t.Helper()
	c := &upstreamCASServer{tickets: map[string]string{}, user: user, jointure: jointure}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cas/login", func(w http.ResponseWriter, r *http.Request) {
		service := r.URL.Query().Get("service")
		c.mu.Lock()
		c.n++
		ticket := fmt.Sprintf("ST-%d-upstream", c.n)
		c.tickets[ticket] = service
		c.mu.Unlock()
		sep := "?"
		if strings.Contains(service, "?") {
			sep = "&"
		}
		http.Redirect(w, r, service+sep+"ticket="+ticket, http.StatusFound)
	})
	mux.HandleFunc("GET /cas/p3/serviceValidate", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		c.mu.Lock()
		service, ok := c.tickets[q.Get("ticket")]
		delete(c.tickets, q.Get("ticket"))
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		switch {
		case !ok:
			fmt.Fprint(w, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_TICKET">unknown</cas:authenticationFailure></cas:serviceResponse>`)
		case service != q.Get("service"):
			fmt.Fprint(w, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_SERVICE">another service</cas:authenticationFailure></cas:serviceResponse>`)
		default:
			fmt.Fprintf(w, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>
<cas:user>%s</cas:user><cas:attributes><cas:ENTPersonJointure>%s</cas:ENTPersonJointure></cas:attributes>
</cas:authenticationSuccess></cas:serviceResponse>`, html.EscapeString(c.user), html.EscapeString(c.jointure))
		}
	})
	c.Server = httptest.NewServer(mux)
	t.Cleanup(c.Close)
	return c
}

// upstreamFixture is a node whose --sso file names an OpenID provider and
// a CAS server, both running in the test.
type upstreamFixture struct {
	node ssoNode
	op   *oidctest.Provider
	cas  *upstreamCASServer
}

func mustUpstreamFixture(t *testing.T) *upstreamFixture {
	t.Helper()
	op := oidctest.Start(t)
	op.SignIn(oidctest.User{Subject: "agent-martin", Claims: map[string]any{"ENTPersonJointure": demoExternalID("prof.martin")}})
	cas := startUpstreamCAS(t, "mmartin", demoExternalID("prof.martin"))
	dir := t.TempDir()
	secret := filepath.Join(dir, "oidc-secret")
	if err := os.WriteFile(secret, []byte("s3cret-of-the-ledger\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "sso.yaml")
	conf := fmt.Sprintf(`providers:
  - name: %s
    protocol: oidc
    label: "Personnel de l'Éducation nationale"
    profiles: [teacher, personnel]
    match: {external_id: ENTPersonJointure}
    oidc: {issuer: %q, client_id: ent-test, client_secret_file: %q, scopes: [profile], claims: [ENTPersonJointure]}
  - name: %s
    protocol: cas
    label: "Personnel de l'académie (CAS)"
    match: {external_id: ENTPersonJointure}
    cas: {url: %q}
`, upstreamOIDC, op.Issuer, secret, upstreamCAS, cas.URL+"/cas")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	store := "sqlite:" + filepath.Join(dir, "ledger.db")
	s := MustServeMain(t, "--store", store, "--demo", "--sso", file)
	node := ssoNode{served: s, store: store}
	op.AddClient(oidctest.Client{ID: "ent-test", Secret: "s3cret-of-the-ledger",
		RedirectURI: node.URL + "/sso/oidc/" + upstreamOIDC + "/callback", ClaimsInIDToken: true})
	return &upstreamFixture{node: node, op: op, cas: cas}
}

// follow goes from u through redirects until stop says so or a page
// answers; it returns the last response and its URL.
func (b *ssoBrowser) follow(u string, stop func(*url.URL) bool) (*url.URL, *http.Response, string) {
	b.t.Helper()
	at, err := url.Parse(u)
	if err != nil {
		b.t.Fatal(err)
	}
	for range 12 {
		resp, body := b.get(at.String())
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode >= 400 || loc == "" {
			return at, resp, body
		}
		next, err := at.Parse(loc)
		if err != nil {
			b.t.Fatal(err)
		}
		if stop != nil && stop(next) {
			return next, resp, body
		}
		at = next
	}
	b.t.Fatalf("too many redirects from %s", u)
	return nil, nil, ""
}

// atCallback stops before the ledger's callback of provider.
func atCallback(node ssoNode, protocol, provider string) func(*url.URL) bool {
	return func(u *url.URL) bool {
		return "http://"+u.Host == node.URL && u.Path == "/sso/"+protocol+"/"+provider+"/callback"
	}
}

// mustRefuseUpstream runs a refused attempt: a French page, no session,
// nothing appended.
func mustRefuseUpstream(t *testing.T, node ssoNode, status int, attempt func() (*http.Response, string)) {
	t.Helper()
	before, _ := eventCount(t, node.store, "")
	resp, body := attempt()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d\n%s", resp.StatusCode, status, body)
	}
	text := html.UnescapeString(body)
	if !strings.Contains(text, "Connexion impossible") || !strings.Contains(text, "page de connexion") {
		t.Fatalf("not the portal's French page of a failed sign-in:\n%s", body)
	}
	for _, word := range []string{"oidc", "OIDC", "PKCE", "state", "ticket", fmt.Sprint(status)} {
		if strings.Contains(text, word) {
			t.Fatalf("the page shows %q:\n%s", word, body)
		}
	}
	for _, c := range resp.Cookies() {
		if c.Name == "ledger_session" && c.Value != "" {
			t.Fatalf("a session was opened: %v", c)
		}
	}
	if after, _ := eventCount(t, node.store, ""); after != before {
		t.Fatalf("%d events appended by a refused sign-in", after-before)
	}
}

// TestOIDCUpstreamTeacherSignsIn: M. Martin signs in through the
// académie's OpenID provider; ENTPersonJointure names his account, which
// is linked once; he lands on the page he asked for, and each sign-in is
// a connection by oidc. The sign-in page offers both providers.
func TestOIDCUpstreamTeacherSignsIn(t *testing.T) {
	f := mustUpstreamFixture(t)
	b := newSSOBrowser(t)
	_, login := b.get(f.node.URL + "/login?next=/messages")
	for _, want := range []string{"Personnel de l&#39;Éducation nationale", "Personnel de l&#39;académie (CAS)",
		`href="/sso/oidc/` + upstreamOIDC + `/login?next=%2Fmessages"`, `href="/sso/cas/` + upstreamCAS + `/login?next=%2Fmessages"`} {
		if !strings.Contains(login, want) {
			t.Fatalf("the sign-in page lacks %q:\n%s", want, login)
		}
	}
	_, linked0 := eventCount(t, f.node.store, "account.identity_linked.v1")
	_, connected0 := eventCount(t, f.node.store, "user.connected.v1")
	at, resp, page := b.follow(f.node.URL+"/sso/oidc/"+upstreamOIDC+"/login?next=/messages", nil)
	if resp.StatusCode != http.StatusOK || at.Path != "/messages" || !strings.Contains(page, "M. Martin") {
		t.Fatalf("landed on %s (%d):\n%s", at, resp.StatusCode, page)
	}
	_, linked := eventCount(t, f.node.store, "account.identity_linked.v1")
	_, connected := eventCount(t, f.node.store, "user.connected.v1")
	if linked != linked0+1 || connected != connected0+1 {
		t.Fatalf("links %d→%d, connections %d→%d", linked0, linked, connected0, connected)
	}
	mustMethod(t, f.node.store, "oidc")
	// Again, in another browser: linked already, one more connection.
	at, _, page = newSSOBrowser(t).follow(f.node.URL+"/sso/oidc/"+upstreamOIDC+"/login", nil)
	if at.Path != "/" || !strings.Contains(page, "M. Martin") {
		t.Fatalf("second sign-in landed on %s:\n%s", at, page)
	}
	if _, l := eventCount(t, f.node.store, "account.identity_linked.v1"); l != linked {
		t.Fatalf("the identity was linked again (%d)", l)
	}
	// The administrators' page shows both providers in service.
	admin := newSSOBrowser(t)
	mustPasswordSignIn(t, admin, f.node, "admin.demo")
	_, adm := admin.get(f.node.URL + "/admin/sso")
	if !strings.Contains(html.UnescapeString(adm), "en service, sans métadonnées à lire") || strings.Contains(adm, "pas encore pris en charge") {
		t.Fatalf("/admin/sso:\n%s", adm)
	}
}

// TestOIDCUpstreamRefusals: a callback whose state is not this browser's,
// and a code redeemed with another sign-in's PKCE verifier, are refused,
// recording nothing.
func TestOIDCUpstreamRefusals(t *testing.T) {
	f := mustUpstreamFixture(t)
	start := f.node.URL + "/sso/oidc/" + upstreamOIDC + "/login"
	stop := atCallback(f.node, "oidc", upstreamOIDC)

	t.Run("another state", func(t *testing.T) {
		b := newSSOBrowser(t)
		cb, _, _ := b.follow(start, stop)
		q := cb.Query()
		if q.Get("code") == "" || q.Get("state") == "" {
			t.Fatalf("no code or state at %s", cb)
		}
		q.Set("state", q.Get("state")+"x")
		cb.RawQuery = q.Encode()
		mustRefuseUpstream(t, f.node, http.StatusBadRequest, func() (*http.Response, string) { return b.get(cb.String()) })
	})
	t.Run("wrong PKCE verifier", func(t *testing.T) {
		// Mallory's code delivered into Alice's sign-in: Alice's browser
		// holds her own state and verifier, which the code was not issued
		// for, so the provider refuses to redeem it.
		mallory, alice := newSSOBrowser(t), newSSOBrowser(t)
		stolen, _, _ := mallory.follow(start, stop)
		own, _, _ := alice.follow(start, stop)
		q := own.Query()
		q.Set("code", stolen.Query().Get("code"))
		own.RawQuery = q.Encode()
		issued := f.op.TokensIssued()
		mustRefuseUpstream(t, f.node, http.StatusBadRequest, func() (*http.Response, string) { return alice.get(own.String()) })
		if f.op.TokensIssued() != issued {
			t.Fatal("the provider issued tokens for a wrong verifier")
		}
	})
}

// TestCASUpstreamTeacherSignsIn: M. Martin signs in through the académie's
// CAS server, matched by ENTPersonJointure, recorded as cas; a ticket
// issued for another sign-in's service, and a ticket used already, are
// refused recording nothing.
func TestCASUpstreamTeacherSignsIn(t *testing.T) {
	f := mustUpstreamFixture(t)
	start := f.node.URL + "/sso/cas/" + upstreamCAS + "/login"
	b := newSSOBrowser(t)
	at, resp, page := b.follow(start+"?next=/messages", nil)
	if resp.StatusCode != http.StatusOK || at.Path != "/messages" || !strings.Contains(page, "M. Martin") {
		t.Fatalf("landed on %s (%d):\n%s", at, resp.StatusCode, page)
	}
	mustMethod(t, f.node.store, "cas")

	stop := atCallback(f.node, "cas", upstreamCAS)
	t.Run("ticket of another sign-in", func(t *testing.T) {
		mallory, alice := newSSOBrowser(t), newSSOBrowser(t)
		stolen, _, _ := mallory.follow(start, stop)
		own, _, _ := alice.follow(start, stop)
		q := own.Query()
		q.Set("ticket", stolen.Query().Get("ticket"))
		own.RawQuery = q.Encode()
		mustRefuseUpstream(t, f.node, http.StatusBadRequest, func() (*http.Response, string) { return alice.get(own.String()) })
	})
	t.Run("ticket used already", func(t *testing.T) {
		first, second := newSSOBrowser(t), newSSOBrowser(t)
		cb, _, _ := first.follow(start, stop)
		if resp, _ := first.get(cb.String()); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first use: %d", resp.StatusCode)
		}
		own, _, _ := second.follow(start, stop)
		q := own.Query()
		q.Set("ticket", cb.Query().Get("ticket"))
		own.RawQuery = q.Encode()
		mustRefuseUpstream(t, f.node, http.StatusBadRequest, func() (*http.Response, string) { return second.get(own.String()) })
	})
}
