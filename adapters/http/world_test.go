package http

// The tests run the API over a small school built through the command
// handlers on the in-memory event store, with every projection caught up
// into projections.MemoryDocs, and a fake Auth (adapters/auth is tested
// on its own).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// The fake Auth's errors.
var (
	fakeBadCredentials  = errors.New("fake: bad credentials")
	fakeRateLimited     = errors.New("fake: rate limited")
	fakeUnauthenticated = errors.New("fake: unauthenticated")
)

// rateLimitError carries how long to wait.
type rateLimitError struct{ after time.Duration }

func (e rateLimitError) Error() string             { return "rate limited" }
func (e rateLimitError) Is(target error) bool      { return target == fakeRateLimited }
func (e rateLimitError) RetryAfter() time.Duration { return e.after }

func fakeAuthErrors() AuthErrors {
	return AuthErrors{BadCredentials: fakeBadCredentials, RateLimited: fakeRateLimited, Unauthenticated: fakeUnauthenticated}
}

// password is every test account's password.
const password = "secret"

// fakeAuth knows logins (all with password) and the tokens it issued.
type fakeAuth struct {
	mu      sync.Mutex
	logins  map[string]uuid.UUID
	tokens  map[string]uuid.UUID
	kinds   map[string]string
	limited map[string]bool
	n       int
}

func newFakeAuth() *fakeAuth {
	return &fakeAuth{logins: map[string]uuid.UUID{}, tokens: map[string]uuid.UUID{}, kinds: map[string]string{}, limited: map[string]bool{}}
}

func (a *fakeAuth) Authenticate(_ context.Context, login, pw, addr string) (uuid.UUID, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if addr == "" {
		return uuid.Nil, errors.New("fake: no client address")
	}
	if a.limited[login] {
		return uuid.Nil, rateLimitError{after: 42 * time.Second}
	}
	id, ok := a.logins[login]
	if !ok || pw != password {
		return uuid.Nil, fmt.Errorf("authenticate %q: %w", login, fakeBadCredentials)
	}
	return id, nil
}

func (a *fakeAuth) NewSession(_ context.Context, account uuid.UUID, kind string) (string, time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	tok := fmt.Sprintf("%s-%d", kind, a.n)
	a.tokens[tok], a.kinds[tok] = account, kind
	return tok, time.Date(2006, 3, 14, 20, 0, 0, 0, time.UTC), nil
}

func (a *fakeAuth) Resolve(_ context.Context, token string) (uuid.UUID, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.tokens[token]
	if !ok {
		return uuid.Nil, fmt.Errorf("resolve: %w", fakeUnauthenticated)
	}
	return id, nil
}

func (a *fakeAuth) Revoke(_ context.Context, token string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.tokens[token]; !ok {
		return fakeUnauthenticated
	}
	delete(a.tokens, token)
	return nil
}

// clone returns a copy that issues and revokes on its own.
func (a *fakeAuth) clone() *fakeAuth {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := newFakeAuth()
	c.n = a.n
	maps.Copy(c.logins, a.logins)
	maps.Copy(c.tokens, a.tokens)
	maps.Copy(c.kinds, a.kinds)
	maps.Copy(c.limited, a.limited)
	return c
}

// issue gives account a token without a sign-in.
func (a *fakeAuth) issue(token string, account uuid.UUID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[token] = account
}

var _ Auth = (*fakeAuth)(nil)

// The profiles of the route matrix: who signs in as whom.
const (
	asStudent        = "student"
	asRelative       = "relative"
	asTeacher        = "teacher"
	asCPE            = "cpe"
	asHead           = "head"
	asGuest          = "guest"
	asInspector      = "inspector"
	asOtherInspector = "inspector-other"
	asEvaluator      = "evaluator"
	asAdmin          = "admin"
	asAnonymous      = "anonymous"
)

var profiles = []string{
	asStudent, asRelative, asTeacher, asCPE, asHead, asGuest, asInspector, asOtherInspector, asEvaluator, asAdmin, asAnonymous,
}

// paris is the establishments' time zone.
var paris = domain.Paris()

// world is the test school.
type world struct {
	t       *testing.T
	ctx     context.Context
	reg     *domain.Registry
	store   *memory.Store
	docs    *projections.MemoryDocs
	queries *projections.Queries
	auth    *fakeAuth
	now     time.Time
	h       *commands.Handlers
	srv     *Server

	UAI, OtherUAI string
	// Accounts by profile name, and the others.
	Accounts                                     map[string]uuid.UUID
	Teacher2, Student2, OtherStudent, Closed     uuid.UUID
	Class, OtherClass, Entry                     uuid.UUID
	Lesson, Homework, Message, Resource, Booking uuid.UUID
	Article, Sanction                            uuid.UUID
	LessonDate                                   domain.Date
	LessonSlot                                   domain.Slot
}

// id returns a stable id named after s.
func id(s string) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceOID, []byte("http-test|"+s)) }

// newWorld builds the school through the command handlers and catches the
// projections up.
func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		t: t, ctx: context.Background(), reg: domain.NewRegistry(), store: memory.New(),
		docs: projections.NewMemoryDocs(), auth: newFakeAuth(),
		now: time.Date(2006, 3, 14, 10, 0, 0, 0, paris), // a Tuesday
		UAI: "0130001A", OtherUAI: "0840002B",
		Accounts: map[string]uuid.UUID{},
		Teacher2: id("teacher2"), Student2: id("student2"), OtherStudent: id("other-student"), Closed: id("closed"),
		Class: id("class"), OtherClass: id("other-class"), Entry: id("entry"),
		Homework: id("homework"), Message: id("message"), Resource: id("resource"), Booking: id("booking"),
		Article: id("article"), Sanction: id("sanction"),
		LessonDate: domain.MustDate("2006-03-14"), LessonSlot: domain.Slot{Start: "08:00", End: "08:55"},
	}
	for _, p := range profiles[:len(profiles)-1] {
		w.Accounts[p] = id(p)
	}
	h, err := commands.New(commands.Config{Store: w.store, Registry: w.reg, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	w.h = h
	w.build()
	w.catchUp()
	w.queries = projections.NewQueries(w.docs, w.docs, w.store, w.reg, paris)
	for p, acc := range w.Accounts {
		w.auth.logins[p] = acc
		w.auth.issue("tok-"+p, acc)
	}
	w.auth.logins["closed"] = w.Closed
	w.keepReport()
	w.srv = w.server(w.h, w.auth, w.store)
	return w
}

// server returns an API server over handlers h, auth and the world's read
// side, whose directory imports run on store.
func (w *world) server(h *commands.Handlers, auth *fakeAuth, store *memory.Store) *Server {
	w.t.Helper()
	return w.serverWith(h, auth, store, nil)
}

// serverWith is server with a change to its configuration.
func (w *world) serverWith(h *commands.Handlers, auth *fakeAuth, store *memory.Store, change func(*Config)) *Server {
	w.t.Helper()
	im, err := directoryimport.New(directoryimport.Config{Handlers: h, Registry: w.reg, Log: store, Now: func() time.Time { return w.now }})
	if err != nil {
		w.t.Fatal(err)
	}
	cfg := Config{
		Commands: h, Queries: w.queries, Auth: auth, AuthErrors: fakeAuthErrors(),
		Now: func() time.Time { return w.now }, Location: paris,
		Importer: im, ImportReports: w.docs,
		Live: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			a, ok := ActorFromContext(r.Context())
			if !ok {
				http.Error(rw, "no actor", http.StatusInternalServerError)
				return
			}
			fmt.Fprint(rw, a.Account)
		}),
	}
	if change != nil {
		change(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func system() commands.Request        { return commands.Request{System: true} }
func as(a uuid.UUID) commands.Request { return commands.Request{Actor: a} }

// must fails the test on a command error.
func (w *world) must(_ commands.Result, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) build() {
	h, ctx, sys := w.h, w.ctx, system()
	w.must(h.RegisterEstablishment(ctx, sys, domain.RegisterEstablishment{UAI: w.UAI, Name: "Collège Mistral", Kind: domain.KindCollege, Departement: "13"}))
	w.must(h.RegisterEstablishment(ctx, sys, domain.RegisterEstablishment{UAI: w.OtherUAI, Name: "Lycée Vaucluse", Kind: domain.KindLycee, Departement: "84"}))
	open := func(acc uuid.UUID, uai string, p domain.Profile, f domain.Function, name string) {
		w.must(h.OpenAccount(ctx, sys, domain.OpenAccount{Account: acc, Establishment: uai, Profile: p, Function: f, DisplayName: name}))
	}
	a := w.Accounts
	open(a[asAdmin], "", domain.ProfileAdmin, "", "Admin")
	open(a[asHead], w.UAI, domain.ProfilePersonnel, domain.FunctionHead, "Mme Principale")
	open(a[asCPE], w.UAI, domain.ProfilePersonnel, domain.FunctionCPE, "M. CPE")
	open(a[asTeacher], w.UAI, domain.ProfileTeacher, "", "M. Prof")
	open(w.Teacher2, w.UAI, domain.ProfileTeacher, "", "Mme Lettres")
	open(a[asStudent], w.UAI, domain.ProfileStudent, "", "Léa")
	open(w.Student2, w.UAI, domain.ProfileStudent, "", "Hugo")
	open(w.OtherStudent, w.OtherUAI, domain.ProfileStudent, "", "Inès")
	open(a[asRelative], w.UAI, domain.ProfileRelative, "", "Parent de Léa")
	open(a[asGuest], w.UAI, domain.ProfileGuest, "", "Invité")
	open(a[asInspector], "", domain.ProfileInspector, "", "Inspecteur")
	open(a[asOtherInspector], "", domain.ProfileInspector, "", "Inspectrice")
	open(a[asEvaluator], "", domain.ProfileEvaluator, "", "Évaluateur")
	open(w.Closed, w.UAI, domain.ProfileTeacher, "", "Parti")
	w.must(h.CloseAccount(ctx, sys, domain.CloseAccount{Account: w.Closed, Reason: "left"}))
	w.must(h.HabilitateInspector(ctx, sys, domain.HabilitateInspector{Account: a[asInspector], Establishments: []string{w.UAI}}))
	w.must(h.HabilitateInspector(ctx, sys, domain.HabilitateInspector{Account: a[asOtherInspector], Establishments: []string{w.OtherUAI}}))
	w.must(h.LinkRelative(ctx, sys, domain.LinkRelative{Student: a[asStudent], Relative: a[asRelative], LegalGuardian: true}))

	w.must(h.CreateGroup(ctx, sys, domain.CreateGroup{Group: w.Class, Establishment: w.UAI, Kind: domain.GroupClass, Name: "6A"}))
	w.must(h.JoinGroup(ctx, sys, domain.JoinGroup{Group: w.Class, Account: a[asTeacher], Role: domain.RoleTeacher, Subject: "Mathématiques"}))
	w.must(h.JoinGroup(ctx, sys, domain.JoinGroup{Group: w.Class, Account: a[asStudent], Role: domain.RoleStudent}))
	w.must(h.JoinGroup(ctx, sys, domain.JoinGroup{Group: w.Class, Account: w.Student2, Role: domain.RoleStudent}))
	w.must(h.CreateGroup(ctx, sys, domain.CreateGroup{Group: w.OtherClass, Establishment: w.OtherUAI, Kind: domain.GroupClass, Name: "2nde1"}))
	w.must(h.JoinGroup(ctx, sys, domain.JoinGroup{Group: w.OtherClass, Account: w.OtherStudent, Role: domain.RoleStudent}))
	w.must(h.ScheduleLesson(ctx, sys, domain.ScheduleLesson{
		Group: w.Class, Entry: w.Entry, Weekday: time.Tuesday, Slot: w.LessonSlot, Subject: "Mathématiques",
		Teacher: a[asTeacher], From: domain.MustDate("2005-09-01"), Until: domain.MustDate("2006-07-01"),
	}))

	teacher := as(a[asTeacher])
	roll := domain.RecordRollCall{Group: w.Class, Date: w.LessonDate, Slot: w.LessonSlot, Subject: "Mathématiques", Absent: []uuid.UUID{a[asStudent]}}
	w.Lesson = roll.LessonID()
	w.must(h.RecordRollCall(ctx, teacher, roll))
	w.must(h.AssignHomework(ctx, teacher, domain.AssignHomework{
		Homework: w.Homework, Group: w.Class, Given: w.LessonDate, Due: domain.MustDate("2006-03-16"),
		Instructions: "Exercices 1 à 4 page 52", WorkloadMinutes: 30,
	}))
	w.must(h.SendMessage(ctx, teacher, domain.SendMessage{
		Message: w.Message, ToGroups: []uuid.UUID{w.Class}, ToAccounts: []uuid.UUID{a[asRelative]},
		Subject: "Sortie au musée", Body: "Autorisation à signer.", AckRequested: true,
	}))
	w.must(h.RegisterResource(ctx, as(a[asCPE]), domain.RegisterResource{
		Resource: w.Resource, Establishment: w.UAI, Kind: domain.ResourceRoom, Name: "Salle 101", ApprovalRequired: true,
	}))
	w.must(h.RequestBooking(ctx, teacher, domain.RequestBooking{
		Resource: w.Resource, Booking: w.Booking, Purpose: "Conseil pédagogique",
		Start: time.Date(2006, 3, 20, 10, 0, 0, 0, paris), End: time.Date(2006, 3, 20, 11, 0, 0, 0, paris),
	}))
	w.must(h.PublishArticle(ctx, teacher, domain.PublishArticle{Article: w.Article, Establishment: w.UAI, Title: "Portes ouvertes", Body: "Samedi 18 mars."}))
	w.must(h.PronounceSanction(ctx, as(a[asHead]), domain.PronounceSanction{
		Sanction: w.Sanction, Student: a[asStudent], Kind: domain.SanctionWarning, Date: domain.MustDate("2006-03-13"), Reason: "Insolence",
	}))
	w.must(h.RecordConnection(ctx, teacher, domain.RecordConnection{Method: domain.SignInPassword}))
}

// catchUp brings every projection up to the end of the log.
func (w *world) catchUp() {
	w.t.Helper()
	reducers := []projections.Reducer{
		projections.NewDirectory(), projections.NewStudentFile(), projections.NewOffice(), projections.NewTextbook(),
		projections.NewMailbox(), projections.NewNotifications(), projections.NewBookings(), projections.NewNews(),
		projections.NewAudit(), projections.NewIndicators(paris),
	}
	run, err := projections.NewRunner(projections.RunnerConfig{
		Log: w.store, Docs: w.docs, Gens: w.docs, Registry: w.reg, Reducers: reducers, Locker: w.docs,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, red := range reducers {
		if _, err := run.CatchUp(w.ctx, red, projections.Namespace(red.Name(), 1), nil); err != nil {
			w.t.Fatalf("catch up %s: %v", red.Name(), err)
		}
	}
}

// records returns the whole log of store.
func (w *world) records(store *memory.Store) []domain.Record {
	w.t.Helper()
	recs, err := store.ReadAll(w.ctx, domain.Start, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return recs
}

// fork returns a server whose commands run on a copy of the world's log,
// with a copy of its sessions (its read side stays the world's), so that a
// test's writes touch no other test, and the copy of the log.
func (w *world) fork(t *testing.T) (*Server, *memory.Store) {
	t.Helper()
	store := memory.New()
	for _, r := range w.records(w.store) {
		env := domain.Envelope{ID: r.ID, Type: r.Type, Data: r.Data, Metadata: r.Metadata}
		if _, err := store.Append(w.ctx, r.Stream, domain.AnyVersion(), []domain.Envelope{env}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := commands.New(commands.Config{Store: store, Registry: w.reg, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	return w.server(h, w.auth.clone(), store), store
}

// request is one call to the API.
type request struct {
	method, path string
	// body is encoded as JSON unless it is a string (sent as is), a
	// multipart body or nil.
	body    any
	token   string
	headers map[string]string
}

// response is what the API answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do runs r against s.
func do(t *testing.T, s *Server, r request) response {
	t.Helper()
	var body io.Reader
	contentType := "application/json"
	switch b := r.body.(type) {
	case nil:
	case string:
		body = bytes.NewBufferString(b)
	case multipartBody:
		body, contentType = bytes.NewReader(b.data), b.contentType
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// tokenOf is the bearer token of a matrix profile.
func tokenOf(profile string) string {
	if profile == asAnonymous {
		return ""
	}
	return "tok-" + profile
}

// mustDecode decodes a JSON response body.
func mustDecode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// mustProblem decodes a problem and checks its status and type slug.
func mustProblem(t *testing.T, r response, status int, slug string) Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != problemMediaType {
		t.Fatalf("Content-Type %q, want %q", ct, problemMediaType)
	}
	p := mustDecode[Problem](t, r)
	if p.Type != ProblemBase+slug || p.Status != status || p.Title == "" {
		t.Fatalf("problem %+v, want type %s%s, status %d", p, ProblemBase, slug, status)
	}
	return p
}

// mustReadFile returns a file's contents.
func mustReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
