package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/sqlite/sqlitetest"
	"github.com/schoollife/ledger/adapters/web"
)

// The outage tests run the real program or its real wiring against real
// stores made unreachable (pgtest's proxy) or full (sqlitetest), and
// talk to it over HTTP.

// limit bounds every wait of these tests: generous, for a loaded machine.
const limit = 2 * time.Minute

// startLimit bounds the wait for serve to start: seeding the demo under
// the race detector, beside the package's other tests on a loaded 2-core
// machine, can take minutes. It is the test's own deadline (less time to
// report), else ten minutes: serve starting is the condition waited on.
func startLimit(t *testing.T) time.Duration {
	if d, ok := t.Deadline(); ok {
		return max(time.Until(d)-30*time.Second, limit)
	}
	return 10 * time.Minute
}

// served is a `ledger serve` running in process.
type served struct {
	URL  string
	Log  *logWatch
	stop func() error
}

// MustServeMain runs `ledger serve ARGS...` in process on a free port and
// waits until it serves; it stops when the test ends.
func MustServeMain(t *testing.T, args ...string) *served {
	t.Helper()
	return MustServeEdited(t, nil, args...)
}

// MustServeEdited is MustServeMain with the program's test hooks set by
// edit (nil: none).
func MustServeEdited(t *testing.T, edit func(*Main), args ...string) *served {
	t.Helper()
	stderr := &logWatch{re: regexp.MustCompile(`msg=serving addr=(\S+)`), seen: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	m := NewMain(io.Discard, stderr, func(string) string { return "" })
	if edit != nil {
		edit(m)
	}
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--seal-every", "0"}, args...))
	}()
	s := &served{Log: stderr, stop: func() error { cancel(); return <-done }}
	select {
	case <-stderr.seen:
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped at start: %v\n%s", err, stderr)
	case <-time.After(startLimit(t)):
		cancel()
		<-done
		t.Fatalf("serve did not start\n%s", stderr)
	}
	s.URL = "http://" + stderr.re.FindStringSubmatch(stderr.String())[1]
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("serve: %v\n%s", err, stderr)
		}
	})
	return s
}

// reply is an HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// call sends a JSON request with a bearer token (none if empty).
func call(t *testing.T, method, url, token string, body any) reply {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// MustToken signs in as an API client, waiting for the account to reach
// the directory's read model (the projections run in the background).
func MustToken(t *testing.T, base, login, password string) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r := call(t, "POST", base+"/api/v1/tokens", "", map[string]string{"login": login, "password": password})
		if r.status == http.StatusCreated {
			var tok struct{ Token string }
			if err := json.Unmarshal(r.body, &tok); err != nil || tok.Token == "" {
				t.Fatalf("token answer %s: %v", r.body, err)
			}
			return tok.Token
		}
		if r.status != http.StatusUnauthorized || time.Now().After(deadline) {
			t.Fatalf("sign in as %s: %d %s", login, r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustOutage checks an answer is a 503 outage of type slug, with
// Retry-After.
func mustOutage(t *testing.T, r reply, slug string) {
	t.Helper()
	var p web.Problem
	if err := json.Unmarshal(r.body, &p); err != nil || r.status != http.StatusServiceUnavailable || p.Type != web.ProblemBase+slug {
		t.Fatalf("%d %s, want 503 %s", r.status, r.body, slug)
	}
	if got := r.header.Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
}

// MustAdmin opens a global administrator on the store with the program's
// own `ledger account create`, and returns its login and password.
func MustAdmin(t *testing.T, store string) (login, password string) {
	t.Helper()
	login, password = "admin.rectorat", "un mot de passe solide"
	var stderr bytes.Buffer
	m := NewMain(io.Discard, &stderr, func(string) string { return "" })
	err := m.Run(context.Background(), []string{"account", "create", "--store", store, "--profile", "admin",
		"--name", "Administration", "--login", login, "--password-file", MustFile(t, password+"\n")})
	if err != nil {
		t.Fatalf("account create: %v\n%s", err, stderr.String())
	}
	return login, password
}

// establishment is a command body every global administrator may send.
func establishment(uai string) map[string]string {
	return map[string]string{"uai": uai, "name": "Collège Jean Jaurès", "kind": "college", "departement": "13"}
}

// TestServeThroughPostgresOutage: while the event store's server is out
// of reach, a command answers 503 with Retry-After and reads of the read
// models, on a database still reachable, go on; once the server is back,
// the same command succeeds, without a restart.
func TestServeThroughPostgresOutage(t *testing.T) {
	t.Parallel()
	store, readModels := pgtest.MustDatabase(t), pgtest.MustDatabase(t)
	proxy, proxied := pgtest.MustProxy(t, store)
	login, password := MustAdmin(t, store)
	s := MustServeMain(t, "--store", proxied, "--readmodels", readModels)
	token := MustToken(t, s.URL, login, password)

	proxy.Cut()
	mustOutage(t, call(t, "POST", s.URL+"/api/v1/establishments", token, establishment("0139999Z")), "store-unavailable")
	for _, path := range []string{"/api/v1/me", "/api/v1/establishments"} {
		if r := call(t, "GET", s.URL+path, token, nil); r.status != http.StatusOK {
			t.Errorf("GET %s during the outage: %d %s", path, r.status, r.body)
		}
	}
	if !strings.Contains(s.Log.String(), `level=WARN msg="store unavailable"`) {
		t.Errorf("the outage is not logged as a warning:\n%s", s.Log)
	}

	proxy.Restore()
	// The pool notices the server is back at its next connection; until
	// then the answer may still be the outage's.
	deadline := time.Now().Add(limit)
	for tries := 1; ; tries++ {
		r := call(t, "POST", s.URL+"/api/v1/establishments", token, establishment("0139999Z"))
		if r.status == http.StatusCreated {
			t.Logf("created at try %d once the server was back", tries)
			break
		}
		if r.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("the same command once the server is back: %d %s", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// countSessions counts the sessions stored in a SQLite store.
func countSessions(t *testing.T, s *sqlite.Store) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM auth_sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestServeOnFullDisk: with the SQLite store's disk full, commands answer
// 503 store-full, reads go on, and signing in still works, the session
// kept by the node until it can be stored; once space is freed the same
// command succeeds and the session is stored at its next use. The server
// is serve's wiring (openApp, openAuth, webHandler) on a store whose
// writer connection the test fills.
func TestServeOnFullDisk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := MustLedgerFile(t)
	login, password := MustAdmin(t, store)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := Config{Store: store}
	a, err := openApp(ctx, &cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	clock := &testClock{now: time.Now()}
	authSvc, closeAuth, err := openAuth(ctx, &cfg, a.store, auth.Config{Logger: log, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAuth()
	importer, err := directoryimport.New(directoryimport.Config{Handlers: a.commands, Registry: a.reg, Log: a.store, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := directoryimport.NewJobs(directoryimport.JobsConfig{Importer: importer, Store: directoryimport.NewDocJobs(a.docs), Locker: a.docs, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer jobs.Close()
	opts := directoryimport.DefaultOptions()
	handler, err := webHandler(webDeps{app: a, auth: authSvc, live: http.NotFoundHandler(), importJobs: jobs, log: log,
		maxImport: web.DefaultMaxImportBytes, importOpts: &opts})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()

	// The projections run until the administrator can sign in, then stop:
	// nothing but the requests writes while the disk is full.
	bg, stopProjections := context.WithCancel(ctx)
	projected := make(chan error, 1)
	go func() { projected <- a.runner.Run(bg) }()
	healthy := MustToken(t, srv.URL, login, password)
	stopProjections()
	if err := <-projected; err != nil {
		t.Fatal(err)
	}
	es := a.store.(*sqlite.Store)
	stored := countSessions(t, es)

	free := sqlitetest.MustFill(t, es)
	full := MustToken(t, srv.URL, login, password)
	if n := countSessions(t, es); n != stored {
		t.Fatalf("%d sessions stored after a sign-in on a full disk, want %d", n, stored)
	}
	for _, token := range []string{healthy, full} {
		for _, path := range []string{"/api/v1/me", "/api/v1/establishments"} {
			if r := call(t, "GET", srv.URL+path, token, nil); r.status != http.StatusOK {
				t.Errorf("GET %s on a full disk: %d %s", path, r.status, r.body)
			}
		}
	}
	mustOutage(t, call(t, "POST", srv.URL+"/api/v1/establishments", full, establishment("0139999Z")), "store-full")
	if !strings.Contains(logs.String(), "sign-in not recorded") {
		t.Errorf("the sign-in's connection, not recorded, is not logged:\n%s", logs.String())
	}

	free()
	clock.Advance(time.Minute)
	if r := call(t, "POST", srv.URL+"/api/v1/establishments", full, establishment("0139999Z")); r.status != http.StatusCreated {
		t.Fatalf("the same command once space is freed: %d %s", r.status, r.body)
	}
	if n := countSessions(t, es); n != stored+1 {
		t.Errorf("%d sessions stored once space is freed and the session used, want %d", n, stored+1)
	}
}

// syncBuffer is a log output written by several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
