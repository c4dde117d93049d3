// Package webtest is the school the web packages' tests run over: built
// through the command handlers on the in-memory event store, with every
// projection caught up into projections.MemoryDocs, and a fake Auth
// (adapters/auth is tested on its own).
package webtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"mime/multipart"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// The fake Auth's errors.
var (
	FakeBadCredentials  = errors.New("fake: bad credentials")
	FakeRateLimited     = errors.New("fake: rate limited")
	FakeUnauthenticated = errors.New("fake: unauthenticated")
)

// RateLimitError carries how long to wait.
type RateLimitError struct{ after time.Duration }

func (e RateLimitError) Error() string             { return "rate limited" }
func (e RateLimitError) Is(target error) bool      { return target == FakeRateLimited }
func (e RateLimitError) RetryAfter() time.Duration { return e.after }

func FakeAuthErrors() web.AuthErrors {
	return web.AuthErrors{BadCredentials: FakeBadCredentials, RateLimited: FakeRateLimited, Unauthenticated: FakeUnauthenticated}
}

// Password is every test account's Password.
const Password = "secret"

// FakeAuth knows logins (all with Password) and the tokens it issued.
type FakeAuth struct {
	mu      sync.Mutex
	Logins  map[string]uuid.UUID
	tokens  map[string]uuid.UUID
	kinds   map[string]string
	Limited map[string]bool
	n       int
}

func NewFakeAuth() *FakeAuth {
	return &FakeAuth{Logins: map[string]uuid.UUID{}, tokens: map[string]uuid.UUID{}, kinds: map[string]string{}, Limited: map[string]bool{}}
}

func (a *FakeAuth) Authenticate(_ context.Context, login, pw, addr string) (uuid.UUID, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if addr == "" {
		return uuid.Nil, errors.New("fake: no client address")
	}
	if a.Limited[login] {
		return uuid.Nil, RateLimitError{after: 42 * time.Second}
	}
	id, ok := a.Logins[login]
	if !ok || pw != Password {
		return uuid.Nil, fmt.Errorf("authenticate %q: %w", login, FakeBadCredentials)
	}
	return id, nil
}

func (a *FakeAuth) NewSession(_ context.Context, account uuid.UUID, kind string) (string, time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	tok := fmt.Sprintf("%s-%d", kind, a.n)
	a.tokens[tok], a.kinds[tok] = account, kind
	return tok, time.Date(2006, 3, 14, 20, 0, 0, 0, time.UTC), nil
}

func (a *FakeAuth) ResolveSession(_ context.Context, token string) (uuid.UUID, time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.tokens[token]
	if !ok {
		return uuid.Nil, time.Time{}, fmt.Errorf("resolve: %w", FakeUnauthenticated)
	}
	return id, time.Date(2006, 3, 14, 20, 0, 0, 0, time.UTC), nil
}

func (a *FakeAuth) Revoke(_ context.Context, token string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.tokens[token]; !ok {
		return FakeUnauthenticated
	}
	delete(a.tokens, token)
	return nil
}

// Clone returns a copy that issues and revokes on its own.
func (a *FakeAuth) Clone() *FakeAuth {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := NewFakeAuth()
	c.n = a.n
	maps.Copy(c.Logins, a.Logins)
	maps.Copy(c.tokens, a.tokens)
	maps.Copy(c.kinds, a.kinds)
	maps.Copy(c.Limited, a.Limited)
	return c
}

// Issue gives account a token without a sign-in.
func (a *FakeAuth) Issue(token string, account uuid.UUID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[token] = account
}

var _ web.Auth = (*FakeAuth)(nil)

// The Profiles of the route matrix: who signs in as whom.
const (
	AsStudent        = "student"
	AsRelative       = "relative"
	AsTeacher        = "teacher"
	AsCPE            = "cpe"
	AsHead           = "head"
	AsGuest          = "guest"
	AsInspector      = "inspector"
	AsOtherInspector = "inspector-other"
	AsEvaluator      = "evaluator"
	AsAdmin          = "admin"
	AsAnonymous      = "anonymous"
)

var Profiles = []string{
	AsStudent, AsRelative, AsTeacher, AsCPE, AsHead, AsGuest, AsInspector, AsOtherInspector, AsEvaluator, AsAdmin, AsAnonymous,
}

// Paris is the establishments' time zone.
var Paris = domain.Paris()

// World is the test school (School) on the in-memory event store, with
// every projection caught up into projections.MemoryDocs.
type World struct {
	*School
	T       testing.TB
	Ctx     context.Context
	Reg     *domain.Registry
	Store   *memory.Store
	Docs    *projections.MemoryDocs
	Queries *projections.Queries
	Auth    *FakeAuth
	H       *commands.Handlers
}

// ID returns a stable id named after s.
func ID(s string) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceOID, []byte("http-test|"+s)) }

// NewWorld builds the school through the command handlers and catches the
// projections up.
func NewWorld(t testing.TB) *World {
	t.Helper()
	w := &World{
		School: NewSchool(), T: t, Ctx: context.Background(), Reg: domain.NewRegistry(), Store: memory.New(),
		Docs: projections.NewMemoryDocs(), Auth: NewFakeAuth(),
	}
	h, err := commands.New(commands.Config{Store: w.Store, Registry: w.Reg, Now: w.Clock, Shredder: subjectkeys.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	w.H = h
	if err := w.Build(w.Ctx, h); err != nil {
		t.Fatal(err)
	}
	w.CatchUp()
	w.Queries = projections.NewQueries(w.Docs, w.Docs, w.Store, w.Reg, Paris)
	w.Auth.SignInAll(w.School)
	w.keepReport()
	return w
}

func System() commands.Request        { return commands.Request{System: true} }
func As(a uuid.UUID) commands.Request { return commands.Request{Actor: a} }

// Deps are what the web packages are built from, over command handlers h,
// auth and the world's read side, whose directory imports run on store.
type Deps struct {
	Sessions *web.Sessions
	Imports  *web.Imports
}

// Deps returns the sessions and imports of h, auth and store.
func (w *World) Deps(h *commands.Handlers, auth *FakeAuth, store *memory.Store) Deps {
	w.T.Helper()
	return Deps{Sessions: w.Sessions(h, auth, FakeAuthErrors(), nil), Imports: w.Imports(h, store, nil)}
}

// Imports returns the imports of h on store, their jobs kept in the
// world's read side, with a change to their configuration.
func (w *World) Imports(h *commands.Handlers, store *memory.Store, change func(*web.ImportsConfig)) *web.Imports {
	w.T.Helper()
	cfg := web.ImportsConfig{Jobs: w.ImportJobs(h, store, nil)}
	if change != nil {
		change(&cfg)
	}
	imports, err := web.NewImports(cfg)
	if err != nil {
		w.T.Fatal(err)
	}
	return imports
}

// ImportJobs returns import jobs of h on store, kept in the world's read
// side and closed when the test ends, with a change to their
// configuration. Their progress is written often, so that a test sees it.
func (w *World) ImportJobs(h *commands.Handlers, store *memory.Store, change func(*directoryimport.JobsConfig)) *directoryimport.Jobs {
	w.T.Helper()
	im, err := directoryimport.New(directoryimport.Config{Handlers: h, Registry: w.Reg, Log: store, Now: w.Clock})
	if err != nil {
		w.T.Fatal(err)
	}
	cfg := directoryimport.JobsConfig{Importer: im, Store: directoryimport.NewDocJobs(w.Docs), ProgressEvery: 50 * time.Millisecond}
	if change != nil {
		change(&cfg)
	}
	jobs, err := directoryimport.NewJobs(cfg)
	if err != nil {
		w.T.Fatal(err)
	}
	w.T.Cleanup(func() { _ = jobs.Close() })
	return jobs
}

// Sessions returns sessions over auth, whose errors match errs, with a
// change to their configuration.
func (w *World) Sessions(h *commands.Handlers, auth web.Auth, errs web.AuthErrors, change func(*web.SessionsConfig)) *web.Sessions {
	w.T.Helper()
	cfg := web.SessionsConfig{Auth: auth, AuthErrors: errs, Accounts: w.Queries, Connections: h, Now: w.Clock}
	if change != nil {
		change(&cfg)
	}
	sessions, err := web.NewSessions(cfg)
	if err != nil {
		w.T.Fatal(err)
	}
	return sessions
}

// Must fails the test on a command error.
func (w *World) Must(_ commands.Result, err error) {
	w.T.Helper()
	if err != nil {
		w.T.Fatal(err)
	}
}

// CatchUp brings every projection up to the end of the log.
func (w *World) CatchUp() {
	w.T.Helper()
	reducers := []projections.Reducer{
		projections.NewDirectory(), projections.NewStudentFile(), projections.NewOffice(), projections.NewTextbook(),
		projections.NewMailbox(), projections.NewNotifications(), projections.NewBookings(), projections.NewNews(),
		projections.NewAudit(), projections.NewIndicators(Paris), projections.NewConsultations(), projections.NewErasures(),
		projections.NewAlerts(),
	}
	run, err := projector.NewRunner(projector.RunnerConfig{
		Log: w.Store, Docs: w.Docs, Gens: w.Docs, Registry: w.Reg, Reducers: reducers, Locker: w.Docs,
	})
	if err != nil {
		w.T.Fatal(err)
	}
	for _, red := range reducers {
		if _, err := run.CatchUp(w.Ctx, red, projections.Namespace(red.Name(), 1), nil); err != nil {
			w.T.Fatalf("catch up %s: %v", red.Name(), err)
		}
	}
}

// Records returns the whole log of store.
func (w *World) Records(store *memory.Store) []domain.Record {
	w.T.Helper()
	recs, err := store.ReadAll(w.Ctx, domain.Start, 0)
	if err != nil {
		w.T.Fatal(err)
	}
	return recs
}

// Fork returns command handlers that run on a copy of the world's log,
// with a copy of its sessions (its read side stays the world's), so that a
// test's writes touch no other test, and the copy of the log.
func (w *World) Fork(t *testing.T) (*commands.Handlers, *FakeAuth, *memory.Store) {
	t.Helper()
	store := memory.New()
	for _, r := range w.Records(w.Store) {
		env := domain.Envelope{ID: r.ID, Type: r.Type, Data: r.Data, Metadata: r.Metadata}
		if _, err := store.Append(w.Ctx, r.Stream, domain.AnyVersion(), []domain.Envelope{env}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := commands.New(commands.Config{Store: store, Registry: w.Reg, Now: w.Clock, Shredder: subjectkeys.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	return h, w.Auth.Clone(), store
}

// MustReadFile returns a file's contents.
func MustReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// MultipartBody is a request body the tests send as is, with its
// Content-Type.
type MultipartBody struct {
	ContentType string
	Data        []byte
}

// fixtures is the directory import's own test feeds.
const fixtures = "../directoryimport/testdata"

// UploadOf builds a multipart/form-data body: fields, then each path (a
// file, or a directory whose files are taken in name order, under the
// directory import's test feeds) as a part named file; inline files are
// name=content pairs.
func UploadOf(t testing.TB, fields map[string]string, paths []string, inline ...string) MultipartBody {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := mw.WriteField(k, fields[k]); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	for _, p := range paths {
		p = filepath.Join(fixtures, p)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				files = append(files, filepath.Join(p, e.Name()))
			}
			continue
		}
		files = append(files, p)
	}
	add := func(name string, content []byte) {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(content); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		add(filepath.Base(f), b)
	}
	for i := 0; i+1 < len(inline); i += 2 {
		add(inline[i], []byte(inline[i+1]))
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return MultipartBody{ContentType: mw.FormDataContentType(), Data: buf.Bytes()}
}

// KeptImportID is the id of the import job NewWorld keeps, ended.
var KeptImportID = ID("kept-import")

// keepReport keeps the job of an import the admin ran in the world's
// establishment, ended with its report.
func (w *World) keepReport() {
	w.T.Helper()
	rep := &directoryimport.Report{
		CorrelationID: KeptImportID, Actor: w.Accounts[AsAdmin], Mode: directoryimport.ModeFull, Feed: "full feed: students.csv",
		Files:   []directoryimport.FileReport{{Name: "students.csv", Format: directoryimport.FormatCSV, Mode: directoryimport.ModeFull, Records: 3, Rejected: 1}},
		Records: 3, Persons: 2, Establishments: []string{w.UAI}, MaxRejected: 0.5,
		Rejected: []directoryimport.Issue{{Place: directoryimport.Place{File: "students.csv", Line: 3}, ID: "S03",
			Code: directoryimport.ReasonNoName, Reason: "no name: the last and first names are empty"}},
		Planned: map[directoryimport.ChangeKind]int{directoryimport.OpenAccount: 2},
		Applied: map[directoryimport.ChangeKind]int{directoryimport.OpenAccount: 2},
		Events:  2, Started: w.Now, Finished: w.Now.Add(time.Second),
	}
	job := &directoryimport.Job{
		ID: KeptImportID, Actor: rep.Actor, State: directoryimport.JobDone, Files: []string{"students.csv"},
		Establishments: rep.Establishments, Created: rep.Started, Started: rep.Started, Finished: rep.Finished, Heartbeat: rep.Finished,
		Report: rep,
	}
	if _, _, err := directoryimport.NewDocJobs(w.Docs).Create(w.Ctx, job); err != nil {
		w.T.Fatal(err)
	}
}
