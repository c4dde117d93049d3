// Package fuzz holds the round-trip fuzz targets: what the decoders at the
// boundary (JSON bodies, forms, query parameters, directory feeds) accept
// and the command handlers then accept is appended to a real event store,
// applied by every projection without an error and read back from the read
// models as it was accepted; what they refuse is a 4xx problem, never a 500
// or a panic. Each input runs on SQLite and on Postgres, which must answer
// alike. The decoders' own fuzz targets, without a store, live next to
// them (adapters/web, adapters/api, adapters/live, adapters/directoryimport).
//
// Run one target longer with scripts/fuzz or
//
//	go test ./tests/fuzz -run '^$' -fuzz '^FuzzAPICommand$' -fuzztime 1h
package fuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/api"
	"github.com/schoollife/ledger/adapters/portal"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// patience bounds every wait: generous, so that a loaded machine passes; a
// wait ends as soon as its condition holds.
const patience = 30 * time.Second

// eventStore is what a world needs of an event store.
type eventStore interface {
	commands.EventStore
	projections.Log
}

// world is webtest's school on one real event store and its read-model
// store, with every projection running, served by the API (under /api/)
// and the portal (at /) as cmd/ledger mounts them.
type world struct {
	name   string
	school *webtest.School
	reg    *domain.Registry
	store  *appendLog
	docs   *readstore.Store
	h      *commands.Handlers
	q      *projections.Queries
	runner *projector.Runner
	srv    http.Handler
	// logs holds what the ledger logged at warning level and above: a
	// failed check shows it.
	logs *logBuffer
	// head is the end of the log as mustEvents last read it.
	head domain.Position
}

// appendLog is an event store that remembers the position of the last
// event appended through it: the position the projections must reach
// (reading the end of the log would not do: on Postgres, an event
// committed while an older transaction runs is not readable yet).
type appendLog struct {
	eventStore
	mu   sync.Mutex
	last domain.Position
}

func (a *appendLog) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	res, err := a.eventStore.Append(ctx, stream, expected, events)
	if err == nil {
		a.mu.Lock()
		if a.last.Less(res.Position) {
			a.last = res.Position
		}
		a.mu.Unlock()
	}
	return res, err
}

// Last is the position of the last event appended.
func (a *appendLog) Last() domain.Position {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// opener opens an empty event store and its read-model store, closed when
// the test ends.
type opener func(tb testing.TB) (eventStore, *readstore.Store)

// MustWorlds opens the school on SQLite and on Postgres (skipped outside
// CI when no server answers: see adapters/postgres/pgtest), once per fuzz
// target: every input of the target runs on both.
func MustWorlds(tb testing.TB) []*world {
	tb.Helper()
	return []*world{MustWorld(tb, "sqlite", openSQLite), MustWorld(tb, "postgres", openPostgres)}
}

func openSQLite(tb testing.TB) (eventStore, *readstore.Store) {
	tb.Helper()
	ctx := context.Background()
	es, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "ledger.db"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := es.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	docs, err := readstore.NewSQLite(es.DB(), es.WithTx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		docs.Close()
		es.Close()
	})
	return es, docs
}

func openPostgres(tb testing.TB) (eventStore, *readstore.Store) {
	tb.Helper()
	ctx := context.Background()
	es, err := postgres.Open(ctx, pgtest.MustDatabase(tb))
	if err != nil {
		tb.Fatal(err)
	}
	if err := es.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	docs := readstore.NewPostgres(es.Pool())
	tb.Cleanup(func() {
		docs.Close()
		es.Close()
	})
	return es, docs
}

// MustWorld builds the school on the stores open returns, runs the
// projections until the test ends and waits until they caught up.
func MustWorld(tb testing.TB, name string, open opener) *world {
	tb.Helper()
	ctx := context.Background()
	w := &world{name: name, school: webtest.NewSchool(), reg: domain.NewRegistry(), logs: &logBuffer{}}
	store, docs := open(tb)
	w.store, w.docs = &appendLog{eventStore: store}, docs
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var err error
	if w.h, err = commands.New(commands.Config{Store: w.store, Registry: w.reg, Now: w.school.Clock, Logger: log}); err != nil {
		tb.Fatal(err)
	}
	if err := w.school.Build(ctx, w.h); err != nil {
		tb.Fatalf("%s: build the school: %v", name, err)
	}
	w.q = projections.NewQueries(w.docs, w.docs, w.store, w.reg, webtest.Paris)
	w.runner, err = projector.NewRunner(projector.RunnerConfig{
		Log: w.store, Docs: w.docs, Gens: w.docs, Registry: w.reg, Locker: w.docs,
		Reducers: projections.Reducers(webtest.Paris), Linger: -1, Logger: log,
	})
	if err != nil {
		tb.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.runner.Run(runCtx) }()
	tb.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			tb.Errorf("%s: projections: %v", name, err)
		}
	})
	// The school's events are behind: mustEvents returns what comes next.
	w.mustEvents(tb)

	auth := webtest.NewFakeAuth()
	auth.SignInAll(w.school)
	sessions, err := web.NewSessions(web.SessionsConfig{
		Auth: auth, AuthErrors: webtest.FakeAuthErrors(), Accounts: w.q, Connections: w.h, Logger: log, Now: w.school.Clock,
	})
	if err != nil {
		tb.Fatal(err)
	}
	apiSrv, err := api.NewServer(api.Config{
		Commands: w.h, Queries: w.q, Sessions: sessions, Logger: log, Now: w.school.Clock, Location: webtest.Paris,
	})
	if err != nil {
		tb.Fatal(err)
	}
	pages, err := portal.New(portal.Config{
		Commands: w.h, Queries: w.q, Sessions: sessions, Logger: log, Now: w.school.Clock, Location: webtest.Paris,
	})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", apiSrv.Handler())
	mux.Handle("/", pages.Handler())
	w.srv = mux
	return w
}

// MustCaughtUp waits until every projection has applied every event
// appended so far, failing as soon as one cannot apply an event.
func (w *world) MustCaughtUp(tb testing.TB) {
	tb.Helper()
	last := w.store.Last()
	timeout := time.NewTimer(patience)
	defer timeout.Stop()
	for {
		statuses, changed := w.runner.Watch()
		behind := ""
		for _, st := range statuses {
			if st.Failures > 0 || st.Stopped != nil {
				tb.Fatalf("%s: projection %s cannot apply an event after %s:\n%s", w.name, st.Projection, st.Position, w.logs)
			}
			if st.Position.Less(last) {
				behind = fmt.Sprintf("%s at %s", st.Projection, st.Position)
			}
		}
		if behind == "" {
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			tb.Fatalf("%s: projection %s, not at the last event appended %s after %s:\n%s", w.name, behind, last, patience, w.logs)
		}
	}
}

// mustEvents waits until the projections caught up, then returns the
// events appended since the last call, decoded.
func (w *world) mustEvents(tb testing.TB) []domain.Event {
	tb.Helper()
	w.MustCaughtUp(tb)
	// The projections read the log up to the last append: it is readable.
	recs, err := w.store.ReadAll(context.Background(), w.head, 0)
	if err != nil {
		tb.Fatalf("%s: read the log after %s: %v", w.name, w.head, err)
	}
	if len(recs) > 0 {
		w.head = recs[len(recs)-1].Position
	}
	events, err := projections.DecodeAll(w.reg, recs)
	if err != nil {
		tb.Fatalf("%s: decode the new events: %v", w.name, err)
	}
	return events
}

// response is what the ledger answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the ledger as the profile's account ("" for
// nobody): target is a path, escaped as it would be on the wire, with its
// raw query.
func (w *world) do(tb testing.TB, method, target, profile, contentType string, body []byte) response {
	tb.Helper()
	r := httptest.NewRequest(method, "/", bytes.NewReader(body))
	path, query, _ := strings.Cut(target, "?")
	if err := setPath(r, path); err != nil {
		tb.Fatalf("path %q: %v", path, err)
	}
	r.URL.RawQuery = query
	r.RequestURI = r.URL.RequestURI()
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if profile != "" {
		r.Header.Set("Authorization", "Bearer tok-"+profile)
	}
	rec := httptest.NewRecorder()
	w.srv.ServeHTTP(rec, r)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// setPath sets r's path from its escaped form.
func setPath(r *http.Request, escaped string) error {
	u, err := r.URL.Parse(escaped)
	if err != nil {
		return err
	}
	r.URL.Path, r.URL.RawPath = u.Path, u.RawPath
	return nil
}

// outcome is what the two stores must agree on: a status and, for a
// problem, its type.
type outcome struct {
	status  int
	problem string
}

// mustProblem checks that an API response is a success or an RFC 9457
// problem of a client error that says so, and returns its outcome.
func (w *world) mustProblem(tb testing.TB, what string, r response) outcome {
	tb.Helper()
	if r.status >= 500 {
		tb.Fatalf("%s: %s: %d %s\n%s", w.name, what, r.status, r.body, w.logs)
	}
	if r.status < 400 {
		return outcome{status: r.status}
	}
	var p web.Problem
	if ct := r.header.Get("Content-Type"); ct != web.ProblemMediaType {
		tb.Fatalf("%s: %s: %d with Content-Type %q, want a problem: %s", w.name, what, r.status, ct, r.body)
	}
	if err := json.Unmarshal(r.body, &p); err != nil || p.Status != r.status || !strings.HasPrefix(p.Type, web.ProblemBase) || p.Title == "" {
		tb.Fatalf("%s: %s: %d with the problem %s (%v)", w.name, what, r.status, r.body, err)
	}
	return outcome{status: r.status, problem: strings.TrimPrefix(p.Type, web.ProblemBase)}
}

// mustPage checks that a portal response is a redirect (a form
// recorded) or a page of a client error, and returns its outcome.
func (w *world) mustPage(tb testing.TB, what string, r response) outcome {
	tb.Helper()
	if r.status >= 500 {
		tb.Fatalf("%s: %s: %d %s\n%s", w.name, what, r.status, r.body, w.logs)
	}
	if r.status < 400 {
		return outcome{status: r.status}
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		tb.Fatalf("%s: %s: %d with Content-Type %q, want a page: %s", w.name, what, r.status, ct, r.body)
	}
	return outcome{status: r.status}
}

// mustAgree fails unless every world had the same outcome.
func mustAgree(tb testing.TB, what string, worlds []*world, outcomes []outcome) {
	tb.Helper()
	for i := 1; i < len(outcomes); i++ {
		if outcomes[i] != outcomes[0] {
			tb.Fatalf("%s: %s answered %+v, %s %+v", what, worlds[0].name, outcomes[0], worlds[i].name, outcomes[i])
		}
	}
}

// same fails unless a text read back from a read model is the one
// accepted.
func (w *world) same(tb testing.TB, what, got, want string) {
	tb.Helper()
	if got != want {
		tb.Fatalf("%s: %s reads back as %q, %q was accepted", w.name, what, got, want)
	}
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// The last few kilobytes say why a check failed.
	if b.buf.Len() > 1<<16 {
		b.buf.Next(b.buf.Len() - 1<<15)
	}
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
