package oidcprovider_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/oidcprovider"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
)

// TestMain silences the process-wide default logger: zitadel's op writes
// its "request error" lines there whatever the provider's logger (see
// docs/sso.md), and the negative tests make many.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// stores opens a migrated database of each kind and returns the
// provider's store on it; the second call of open gives another handle on
// the same database, as a second node has.
var stores = map[string]func(t *testing.T) func() *oidcprovider.Store{
	"sqlite": func(t *testing.T) func() *oidcprovider.Store {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "ledger.db")
		return func() *oidcprovider.Store {
			s, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			return oidcprovider.NewSQLite(s.DB(), s.WithTx)
		}
	},
	"postgres": func(t *testing.T) func() *oidcprovider.Store {
		ctx := context.Background()
		dsn := pgtest.MustDatabase(t)
		return func() *oidcprovider.Store {
			s, err := postgres.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			st := oidcprovider.NewPostgres(s.Pool())
			t.Cleanup(func() { _ = st.Close() })
			return st
		}
	},
}

// forEachStore runs test on SQLite and Postgres.
func forEachStore(t *testing.T, test func(t *testing.T, open func() *oidcprovider.Store)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) { test(t, stores[name](t)) })
	}
}

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// clients are registered clients in memory.
type clients struct {
	mu sync.Mutex
	m  map[string]oidcprovider.Client
}

func (c *clients) Client(_ context.Context, id string) (oidcprovider.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.m[id]
	if !ok {
		return oidcprovider.Client{}, oidcprovider.ErrUnknownClient
	}
	return cl, nil
}

func (c *clients) add(cl oidcprovider.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[cl.ID] = cl
}

// accesses records the accesses in memory.
type accesses struct {
	mu   sync.Mutex
	list []string // "account client"
}

func (a *accesses) RecordAccess(_ context.Context, account uuid.UUID, clientID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.list = append(a.list, account.String()+" "+clientID)
	return nil
}

func (a *accesses) recorded() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.list...)
}

// people is the directory in memory.
type people struct {
	mu sync.Mutex
	m  map[uuid.UUID]oidcprovider.Person
}

func (p *people) Person(_ context.Context, id uuid.UUID) (oidcprovider.Person, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	person, ok := p.m[id]
	if !ok {
		return person, oidcprovider.ErrUnknownPerson
	}
	return person, nil
}

func (p *people) set(id uuid.UUID, person oidcprovider.Person) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[id] = person
}

// portal stands for the portal: its sign-in page signs in whoever the
// test says, sets the session cookie and goes back to next.
type portal struct {
	mu       sync.Mutex
	who      uuid.UUID
	sessions map[string]uuid.UUID
	signIns  int
	signOuts int
}

const sessionCookie = "test_session"

func (p *portal) loginPage(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	p.mu.Lock()
	p.sessions[token] = p.who
	p.signIns++
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/"})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *portal) SignedIn(r *http.Request) (uuid.UUID, bool, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return uuid.Nil, false, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.sessions[c.Value]
	return id, ok, nil
}

func (p *portal) SignOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		p.mu.Lock()
		delete(p.sessions, c.Value)
		p.signOuts++
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	return nil
}

func (p *portal) counts() (signIns, signOuts int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.signIns, p.signOuts
}

// world is a ledger serving the provider, its directory, clients and
// portal, a clock, and what it recorded.
type world struct {
	issuer   string
	ledger   *httptest.Server
	provider *oidcprovider.Provider
	open     func() *oidcprovider.Store
	clock    *clock
	clients  *clients
	accesses *accesses
	people   *people
	portal   *portal
	teacher  uuid.UUID
}

// mustListen returns a listener on the loopback and its http URL.
func mustListen(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String()
}

func newWorld(t *testing.T, open func() *oidcprovider.Store) *world {
	t.Helper()
	w := &world{
		open:     open,
		clock:    &clock{t: time.Now()},
		clients:  &clients{m: map[string]oidcprovider.Client{}},
		accesses: &accesses{},
		people:   &people{m: map[uuid.UUID]oidcprovider.Person{}},
		portal:   &portal{sessions: map[string]uuid.UUID{}},
		teacher:  uuid.New(),
	}
	w.people.set(w.teacher, oidcprovider.Person{
		Login: "c.durand", DisplayName: "Claire Durand", Profile: "National_ENS",
		Establishment: "0750001A", Classes: []string{"4B"}, Groups: []string{"Latin 4e"}, Jointure: "AAF-123456",
	})
	w.portal.who = w.teacher
	var ln net.Listener
	ln, w.issuer = mustListen(t)
	w.provider, w.ledger = w.node(t, ln, open())
	return w
}

// node starts a ledger node on ln serving the provider over store, with
// the world's issuer.
func (w *world) node(t *testing.T, ln net.Listener, store *oidcprovider.Store) (*oidcprovider.Provider, *httptest.Server) {
	t.Helper()
	p, err := oidcprovider.New(context.Background(), oidcprovider.Config{
		Issuer: w.issuer, Store: store, Clients: w.clients, Accesses: w.accesses, People: w.people,
		Sessions: w.portal, Now: w.clock.Now, AllowInsecure: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(oidcprovider.DiscoveryPath, p.Handler())
	mux.Handle(oidcprovider.Prefix, p.Handler())
	mux.HandleFunc("GET /login", w.portal.loginPage)
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return p, srv
}

// secondNode starts another node on the same database.
func (w *world) secondNode(t *testing.T) *httptest.Server {
	t.Helper()
	ln, _ := mustListen(t)
	_, srv := w.node(t, ln, w.open())
	return srv
}

// browser is a person's browser: cookies, and redirects followed until
// they leave for a service's callback (stop).
type browser struct {
	*http.Client
}

func newBrowser(t *testing.T, stop func(*url.URL) bool) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{&http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if stop != nil && stop(req.URL) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

// mustGet gets u and returns the answer, its body read.
func (b *browser) mustGet(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, sb.String()
}
