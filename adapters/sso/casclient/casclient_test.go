package casclient_test

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/sso"
	"github.com/schoollife/ledger/adapters/sso/casclient"
	"github.com/schoollife/ledger/adapters/sso/upstream"
)

const providerName = "cas-academie"

// casServer is an académie's CAS server: it signs in one user, issues
// single-use service tickets bound to their service, and validates them.
type casServer struct {
	*httptest.Server
	mu          sync.Mutex
	next        int
	tickets     map[string]string // ticket -> service
	validations []url.Values
	paths       []string
	broken      bool // answers validations with a server error
}

func startCAS(t *testing.T) *casServer {
	c := &casServer{tickets: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cas/login", func(w http.ResponseWriter, r *http.Request) {
		service := r.URL.Query().Get("service")
		if service == "" {
			http.Error(w, "no service", http.StatusBadRequest)
			return
		}
		sep := "?"
		if strings.Contains(service, "?") {
			sep = "&"
		}
		http.Redirect(w, r, service+sep+"ticket="+c.issue(service), http.StatusFound)
	})
	validate := func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		c.mu.Lock()
		c.validations = append(c.validations, q)
		c.paths = append(c.paths, r.URL.Path)
		service, ok := c.tickets[q.Get("ticket")]
		delete(c.tickets, q.Get("ticket")) // single use, whatever the outcome
		broken := c.broken
		c.mu.Unlock()
		if broken {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		switch {
		case !ok:
			fmt.Fprintf(w, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_TICKET">Ticket %s not recognized</cas:authenticationFailure></cas:serviceResponse>`, html.EscapeString(q.Get("ticket")))
		case service != q.Get("service"):
			w.WriteHeader(http.StatusBadRequest) // as some servers do
			fmt.Fprint(w, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_SERVICE">Ticket was issued for another service</cas:authenticationFailure></cas:serviceResponse>`)
		default:
			fmt.Fprint(w, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
 <cas:authenticationSuccess>
  <cas:user>jdupont</cas:user>
  <cas:attributes>
   <cas:mail>j.dupont@ac-exemple.fr</cas:mail>
   <cas:ENTPersonJointure>AC-EXEMPLE$1234567</cas:ENTPersonJointure>
   <cas:FrEduRne>0750001A$UAJ$PU$N$T3$LYC$340</cas:FrEduRne>
   <cas:FrEduRne>0750002B$UAJ$PU$N$T3$CLG$340</cas:FrEduRne>
  </cas:attributes>
 </cas:authenticationSuccess>
</cas:serviceResponse>`)
		}
	}
	mux.HandleFunc("GET /cas/serviceValidate", validate)
	mux.HandleFunc("GET /cas/p3/serviceValidate", validate)
	c.Server = httptest.NewTLSServer(mux)
	t.Cleanup(c.Close)
	return c
}

func (c *casServer) issue(service string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	t := fmt.Sprintf("ST-%d-abcdefghij", c.next)
	c.tickets[t] = service
	return t
}

func (c *casServer) validated() ([]url.Values, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]url.Values(nil), c.validations...), append([]string(nil), c.paths...)
}

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

func (c *recorder) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

func (c *recorder) lastFailure() upstream.Reason {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.failures) == 0 {
		return ""
	}
	return c.failures[len(c.failures)-1]
}

type fixture struct {
	logs     lockedBuffer
	cas      *casServer
	site     *httptest.Server
	rec      *recorder
	offset   atomic.Int64
	callback string
}

func mustFixture(t *testing.T, version int, change ...func(*casclient.Settings)) *fixture {
	t.Helper()
	f := &fixture{cas: startCAS(t), rec: &recorder{}}
	mux := http.NewServeMux()
	f.site = httptest.NewServer(mux)
	t.Cleanup(f.site.Close)
	f.callback = f.site.URL + "/sso/cas/" + providerName + "/callback"
	settings := casclient.Settings{URL: f.cas.URL + "/cas/", Version: version}
	for _, c := range change {
		c(&settings)
	}
	cfg := casclient.Config{BaseURL: f.site.URL, Providers: []casclient.Provider{{Name: providerName, CAS: settings}}}
	h, err := casclient.New(cfg, f.rec,
		casclient.WithHTTPClient(f.cas.Client()),
		casclient.WithClock(func() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) }),
		casclient.WithFailure(f.rec.fail),
		casclient.WithLogger(slog.New(slog.NewTextHandler(&f.logs, nil))),
		casclient.WithStateKey(bytes.Repeat([]byte("c"), 32)),
	)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux.Handle("/sso/", h)
	return f
}

// browser follows redirects one at a time, keeping its cookies; it
// trusts the CAS server's test certificate.
type browser struct {
	t      *testing.T
	client *http.Client
}

func (f *fixture) newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{Jar: jar, Transport: f.cas.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) follow(u, stop string) (string, *http.Response, string) {
	b.t.Helper()
	for range 10 {
		if stop != "" && strings.HasPrefix(u, stop) {
			return u, nil, ""
		}
		resp, body := b.get(u)
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

func (f *fixture) toCallback(t *testing.T, b *browser, returnTo string) string {
	t.Helper()
	u, _, body := b.follow(f.site.URL+"/sso/cas/"+providerName+"/login?returnTo="+url.QueryEscape(returnTo), f.callback)
	if !strings.HasPrefix(u, f.callback) {
		t.Fatalf("stopped at %s: %s", u, body)
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
		t.Errorf("not the French %q page:\n%s", title, body)
	}
	for _, w := range []string{"ticket", "Ticket", "INVALID", "error", "ST-", fmt.Sprint(status), http.StatusText(status)} {
		if strings.Contains(body, w) {
			t.Errorf("page shows %q", w)
		}
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version int
		path    string
	}{{3, "/cas/p3/serviceValidate"}, {0, "/cas/p3/serviceValidate"}, {2, "/cas/serviceValidate"}} {
		t.Run(fmt.Sprint(tc.version), func(t *testing.T) {
			t.Parallel()
			f := mustFixture(t, tc.version)
			b := f.newBrowser(t)
			cb := f.toCallback(t, b, "/famille?eleve=3")
			resp, body := b.get(cb)
			if resp.StatusCode != http.StatusOK || body != "signed in" {
				t.Fatalf("%d: %s", resp.StatusCode, body)
			}
			ticket, _ := url.Parse(cb)
			want := sso.Identity{Provider: providerName, Protocol: sso.ProtocolCAS, Subject: "jdupont",
				SessionIndex: ticket.Query().Get("ticket"),
				Attributes: map[string][]string{
					"mail": {"j.dupont@ac-exemple.fr"}, "ENTPersonJointure": {"AC-EXEMPLE$1234567"},
					"FrEduRne": {"0750001A$UAJ$PU$N$T3$LYC$340", "0750002B$UAJ$PU$N$T3$CLG$340"},
				}}
			f.rec.mu.Lock()
			defer f.rec.mu.Unlock()
			if len(f.rec.ids) != 1 || !reflect.DeepEqual(f.rec.ids[0], want) {
				t.Fatalf("identities %+v\nwant %+v", f.rec.ids, want)
			}
			if f.rec.returnTos[0] != "/famille?eleve=3" {
				t.Errorf("returnTo %q", f.rec.returnTos[0])
			}
			// The service validated is the one the ticket was asked for,
			// exactly: the callback URL without the ticket.
			vals, paths := f.cas.validated()
			service := strings.TrimSuffix(cb, "&ticket="+ticket.Query().Get("ticket"))
			if len(vals) != 1 || vals[0].Get("service") != service || paths[0] != tc.path {
				t.Errorf("validations %v at %v, want service %s at %s", vals, paths, service, tc.path)
			}
		})
	}
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

func TestForgedTicketIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	b := f.newBrowser(t)
	cb, _ := url.Parse(f.toCallback(t, b, "/"))
	q := cb.Query()
	q.Set("ticket", "ST-forged-0000")
	cb.RawQuery = q.Encode()
	resp, body := b.get(cb.String())
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion impossible")
	if f.rec.count() != 0 || f.rec.lastFailure() != upstream.ReasonInvalid {
		t.Errorf("%d completions, reason %q", f.rec.count(), f.rec.lastFailure())
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "INVALID_TICKET") || strings.Contains(logs, "ST-forged") {
		t.Errorf("the log does not name the refusal, or shows the ticket:\n%s", logs)
	}
}

func TestMalformedTicketIsNotSent(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	for _, ticket := range []string{"", "ST-", "PT-123", "ST-a b", "ST-" + strings.Repeat("x", 300)} {
		b := f.newBrowser(t)
		cb, _ := url.Parse(f.toCallback(t, b, "/"))
		q := cb.Query()
		q.Set("ticket", ticket)
		cb.RawQuery = q.Encode()
		resp, body := b.get(cb.String())
		mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion impossible")
	}
	if vals, _ := f.cas.validated(); len(vals) != 0 || f.rec.count() != 0 {
		t.Errorf("%d validations, %d completions", len(vals), f.rec.count())
	}
}

func TestTicketForAnotherServiceIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	b := f.newBrowser(t)
	cb, _ := url.Parse(f.toCallback(t, b, "/"))
	// A ticket the server issued to another of the school's services.
	q := cb.Query()
	q.Set("ticket", f.cas.issue("https://moodle.lycee.example/login/index.php"))
	cb.RawQuery = q.Encode()
	resp, body := b.get(cb.String())
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion impossible")
	if f.rec.count() != 0 {
		t.Errorf("%d completions", f.rec.count())
	}
}

func TestCallbackWithAnotherStateIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	b := f.newBrowser(t)
	cb, _ := url.Parse(f.toCallback(t, b, "/"))
	q := cb.Query()
	q.Set("state", q.Get("state")+"x")
	cb.RawQuery = q.Encode()
	resp, body := b.get(cb.String())
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion expirée")
	// Nor in another browser (a callback forged into someone's browser).
	resp, body = f.newBrowser(t).get(f.toCallback(t, f.newBrowser(t), "/"))
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion expirée")
	if vals, _ := f.cas.validated(); len(vals) != 0 || f.rec.count() != 0 {
		t.Errorf("%d validations, %d completions", len(vals), f.rec.count())
	}
}

func TestReplayedCallbackIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	b := f.newBrowser(t)
	cb := f.toCallback(t, b, "/")
	cbURL, _ := url.Parse(cb)
	stolen := b.client.Jar.Cookies(cbURL)
	if resp, body := b.get(cb); resp.StatusCode != http.StatusOK {
		t.Fatalf("%d: %s", resp.StatusCode, body)
	}
	resp, body := b.get(cb)
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion expirée")
	thief := f.newBrowser(t)
	thief.client.Jar.SetCookies(cbURL, stolen)
	resp, body = thief.get(cb)
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion impossible")
	if f.rec.count() != 1 {
		t.Errorf("%d completions, want 1", f.rec.count())
	}
}

func TestSignInLeftTooLongIsRefused(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	b := f.newBrowser(t)
	cb := f.toCallback(t, b, "/")
	f.offset.Store(int64(11 * time.Minute))
	resp, body := b.get(cb)
	mustFrenchFailure(t, resp, body, http.StatusBadRequest, "Connexion expirée")
	if vals, _ := f.cas.validated(); len(vals) != 0 || f.rec.count() != 0 {
		t.Errorf("%d validations, %d completions", len(vals), f.rec.count())
	}
}

func TestServerDownEndsOnAFrenchPage(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	b := f.newBrowser(t)
	cb := f.toCallback(t, b, "/")
	f.cas.mu.Lock()
	f.cas.broken = true
	f.cas.mu.Unlock()
	resp, body := b.get(cb)
	mustFrenchFailure(t, resp, body, http.StatusBadGateway, "Service d'identification indisponible")
	if f.rec.count() != 0 {
		t.Errorf("%d completions", f.rec.count())
	}
}

func TestUnknownProviderAndOffSiteReturn(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	b := f.newBrowser(t)
	resp, body := b.get(f.site.URL + "/sso/cas/nobody/login")
	mustFrenchFailure(t, resp, body, http.StatusNotFound, "Service d'identification inconnu")
	for _, rt := range []string{"https://evil.example/", "//evil.example", `/\evil.example`} {
		if resp, body := b.get(f.toCallback(t, b, rt)); resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: %d %s", rt, resp.StatusCode, body)
		}
	}
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	if len(f.rec.returnTos) != 3 {
		t.Fatalf("%d completions", len(f.rec.returnTos))
	}
	for _, rt := range f.rec.returnTos {
		if rt != "/" {
			t.Errorf("returnTo %q, want /", rt)
		}
	}
}

func TestRenewIsAskedAtLoginAndValidation(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3, func(s *casclient.Settings) { s.Renew = true })
	b := f.newBrowser(t)
	resp, _ := b.get(f.site.URL + "/sso/cas/" + providerName + "/login")
	login, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || login.Query().Get("renew") != "true" || !strings.HasPrefix(login.Query().Get("service"), f.callback+"?state=") {
		t.Fatalf("login redirect %v (%v)", login, err)
	}
	if resp, body := b.get(f.toCallback(t, b, "/")); resp.StatusCode != http.StatusOK {
		t.Fatalf("%d: %s", resp.StatusCode, body)
	}
	if vals, _ := f.cas.validated(); len(vals) != 1 || vals[0].Get("renew") != "true" {
		t.Errorf("validations %v", vals)
	}
}
