package oidcprovider_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/schoollife/ledger/adapters/oidcprovider"
)

const secret = "un-secret-long-et-aléatoire-du-service"

// register registers s as a confidential client releasing every claim.
func (w *world) register(s *service, change ...func(*oidcprovider.Client)) {
	c := oidcprovider.Client{
		ID: s.conf.ClientID, Name: "GRR", RedirectURIs: []string{s.conf.RedirectURL},
		PostLogoutRedirectURIs: []string{s.srv.URL + "/logged-out"},
		SecretHash:             oidcprovider.HashSecret(secret), Attributes: oidcprovider.AllClaims,
	}
	for _, f := range change {
		f(&c)
	}
	w.clients.add(c)
}

// mustSignInPortal signs b in on the portal.
func (w *world) mustSignInPortal(t *testing.T, b *browser) {
	t.Helper()
	resp, _ := b.mustGet(t, w.ledger.URL+"/login?next=/healthz")
	if resp.Request.URL.Path != "/healthz" {
		t.Fatalf("portal sign-in ended at %s", resp.Request.URL)
	}
}

// mustCallback follows a sign-in from authURL until the service's
// callback and returns its query (code and state, or error).
func mustCallback(t *testing.T, b *browser, s *service, authURL string) url.Values {
	t.Helper()
	resp, body := b.mustGet(t, authURL)
	loc, err := resp.Location()
	if err != nil || !s.isCallback(loc) {
		t.Fatalf("sign-in did not come back to the service: %d %s at %s: %.300s", resp.StatusCode, resp.Header.Get("Location"), resp.Request.URL, body)
	}
	return loc.Query()
}

// TestSignedInPersonReachesService: a teacher signed in on the portal
// opens a school service, which gets her claims through the ledger (ID
// token checked against the published keys, userinfo) without a second
// sign-in; the access is recorded once. Someone not signed in goes
// through the portal's sign-in page and back to the authorization step.
func TestSignedInPersonReachesService(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func() *oidcprovider.Store) {
		w := newWorld(t, open)
		s := newService(t, w.issuer, "grr", secret)
		w.register(s)

		b := newBrowser(t, nil)
		w.mustSignInPortal(t, b)
		resp, body := b.mustGet(t, s.srv.URL+"/start")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "signed in") {
			_, _, _, err := s.result()
			t.Fatalf("service answered %d %q: %v", resp.StatusCode, body, err)
		}
		if signIns, _ := w.portal.counts(); signIns != 1 {
			t.Fatalf("%d sign-ins on the portal, want the first one only", signIns)
		}
		_, idClaims, userinfo, err := s.result()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"sub": w.teacher.String(), "name": "Claire Durand", "preferred_username": "c.durand",
			"displayName": "Claire Durand", "ENTPersonLogin": "c.durand", "ENTPersonProfils": "National_ENS",
			"ENTPersonStructRattachRNE": "0750001A", "ENTPersonJointure": "AAF-123456",
		}
		for name, claims := range map[string]map[string]any{"userinfo": userinfo, "ID token": idClaims} {
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("%s: %s = %v, want %v", name, k, claims[k], v)
				}
			}
			if classes, _ := claims["ENTEleveClasses"].([]any); len(classes) != 1 || classes[0] != "4B" {
				t.Errorf("%s: classes %v", name, claims["ENTEleveClasses"])
			}
		}
		if got := w.accesses.recorded(); !slices.Equal(got, []string{w.teacher.String() + " grr"}) {
			t.Fatalf("accesses recorded: %v", got)
		}

		// Not signed in: the portal's sign-in page, then the service.
		fresh := newBrowser(t, nil)
		resp, body = fresh.mustGet(t, s.srv.URL+"/start")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "signed in") {
			t.Fatalf("service answered %d %q", resp.StatusCode, body)
		}
		if signIns, _ := w.portal.counts(); signIns != 2 {
			t.Fatalf("%d sign-ins on the portal, want 2", signIns)
		}
		if got := w.accesses.recorded(); len(got) != 2 {
			t.Fatalf("accesses recorded: %v", got)
		}
	})
}

// TestRefusals: what a service or a browser may get wrong is refused, and
// records no access. Refusals the browser sees are pages in French.
func TestRefusals(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func() *oidcprovider.Store) {
		w := newWorld(t, open)
		ctx := context.Background()
		frenchPage := func(t *testing.T, s *service, authURL string) {
			t.Helper()
			b := newBrowser(t, s.isCallback)
			w.mustSignInPortal(t, b)
			resp, body := b.mustGet(t, authURL)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Connexion à un service") || strings.Contains(body, "invalid") {
				t.Fatalf("answered %d at %s: %.300s", resp.StatusCode, resp.Request.URL, body)
			}
		}
		refusedToService := func(t *testing.T, b *browser, s *service, authURL, wantErr string) {
			t.Helper()
			q := mustCallback(t, b, s, authURL)
			if q.Get("error") != wantErr || q.Get("code") != "" {
				t.Fatalf("callback %v, want error %s", q, wantErr)
			}
		}
		signedIn := func(t *testing.T, s *service) *browser {
			b := newBrowser(t, s.isCallback)
			w.mustSignInPortal(t, b)
			return b
		}

		t.Run("unknown client", func(t *testing.T) {
			s := newService(t, w.issuer, "inconnu", secret)
			frenchPage(t, s, s.authURL())
		})
		t.Run("redirect URI not registered", func(t *testing.T) {
			s := newService(t, w.issuer, "redirect", secret)
			w.register(s, func(c *oidcprovider.Client) { c.RedirectURIs = []string{s.conf.RedirectURL + "/other"} })
			frenchPage(t, s, s.authURL())
			frenchPage(t, s, strings.Replace(s.authURL(), url.QueryEscape("/callback"), url.QueryEscape("/callback/"), 1))
		})
		t.Run("wrong PKCE verifier", func(t *testing.T) {
			s := newService(t, w.issuer, "pkce", secret)
			w.register(s)
			q := mustCallback(t, signedIn(t, s), s, s.authURL())
			err := s.finish(ctx, q, oauth2.GenerateVerifier())
			if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("exchange with a wrong verifier: %v", err)
			}
			// The code is spent: the right verifier comes too late.
			if err := s.finish(ctx, q, s.pkce); err == nil {
				t.Fatal("the code was taken after a wrong verifier")
			}
		})
		t.Run("wrong client secret", func(t *testing.T) {
			s := newService(t, w.issuer, "secret", "not the secret")
			w.register(s)
			q := mustCallback(t, signedIn(t, s), s, s.authURL())
			if err := s.finish(ctx, q, s.pkce); err == nil || !strings.Contains(err.Error(), "invalid_client") {
				t.Fatalf("exchange with a wrong secret: %v", err)
			}
		})
		t.Run("public client without PKCE", func(t *testing.T) {
			s := newService(t, w.issuer, "public", "")
			w.register(s, func(c *oidcprovider.Client) { c.SecretHash = "" })
			refusedToService(t, signedIn(t, s), s, s.conf.AuthCodeURL("state", gooidc.Nonce("n")), "invalid_request")
			refusedToService(t, signedIn(t, s), s, s.conf.AuthCodeURL("state", gooidc.Nonce("n"),
				oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("code_challenge_method", "plain")), "invalid_request")
		})
		t.Run("values not kept", func(t *testing.T) {
			s := newService(t, w.issuer, "values", secret)
			w.register(s)
			refusedToService(t, signedIn(t, s), s, s.authURL(oauth2.SetAuthURLParam("nonce", strings.Repeat("n", 513))), "invalid_request")
			refusedToService(t, signedIn(t, s), s, s.authURL(oauth2.SetAuthURLParam("nonce", "a\x00b")), "invalid_request")
		})
		t.Run("closed account", func(t *testing.T) {
			s := newService(t, w.issuer, "closed", secret)
			w.register(s)
			closed := uuid.New()
			w.people.set(closed, oidcprovider.Person{DisplayName: "Compte fermé", Establishment: "0750001A", Closed: true})
			w.portal.mu.Lock()
			w.portal.who = closed
			w.portal.mu.Unlock()
			t.Cleanup(func() {
				w.portal.mu.Lock()
				w.portal.who = w.teacher
				w.portal.mu.Unlock()
			})
			refusedToService(t, signedIn(t, s), s, s.authURL(), "access_denied")
		})
		t.Run("another establishment's service", func(t *testing.T) {
			s := newService(t, w.issuer, "elsewhere", secret)
			w.register(s, func(c *oidcprovider.Client) { c.Establishment = "0130001B" })
			refusedToService(t, signedIn(t, s), s, s.authURL(), "access_denied")
		})
		if got := w.accesses.recorded(); len(got) != 0 {
			t.Fatalf("refusals recorded accesses: %v", got)
		}
	})
}

// TestCodeSingleUseAcrossNodes: a code given by one node is taken once,
// by whichever node is asked first; presented again, on either node, it
// is refused.
func TestCodeSingleUseAcrossNodes(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func() *oidcprovider.Store) {
		w := newWorld(t, open)
		second := w.secondNode(t)
		ctx := context.Background()
		s := newService(t, w.issuer, "grr", secret)
		w.register(s)
		b := newBrowser(t, s.isCallback)
		w.mustSignInPortal(t, b)
		q := mustCallback(t, b, s, s.authURL())

		first := s.conf
		s.conf.Endpoint.TokenURL = second.URL + "/oidc/token"
		if err := s.finish(ctx, q, s.pkce); err != nil {
			t.Fatalf("the second node does not take the first node's code: %v", err)
		}
		for name, tokenURL := range map[string]string{"second node": s.conf.Endpoint.TokenURL, "first node": first.Endpoint.TokenURL} {
			s.conf.Endpoint.TokenURL = tokenURL
			if err := s.finish(ctx, q, s.pkce); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("code reused on the %s: %v", name, err)
			}
		}
		if got := w.accesses.recorded(); len(got) != 1 {
			t.Fatalf("accesses recorded: %v", got)
		}
	})
}

// TestCodeRace: one code presented at once to two nodes many times over
// gives tokens once.
func TestCodeRace(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func() *oidcprovider.Store) {
		w := newWorld(t, open)
		second := w.secondNode(t)
		s := newService(t, w.issuer, "grr", secret)
		w.register(s)
		b := newBrowser(t, s.isCallback)
		w.mustSignInPortal(t, b)
		q := mustCallback(t, b, s, s.authURL())
		ctx := context.Background()
		const tries = 8
		results := make(chan error, tries)
		for i := range tries {
			conf := s.conf
			if i%2 == 1 {
				conf.Endpoint.TokenURL = second.URL + "/oidc/token"
			}
			go func() {
				_, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(s.pkce))
				results <- err
			}()
		}
		granted := 0
		for range tries {
			if err := <-results; err == nil {
				granted++
			} else if !strings.Contains(err.Error(), "invalid_grant") {
				t.Errorf("a refusal that is not invalid_grant: %v", err)
			}
		}
		if granted != 1 || len(w.accesses.recorded()) != 1 {
			t.Fatalf("%d token requests granted, %d accesses recorded, want 1", granted, len(w.accesses.recorded()))
		}
	})
}

// TestAccessTokenExpires: userinfo answers an access token until it
// expires.
func TestAccessTokenExpires(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func() *oidcprovider.Store) {
		w := newWorld(t, open)
		s := newService(t, w.issuer, "grr", secret)
		w.register(s)
		b := newBrowser(t, nil)
		w.mustSignInPortal(t, b)
		if resp, body := b.mustGet(t, s.srv.URL+"/start"); resp.StatusCode != http.StatusOK {
			t.Fatalf("service answered %d %q", resp.StatusCode, body)
		}
		ctx := context.Background()
		tok := s.token
		if _, err := s.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(oidcprovider.DefaultAccessTokenLifetime + time.Second)
		if _, err := s.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Fatal("userinfo answered an expired access token")
		}
	})
}

// keyID returns the key id of a signed token.
func keyID(t *testing.T, raw string) string {
	t.Helper()
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// TestKeyRotation: a new key is published before it signs; the old one
// stays published, so the tokens it signed still verify, until they have
// expired; then it is gone. Keys are also made on schedule.
func TestKeyRotation(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func() *oidcprovider.Store) {
		w := newWorld(t, open)
		ctx := context.Background()
		s := newService(t, w.issuer, "grr", secret)
		w.register(s)
		b := newBrowser(t, nil)
		w.mustSignInPortal(t, b)
		signIn := func() string {
			t.Helper()
			if resp, body := b.mustGet(t, s.srv.URL+"/start"); resp.StatusCode != http.StatusOK {
				t.Fatalf("service answered %d %q", resp.StatusCode, body)
			}
			raw, _, _, _ := s.result()
			return raw
		}
		published := func() []string {
			t.Helper()
			var set struct{ Keys []struct{ Kid string } }
			resp, err := http.Get(w.issuer + "/oidc/keys")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, k := range set.Keys {
				ids = append(ids, k.Kid)
			}
			return ids
		}
		verifies := func(raw string) bool {
			// A fresh key set: no key cached from before.
			_, err := gooidc.NewRemoteKeySet(ctx, w.issuer+"/oidc/keys").VerifySignature(ctx, raw)
			return err == nil
		}

		old := signIn()
		first := keyID(t, old)
		next, err := w.provider.Keys().Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := published(); !slices.Equal(got, []string{first, next}) {
			t.Fatalf("after rotation, published %v, want %v", got, []string{first, next})
		}
		if kid := keyID(t, signIn()); kid != first {
			t.Fatalf("signed with %s before the new key's time, want %s", kid, first)
		}
		w.clock.Add(oidcprovider.DefaultPublishAhead + time.Second)
		if kid := keyID(t, signIn()); kid != next {
			t.Fatalf("signed with %s once the new key signs, want %s", kid, next)
		}
		if !verifies(old) || !slices.Contains(published(), first) {
			t.Fatal("a token of the old key no longer verifies before it expired")
		}
		w.clock.Add(oidcprovider.DefaultIDTokenLifetime + time.Minute)
		if got := published(); !slices.Equal(got, []string{next}) {
			t.Fatalf("once the old key's tokens expired, published %v, want %v", got, []string{next})
		}
		if verifies(old) {
			t.Fatal("a token of a retired key still verifies")
		}

		// On schedule: a node makes the next key when it is due.
		w.clock.Add(oidcprovider.DefaultRotateEvery)
		if got := published(); len(got) != 2 || got[0] != next {
			t.Fatalf("on schedule, published %v, want %s and a new one", got, next)
		}
	})
}

// TestEndSession: a service's logout with the ID token of the person
// signed in ends the portal session and returns to the service; a logout
// request without it ends nothing.
func TestEndSession(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func() *oidcprovider.Store) {
		w := newWorld(t, open)
		s := newService(t, w.issuer, "grr", secret)
		w.register(s)
		b := newBrowser(t, func(u *url.URL) bool { return "http://"+u.Host == s.srv.URL && u.Path == "/logged-out" })
		w.mustSignInPortal(t, b)
		if resp, body := b.mustGet(t, s.srv.URL+"/start"); resp.StatusCode != http.StatusOK {
			t.Fatalf("service answered %d %q", resp.StatusCode, body)
		}
		raw, _, _, _ := s.result()

		resp, _ := b.mustGet(t, w.issuer+"/oidc/end_session")
		if _, signOuts := w.portal.counts(); signOuts != 0 || resp.Request.URL.Path != "/healthz" && resp.Request.URL.Path != "/" {
			t.Fatalf("a logout without an ID token: %d sign-outs, ended at %s", signOuts, resp.Request.URL)
		}
		q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {s.srv.URL + "/logged-out"}, "state": {"xyz"}}
		resp, _ = b.mustGet(t, w.issuer+"/oidc/end_session?"+q.Encode())
		loc, err := resp.Location()
		if err != nil || loc.Path != "/logged-out" || loc.Query().Get("state") != "xyz" {
			t.Fatalf("logout answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, signOuts := w.portal.counts(); signOuts != 1 {
			t.Fatalf("%d portal sign-outs, want 1", signOuts)
		}
		// Signed out: the next sign-in goes through the portal's page.
		before, _ := w.portal.counts()
		if resp, _ := b.mustGet(t, s.srv.URL+"/start"); resp.StatusCode != http.StatusOK {
			t.Fatalf("service answered %d", resp.StatusCode)
		}
		if after, _ := w.portal.counts(); after != before+1 {
			t.Fatal("the portal session outlived the logout")
		}
	})
}

// TestIssuerFromHost: without an issuer (the demo), the issuer is the
// scheme and host the request came to; with https required, a provider
// without issuer or with an http one does not start.
func TestIssuerFromHost(t *testing.T) {
	open := stores["sqlite"](t)
	store := open()
	base := oidcprovider.Config{
		Store: store, Clients: &clients{m: map[string]oidcprovider.Client{}}, Accesses: &accesses{},
		People: &people{m: map[uuid.UUID]oidcprovider.Person{}}, Sessions: &portal{sessions: map[string]uuid.UUID{}},
	}
	for _, issuer := range []string{"", "http://ent.example.fr", "https://ent.example.fr/ent", "ent.example.fr"} {
		cfg := base
		cfg.Issuer = issuer
		if _, err := oidcprovider.New(context.Background(), cfg); err == nil {
			t.Errorf("issuer %q taken", issuer)
		}
	}
	cfg := base
	cfg.AllowInsecure = true
	p, err := oidcprovider.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + oidcprovider.DiscoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Issuer string `json:"issuer"`
		Token  string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != srv.URL || d.Token != srv.URL+"/oidc/token" {
		t.Fatalf("discovery on %s: %+v", srv.URL, d)
	}
}
