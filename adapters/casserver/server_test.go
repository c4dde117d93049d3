package casserver_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/casserver"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is webtest's school with a registered CAS service, its CAS
// server on SQLite tickets and a settable clock.
type fixture struct {
	w       *webtest.World
	srv     *casserver.Server
	h       http.Handler
	clock   *clock
	service string
}

const pronote = "https://pronote.example.fr/cas/"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w := webtest.NewWorld(t)
	w.Must(w.H.RegisterService(w.Ctx, webtest.System(), domain.RegisterService{
		Establishment: w.UAI, Name: "Pronote", Kind: domain.ServiceCAS,
		URLs: []string{pronote + "*"}, Attributes: domain.ServiceAttributes,
	}))
	w.CatchUp()
	f := &fixture{w: w, clock: &clock{now: time.Date(2006, 3, 14, 9, 0, 0, 0, time.UTC)}, service: pronote + "login"}
	sessions := w.Sessions(w.H, w.Auth, webtest.FakeAuthErrors(), nil)
	srv, err := casserver.New(casserver.Config{
		Sessions: sessions, Directory: w.Queries, Accesses: w.H, Tickets: mustSQLiteTickets(t), Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv, f.h = srv, srv.Handler()
	return f
}

func mustSQLiteTickets(t *testing.T) *casserver.Tickets {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return casserver.NewSQLiteTickets(s.DB(), s.WithTx)
}

// get runs GET path as profile ("" for nobody).
func (f *fixture) get(path, profile string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	if profile != "" {
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: "tok-" + profile})
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

var ticketIn = regexp.MustCompile(`ticket=(ST-[A-Za-z0-9_-]+)`)

// ticket signs profile in to the service and returns its ticket.
func (f *fixture) ticket(t *testing.T, profile string) string {
	t.Helper()
	rec := f.get("/cas/login?service="+url.QueryEscape(f.service), profile)
	m := ticketIn.FindStringSubmatch(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || m == nil {
		t.Fatalf("no ticket: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	return m[1]
}

func (f *fixture) validate(ticket string) string {
	return f.get("/cas/p3/serviceValidate?service="+url.QueryEscape(f.service)+"&ticket="+url.QueryEscape(ticket), "").Body.String()
}

func (f *fixture) events(t *testing.T) int { return len(f.w.Records(f.w.Store)) }

// TestTicketExpires: a ticket validated after its lifetime is refused,
// and spent; nothing is recorded.
func TestTicketExpires(t *testing.T) {
	f := newFixture(t)
	tk := f.ticket(t, webtest.AsStudent)
	before := f.events(t)
	f.clock.Add(casserver.DefaultTicketLifetime)
	if body := f.validate(tk); !strings.Contains(body, `code="INVALID_TICKET"`) || !strings.Contains(body, "expired") {
		t.Fatalf("an expired ticket: %s", body)
	}
	if after := f.events(t); after != before {
		t.Fatalf("%d events recorded", after-before)
	}
	// Just before its end it is good.
	tk = f.ticket(t, webtest.AsStudent)
	f.clock.Add(casserver.DefaultTicketLifetime - time.Millisecond)
	if body := f.validate(tk); !strings.Contains(body, "<cas:authenticationSuccess>") {
		t.Fatalf("a live ticket: %s", body)
	}
	if after := f.events(t); after != before+1 {
		t.Fatalf("%d events recorded, want 1", after-before)
	}
}

// TestValidationAttributes: CAS 3.0 gives the attributes the service was
// registered with, escaped; CAS 2.0 the user alone; the access is
// recorded with its protocol.
func TestValidationAttributes(t *testing.T) {
	f := newFixture(t)
	body := f.validate(f.ticket(t, webtest.AsStudent))
	student := f.w.Accounts[webtest.AsStudent]
	for _, want := range []string{
		"<cas:user>" + student.String() + "</cas:user>",
		"<cas:ENTPersonProfils>National_ELV</cas:ENTPersonProfils>",
		"<cas:ENTPersonStructRattachRNE>" + f.w.UAI + "</cas:ENTPersonStructRattachRNE>",
		"<cas:ENTEleveClasses>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
	rec := f.get("/cas/serviceValidate?service="+url.QueryEscape(f.service)+"&ticket="+f.ticket(t, webtest.AsTeacher), "")
	if b := rec.Body.String(); !strings.Contains(b, "<cas:user>") || strings.Contains(b, "cas:attributes") {
		t.Errorf("CAS 2.0 answer:\n%s", b)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Errorf("Content-Type %s", ct)
	}
	recs := f.w.Records(f.w.Store)
	var protocols []string
	for _, r := range recs {
		if r.Type == "service.accessed.v1" {
			e, err := f.w.Reg.DecodeRecord(r)
			if err != nil {
				t.Fatal(err)
			}
			protocols = append(protocols, e.(domain.ServiceAccessed).Protocol)
		}
	}
	if strings.Join(protocols, ",") != "cas3,cas2" {
		t.Fatalf("accesses recorded: %v", protocols)
	}
}

// TestClosedAccountTicket: an account closed between the ticket and its
// validation reaches nothing.
func TestClosedAccountTicket(t *testing.T) {
	f := newFixture(t)
	tk := f.ticket(t, webtest.AsGuest)
	f.w.Must(f.w.H.CloseAccount(f.w.Ctx, webtest.System(), domain.CloseAccount{Account: f.w.Accounts[webtest.AsGuest]}))
	f.w.CatchUp()
	before := f.events(t)
	if body := f.validate(tk); !strings.Contains(body, `code="INVALID_TICKET"`) {
		t.Fatalf("a closed account's ticket: %s", body)
	}
	if after := f.events(t); after != before {
		t.Fatalf("%d events recorded", after-before)
	}
}

// TestUnregisteredServiceTicket: a service removed after the ticket was
// issued is refused at validation.
func TestUnregisteredServiceTicket(t *testing.T) {
	f := newFixture(t)
	tk := f.ticket(t, webtest.AsStudent)
	list, err := f.w.Queries.Services(f.w.Ctx, f.w.UAI)
	if err != nil || len(list) != 1 {
		t.Fatalf("%v %v", list, err)
	}
	f.w.Must(f.w.H.UnregisterService(f.w.Ctx, webtest.System(), domain.UnregisterService{Service: list[0].ID}))
	f.w.CatchUp()
	before := f.events(t)
	if body := f.validate(tk); !strings.Contains(body, `code="UNAUTHORIZED_SERVICE"`) {
		t.Fatalf("a removed service's ticket: %s", body)
	}
	if after := f.events(t); after != before {
		t.Fatalf("%d events recorded", after-before)
	}
	if rec := f.get("/cas/login?service="+url.QueryEscape(f.service), webtest.AsStudent); rec.Code != http.StatusForbidden {
		t.Fatalf("a removed service still gets tickets: %d", rec.Code)
	}
}

// TestSingleLogoutRequest: a session's end posts one LogoutRequest per
// service it reached, naming the ticket; a failing service does not stop
// the sign-out.
func TestSingleLogoutRequest(t *testing.T) {
	w := webtest.NewWorld(t)
	got := make(chan string, 4)
	var failures atomic.Int32
	svc := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			return
		}
		if strings.HasPrefix(r.URL.Path, "/broken") {
			failures.Add(1)
			http.Error(rw, "no", http.StatusInternalServerError)
			return
		}
		_ = r.ParseForm()
		got <- r.PostForm.Get("logoutRequest")
	}))
	t.Cleanup(svc.Close)
	for _, path := range []string{"/ok/", "/broken/"} {
		w.Must(w.H.RegisterService(w.Ctx, webtest.System(), domain.RegisterService{
			Establishment: w.UAI, Name: "Service " + path, Kind: domain.ServiceCAS, URLs: []string{svc.URL + path + "*"}, SingleLogout: true,
		}))
	}
	w.CatchUp()
	sessions := w.Sessions(w.H, w.Auth, webtest.FakeAuthErrors(), nil)
	srv, err := casserver.New(casserver.Config{Sessions: sessions, Directory: w.Queries, Accesses: w.H, Tickets: mustSQLiteTickets(t)})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	do := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: "tok-" + webtest.AsTeacher})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var okTicket string
	for _, path := range []string{"/ok/", "/broken/"} {
		service := svc.URL + path
		rec := do("/cas/login?service=" + url.QueryEscape(service))
		m := ticketIn.FindStringSubmatch(rec.Header().Get("Location"))
		if m == nil {
			t.Fatalf("no ticket: %d %s", rec.Code, rec.Body)
		}
		if body := do("/cas/serviceValidate?service=" + url.QueryEscape(service) + "&ticket=" + m[1]).Body.String(); !strings.Contains(body, "authenticationSuccess") {
			t.Fatal(body)
		}
		if path == "/ok/" {
			okTicket = m[1]
		}
	}
	if err := srv.SessionEnded(context.Background(), web.SessionID("tok-"+webtest.AsTeacher)); err != nil {
		t.Fatalf("a failing service failed the sign-out: %v", err)
	}
	req := <-got
	for _, want := range []string{`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"`, `Version="2.0"`,
		"<saml:NameID>@NOT_USED@</saml:NameID>", "<samlp:SessionIndex>" + okTicket + "</samlp:SessionIndex>"} {
		if !strings.Contains(req, want) {
			t.Errorf("no %s in %s", want, req)
		}
	}
	if failures.Load() != 1 {
		t.Fatalf("the broken service was called %d times", failures.Load())
	}
	// Told once: a second end sends nothing.
	if err := srv.SessionEnded(context.Background(), web.SessionID("tok-"+webtest.AsTeacher)); err != nil {
		t.Fatal(err)
	}
	select {
	case again := <-got:
		t.Fatalf("logout sent twice: %s", again)
	default:
	}
}

// TestTicketsConsumedOnce: tickets are spent once whatever the number of
// nodes (handles on one database) racing for them, on SQLite and Postgres.
func TestTicketsConsumedOnce(t *testing.T) {
	ctx := context.Background()
	stores := map[string]func(t *testing.T) (a, b *casserver.Tickets){
		"sqlite": func(t *testing.T) (a, b *casserver.Tickets) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			var out [2]*casserver.Tickets
			for i := range out {
				s, err := sqlite.Open(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				out[i] = casserver.NewSQLiteTickets(s.DB(), s.WithTx)
			}
			return out[0], out[1]
		},
		"postgres": func(t *testing.T) (a, b *casserver.Tickets) {
			dsn := pgtest.MustDatabase(t)
			var out [2]*casserver.Tickets
			for i := range out {
				s, err := postgres.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				if err := s.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				out[i] = casserver.NewPostgresTickets(s.Pool())
				t.Cleanup(func() { _ = out[i].Close() })
			}
			return out[0], out[1]
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			a, b := open(t)
			now := time.Now()
			for range 5 {
				tk, err := a.Issue(ctx, casserver.Ticket{Service: pronote, ServiceID: uuid.New(), Account: uuid.New(), Session: "s", Expires: now.Add(time.Minute)})
				if err != nil {
					t.Fatal(err)
				}
				var won atomic.Int32
				var wg sync.WaitGroup
				for i := range 8 {
					node := []*casserver.Tickets{a, b}[i%2]
					wg.Go(func() {
						_, found, err := node.Consume(ctx, tk)
						if err != nil {
							t.Error(err)
						}
						if found {
							won.Add(1)
						}
					})
				}
				wg.Wait()
				if won.Load() != 1 {
					t.Fatalf("ticket consumed %d times", won.Load())
				}
			}
			// Expired tickets and ended sessions are purged.
			if _, err := a.Issue(ctx, casserver.Ticket{Service: pronote, ServiceID: uuid.New(), Account: uuid.New(), Session: "s", Expires: now.Add(-time.Second)}); err != nil {
				t.Fatal(err)
			}
			if err := a.Remember(ctx, "s", casserver.Reached{Ticket: "ST-x", Service: pronote, ServiceID: uuid.New()}, now.Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			n, err := b.Purge(ctx, now)
			if err != nil || n != 2 {
				t.Fatalf("purged %d: %v", n, err)
			}
		})
	}
}

// TestLoginPages: no ticket for an unregistered service, a French page
// instead, never a redirect; without a session, to the sign-in page.
func TestLoginPages(t *testing.T) {
	f := newFixture(t)
	for _, u := range []string{"https://evil.example/cas/", "https://pronote.example.fr.evil.example/cas/", "https://pronote.example.fr/other", "https://pronote.example.fr/cas/../admin", "https://user@pronote.example.fr/cas/"} {
		rec := f.get("/cas/login?service="+url.QueryEscape(u), webtest.AsStudent)
		if rec.Code != http.StatusForbidden || rec.Header().Get("Location") != "" {
			t.Errorf("%s: %d to %q", u, rec.Code, rec.Header().Get("Location"))
		}
		body, _ := io.ReadAll(rec.Body)
		if !strings.Contains(string(body), "Service non reconnu") || !strings.Contains(string(body), `lang="fr"`) {
			t.Errorf("%s: page\n%s", u, body)
		}
	}
	rec := f.get("/cas/login?service="+url.QueryEscape(f.service), "")
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=%2Fcas%2Flogin%3Fservice%3D") {
		t.Fatalf("signed out: %d to %q", rec.Code, loc)
	}
}

// TestRenewWithoutSession: renew asked by a browser with no session
// sends it to sign in, then gives a ticket marked fresh, which a
// validation asking renew accepts.
func TestRenewWithoutSession(t *testing.T) {
	f := newFixture(t)
	login := "/cas/login?renew=true&service=" + url.QueryEscape(f.service)
	rec := f.get(login, "")
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
		t.Fatalf("to %q", loc)
	}
	var renew *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "ledger_cas_renew" {
			renew = c
		}
	}
	if renew == nil || !renew.HttpOnly {
		t.Fatalf("no renew cookie: %v", rec.Result().Cookies())
	}
	// Back from the sign-in page with a session.
	req := httptest.NewRequest("GET", login, nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: "tok-" + webtest.AsStudent})
	req.AddCookie(renew)
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	m := ticketIn.FindStringSubmatch(rec.Header().Get("Location"))
	if m == nil {
		t.Fatalf("no ticket after the sign-in: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	body := f.get("/cas/p3/serviceValidate?renew=true&service="+url.QueryEscape(f.service)+"&ticket="+m[1], "").Body.String()
	if !strings.Contains(body, "<cas:isFromNewLogin>true</cas:isFromNewLogin>") {
		t.Fatalf("renewed ticket refused:\n%s", body)
	}
}
