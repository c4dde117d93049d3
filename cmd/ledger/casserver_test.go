package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// casService is a school service using the ledger as its CAS server: on
// a ticket, it validates it with the ledger and answers what the ledger
// said; a back-channel logout request it receives goes to logouts.
type casService struct {
	srv     *httptest.Server
	ledger  string
	path    string // "/cas/p3/serviceValidate" or "/cas/serviceValidate"
	logouts chan string
}

func newCASService(t *testing.T) *casService {
	t.Helper()
	s := &casService{path: "/cas/p3/serviceValidate", logouts: make(chan string, 16)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			m := regexp.MustCompile(`<samlp:SessionIndex>([^<]+)</samlp:SessionIndex>`).FindStringSubmatch(r.PostForm.Get("logoutRequest"))
			if m == nil {
				http.Error(w, "no session index", http.StatusBadRequest)
				return
			}
			s.logouts <- m[1]
			return
		}
		ticket := r.URL.Query().Get("ticket")
		if ticket == "" {
			_, _ = io.WriteString(w, "anonyme")
			return
		}
		_, _ = io.WriteString(w, s.validate(t, s.srv.URL+r.URL.Path, ticket, ""))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// url is the service URL of path.
func (s *casService) url(path string) string { return s.srv.URL + path }

// validate asks the ledger who a ticket is for, as service; extra is
// added to the query ("&renew=true").
func (s *casService) validate(t *testing.T, service, ticket, extra string) string {
	resp, err := http.Get(s.ledger + s.path + "?service=" + url.QueryEscape(service) + "&ticket=" + url.QueryEscape(ticket) + extra)
	if err != nil {
		t.Error(err)
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// browser is a person's browser: cookies kept, redirects followed unless
// noFollow.
type browser struct {
	c    *http.Client
	base string
}

func newBrowser(t *testing.T, base string, follow bool) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return &browser{c: c, base: base}
}

func (b *browser) get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// signIn signs in through the portal's form, with next, and returns
// where it led and the page.
func (b *browser) signIn(t *testing.T, login, next string) (*http.Response, string) {
	t.Helper()
	_, page := b.get(t, b.base+"/login?next="+url.QueryEscape(next))
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in form:\n%s", page)
	}
	resp, err := b.c.PostForm(b.base+"/login", url.Values{"csrf": {m[1]}, "login": {login}, "password": {DemoPassword}, "next": {next}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// session is the browser's portal session token.
func (b *browser) session(t *testing.T) string {
	t.Helper()
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == web.SessionCookie {
			return c.Value
		}
	}
	return ""
}

// mustAccounts opens the test's accounts on store, each with
// DemoPassword, and returns their ids by login.
func mustAccounts(t *testing.T, store string) map[string]string {
	t.Helper()
	pw := MustFile(t, DemoPassword+"\n")
	ids := map[string]string{}
	for _, a := range []struct{ login, name, profile, function string }{
		{"parent.durand", "Claire Durand", "relative", ""},
		{"lea.durand", "Léa Durand", "student", ""},
		{"prof.martin", "M. Martin", "teacher", ""},
		{"cpe.roche", "Mme Roche", "personnel", "cpe"},
	} {
		args := []string{"create", "--store", store, "--establishment", testUAI, "--profile", a.profile, "--name", a.name,
			"--login", a.login, "--password-file", pw}
		if a.function != "" {
			args = append(args, "--function", a.function)
		}
		out, err := runAccount(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		ids[a.login] = strings.TrimSpace(out)
	}
	return ids
}

// mustService registers a CAS service for the test's establishment with
// `ledger services register`.
func mustService(t *testing.T, store, name, pattern string, slo bool) {
	t.Helper()
	args := []string{"services", "register", "--store", store, "--establishment", testUAI, "--name", name, "--url", pattern}
	if slo {
		args = append(args, "--single-logout")
	}
	if code, out, errOut, _ := exit(t, nil, nil, args...); code != 0 {
		t.Fatalf("register %s: %s %s", name, out, errOut)
	}
}

// waitForService waits until a node gives tickets for service (its
// projection has applied the registration): gateway asks nothing of
// nobody and records nothing.
func waitForService(t *testing.T, node, service string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	waitFor(t, "a node knows "+service, func() bool {
		resp, err := c.Get(node + "/cas/login?gateway=true&service=" + url.QueryEscape(service))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusSeeOther
	})
}

// waitFor waits until cond holds, polling; it fails the test after a
// minute (a stuck projection, not a slow one).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not after a minute", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// accesses counts the service.accessed.v1 events of the SQLite store.
func accesses(t *testing.T, path string) int {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, err := s.ReadAll(ctx, domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Type == (domain.ServiceAccessed{}).EventType() {
			n++
		}
	}
	return n
}

var ticketIn = regexp.MustCompile(`ticket=(ST-[A-Za-z0-9_-]+)`)

// TestCASServer: through the real binary, a signed-in parent reaches a
// school service without a second sign-in, the service getting her
// attributes; every refusal records nothing; renew, gateway and single
// logout; a ticket spent on one node is refused on another sharing the
// database.
func TestCASServer(t *testing.T) {
	store := MustLedgerFile(t)
	path := strings.TrimPrefix(store, "sqlite:")
	ids := mustAccounts(t, store)
	svc := newCASService(t)
	foreign := newCASService(t)
	mustService(t, store, "Pronote", svc.url("/app/*"), true)
	mustService(t, store, "Manuels", foreign.url("/manuels"), false)

	base, _ := MustServeStore(t, store)
	base = "http://" + base
	// A second node on the same database.
	other, _ := MustServeStore(t, store)
	other = "http://" + other
	svc.ledger, foreign.ledger = base, base
	for _, node := range []string{base, other} {
		waitForService(t, node, svc.url("/app/"))
		waitForService(t, node, foreign.url("/manuels"))
	}

	// A parent signs in on the portal, then opens the service.
	parent := newBrowser(t, base, true)
	if resp, _ := parent.signIn(t, "parent.durand", "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	before := accesses(t, path)
	resp, body := parent.get(t, base+"/cas/login?service="+url.QueryEscape(svc.url("/app/")))
	if resp.Request.URL.Host != strings.TrimPrefix(svc.srv.URL, "http://") {
		t.Fatalf("ended at %s:\n%s", resp.Request.URL, body)
	}
	for _, want := range []string{
		"<cas:authenticationSuccess>", "<cas:ENTPersonLogin>parent.durand</cas:ENTPersonLogin>",
		"<cas:displayName>Claire Durand</cas:displayName>", "<cas:ENTPersonProfils>National_TUT</cas:ENTPersonProfils>",
		"<cas:ENTPersonStructRattachRNE>" + testUAI + "</cas:ENTPersonStructRattachRNE>",
		"<cas:user>" + ids["parent.durand"] + "</cas:user>",
		"<cas:isFromNewLogin>false</cas:isFromNewLogin>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the service was not given %s:\n%s", want, body)
		}
	}
	if got := accesses(t, path); got != before+1 {
		t.Fatalf("%d accesses recorded, want 1", got-before)
	}

	// Tickets as a browser receives them, without following.
	noFollow := newBrowser(t, base, false)
	noFollow.c.Jar = parent.c.Jar
	ticket := func(t *testing.T, service string) string {
		t.Helper()
		resp, body := noFollow.get(t, base+"/cas/login?service="+url.QueryEscape(service))
		m := ticketIn.FindStringSubmatch(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("no ticket: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if len(m[1]) < len("ST-")+22 { // 128 bits at least, base64url
			t.Fatalf("ticket %s is too short", m[1])
		}
		return m[1]
	}
	refusals := []struct {
		name, code string
		do         func(t *testing.T) string
	}{
		{"reused ticket", "INVALID_TICKET", func(t *testing.T) string {
			tk := ticket(t, svc.url("/app/"))
			if body := svc.validate(t, svc.url("/app/"), tk, ""); !strings.Contains(body, "authenticationSuccess") {
				t.Fatalf("first validation: %s", body)
			}
			return svc.validate(t, svc.url("/app/"), tk, "")
		}},
		{"ticket for another service", "INVALID_SERVICE", func(t *testing.T) string {
			tk := ticket(t, svc.url("/app/"))
			body := foreign.validate(t, foreign.url("/manuels"), tk, "")
			// Spent by the attempt: its own service cannot use it either.
			if again := svc.validate(t, svc.url("/app/"), tk, ""); !strings.Contains(again, `code="INVALID_TICKET"`) {
				t.Errorf("the ticket outlived a failed validation: %s", again)
			}
			return body
		}},
		{"spent on one node, presented on the other", "INVALID_TICKET", func(t *testing.T) string {
			tk := ticket(t, svc.url("/app/"))
			if body := svc.validate(t, svc.url("/app/"), tk, ""); !strings.Contains(body, "authenticationSuccess") {
				t.Fatalf("first validation: %s", body)
			}
			onB := &casService{ledger: other, path: svc.path}
			return onB.validate(t, svc.url("/app/"), tk, "")
		}},
		{"forged ticket", "INVALID_TICKET", func(t *testing.T) string {
			return svc.validate(t, svc.url("/app/"), "ST-"+strings.Repeat("A", 43), "")
		}},
		{"no ticket", "INVALID_REQUEST", func(t *testing.T) string {
			return svc.validate(t, svc.url("/app/"), "", "")
		}},
		{"renew asked of a single sign-on ticket", "INVALID_TICKET_SPEC", func(t *testing.T) string {
			return svc.validate(t, svc.url("/app/"), ticket(t, svc.url("/app/")), "&renew=true")
		}},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			before := accesses(t, path)
			body := r.do(t)
			if !strings.Contains(body, `<cas:authenticationFailure code="`+r.code+`">`) {
				t.Fatalf("want %s:\n%s", r.code, body)
			}
			// The successful validations of the set-up count; the refusal not.
			want := before
			if strings.Contains(r.name, "reused") || strings.Contains(r.name, "spent") {
				want++
			}
			if got := accesses(t, path); got != want {
				t.Fatalf("%d accesses recorded, want %d", got-before, want-before)
			}
		})
	}

	t.Run("unregistered service", func(t *testing.T) {
		before := accesses(t, path)
		for _, u := range []string{"https://evil.example/app/", svc.url("/other/"), svc.url("/app/../admin"), "javascript:alert(1)"} {
			resp, body := noFollow.get(t, base+"/cas/login?service="+url.QueryEscape(u))
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Service non reconnu") || resp.Header.Get("Location") != "" {
				t.Fatalf("%s: %d %s\n%s", u, resp.StatusCode, resp.Header.Get("Location"), body)
			}
			if strings.Contains(body, "403") || strings.Contains(body, "INVALID") {
				t.Errorf("%s: the page shows a code:\n%s", u, body)
			}
		}
		if got := accesses(t, path); got != before {
			t.Fatalf("%d accesses recorded", got-before)
		}
	})

	t.Run("gateway", func(t *testing.T) {
		anonymous := newBrowser(t, base, false)
		resp, _ := anonymous.get(t, base+"/cas/login?gateway=true&service="+url.QueryEscape(svc.url("/app/")))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != svc.url("/app/") {
			t.Fatalf("gateway: %d to %q", resp.StatusCode, loc)
		}
		resp, _ = anonymous.get(t, base+"/cas/login?service="+url.QueryEscape(svc.url("/app/")))
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/login?next=") {
			t.Fatalf("without gateway: %d to %q", resp.StatusCode, loc)
		}
		// Signed in, gateway gives a ticket as ever.
		ticket(t, svc.url("/app/")+"?gateway")
	})

	t.Run("renew", func(t *testing.T) {
		b := newBrowser(t, base, true)
		b.signIn(t, "prof.martin", "/")
		old := b.session(t)
		login := "/cas/login?renew=true&service=" + url.QueryEscape(svc.url("/app/"))
		resp, body := b.get(t, base+login)
		if resp.Request.URL.Path != "/login" || !strings.Contains(body, `name="password"`) {
			t.Fatalf("renew did not ask for the password: %s", resp.Request.URL)
		}
		resp, body = b.signIn(t, "prof.martin", login)
		if resp.Request.URL.Host != strings.TrimPrefix(svc.srv.URL, "http://") {
			t.Fatalf("ended at %s:\n%s", resp.Request.URL, body)
		}
		if !strings.Contains(body, "<cas:isFromNewLogin>true</cas:isFromNewLogin>") || b.session(t) == old {
			t.Fatalf("not a fresh sign-in:\n%s", body)
		}
		// The old session is over.
		stale := newBrowser(t, base, false)
		u, _ := url.Parse(base)
		stale.c.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: old}})
		if resp, _ := stale.get(t, base+"/"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the renewed session's predecessor still opens the portal: %d", resp.StatusCode)
		}
	})

	t.Run("single logout from the portal", func(t *testing.T) {
		b := newBrowser(t, base, true)
		b.signIn(t, "lea.durand", "/")
		tk := reachService(t, b, base, svc)
		resp, err := b.c.PostForm(base+"/logout", url.Values{"csrf": {web.CSRFToken(b.session(t))}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		mustLogout(t, svc, tk)
	})

	t.Run("single logout from /cas/logout", func(t *testing.T) {
		b := newBrowser(t, base, false)
		b.c.CheckRedirect = nil
		b.signIn(t, "cpe.roche", "/")
		tk := reachService(t, b, base, svc)
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, _ := b.get(t, base+"/cas/logout?service="+url.QueryEscape(svc.url("/app/")))
		if loc := resp.Header.Get("Location"); loc != svc.url("/app/") {
			t.Fatalf("logout led to %q", loc)
		}
		mustLogout(t, svc, tk)
		if resp, _ := b.get(t, base+"/"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("still signed in: %d", resp.StatusCode)
		}
	})
}

// reachService opens the service through the ledger and returns the
// ticket it was given.
func reachService(t *testing.T, b *browser, base string, svc *casService) string {
	t.Helper()
	var seen string
	var mu sync.Mutex
	b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if m := ticketIn.FindStringSubmatch(req.URL.RawQuery); m != nil {
			mu.Lock()
			seen = m[1]
			mu.Unlock()
		}
		return nil
	}
	_, body := b.get(t, base+"/cas/login?service="+url.QueryEscape(svc.url("/app/")))
	if !strings.Contains(body, "authenticationSuccess") || seen == "" {
		t.Fatalf("service not reached:\n%s", body)
	}
	return seen
}

// mustLogout waits for the service's logout request for ticket.
func mustLogout(t *testing.T, svc *casService, ticket string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case got := <-svc.logouts:
			if got == ticket {
				return
			}
		case <-timeout:
			t.Fatalf("no logout request for %s", ticket)
		}
	}
}
