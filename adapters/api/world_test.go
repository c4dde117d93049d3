package api

// The tests run the API over webtest's school.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/schoollife/ledger/adapters/portal"
	"github.com/schoollife/ledger/adapters/subjectexport"
	"github.com/schoollife/ledger/adapters/timetableimport"
	"github.com/schoollife/ledger/domain"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/notify/delivery"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/commands"
)

// The profiles of the route matrix: who signs in as whom.
const (
	asStudent        = webtest.AsStudent
	asRelative       = webtest.AsRelative
	asTeacher        = webtest.AsTeacher
	asCPE            = webtest.AsCPE
	asHead           = webtest.AsHead
	asGuest          = webtest.AsGuest
	asInspector      = webtest.AsInspector
	asOtherInspector = webtest.AsOtherInspector
	asEvaluator      = webtest.AsEvaluator
	asAdmin          = webtest.AsAdmin
	asAnonymous      = webtest.AsAnonymous
)

// world is webtest's school with an API server over it.
type world struct {
	*webtest.World
	srv *Server
	// Service is a CAS service registered for the school.
	Service uuid.UUID
	// notify keeps subscriptions, addresses and deliveries, on SQLite.
	notify *delivery.Store
	// Alert is an open alert about the student's unjustified half-days.
	Alert uuid.UUID
}

// notifications returns the notification settings over handlers h.
func (w *world) notifications(h *commands.Handlers) *web.Notifications {
	w.T.Helper()
	if w.notify == nil {
		s, err := sqlite.Open(w.Ctx, filepath.Join(w.T.TempDir(), "notify.db"))
		if err != nil {
			w.T.Fatal(err)
		}
		w.T.Cleanup(func() { _ = s.Close() })
		w.notify = delivery.NewSQLiteStore(s.DB(), s.WithTx)
	}
	return &web.Notifications{Store: w.notify, Commands: h, Queries: w.Queries, VAPIDPublicKey: testVAPIDPublic, Now: w.Clock}
}

// testVAPIDPublic is a VAPID public key as the API hands it out.
const testVAPIDPublic = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{World: webtest.NewWorld(t), Service: webtest.ID("service")}
	w.Must(w.H.RegisterService(w.Ctx, webtest.System(), domain.RegisterService{
		Service: w.Service, Establishment: w.UAI, Name: "Pronote", Kind: domain.ServiceCAS,
		URLs: []string{"https://pronote.example.fr/cas/*"}, Attributes: domain.ServiceAttributes,
	}))
	raise := domain.RaiseAlert{Establishment: w.UAI, Kind: domain.AlertHalfDays, Student: w.Accounts[asStudent],
		Group: w.Class, Period: "2006-03", Count: 4, Threshold: 4}
	w.Must(w.H.RaiseAlert(w.Ctx, webtest.System(), raise))
	w.Alert = raise.ID()
	w.CatchUp()
	w.srv = w.server(w.H, w.Auth, w.Store)
	return w
}

// server returns an API server over handlers h, auth and the world's read
// side, whose directory imports run on store.
func (w *world) server(h *commands.Handlers, auth *webtest.FakeAuth, store *memory.Store) *Server {
	w.T.Helper()
	return w.serverWith(h, auth, store, nil)
}

// serverWith is server with a change to its configuration.
func (w *world) serverWith(h *commands.Handlers, auth *webtest.FakeAuth, store *memory.Store, change func(*Config)) *Server {
	w.T.Helper()
	d := w.Deps(h, auth, store)
	fr, err := portal.French()
	if err != nil {
		w.T.Fatal(err)
	}
	exports, err := subjectexport.New(subjectexport.Config{
		Log: store, Directory: w.Queries, Registry: w.Reg, Recorder: h, Words: fr, Location: webtest.Paris, Now: w.Clock, TempDir: w.T.TempDir(),
	})
	if err != nil {
		w.T.Fatal(err)
	}
	timetables, err := timetableimport.New(timetableimport.Config{Handlers: h, Log: store, Registry: w.Reg})
	if err != nil {
		w.T.Fatal(err)
	}
	cfg := Config{
		Exports: exports, Timetables: timetables, Erasures: w.ErasureJobs(h), Notifications: w.notifications(h),
		Commands: h, Queries: w.Queries, Sessions: d.Sessions, Imports: d.Imports,
		Now: w.Clock, Location: webtest.Paris,
		Live: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			a, ok := web.ActorFromContext(r.Context())
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
		w.T.Fatal(err)
	}
	return s
}

// fork returns a server whose commands run on a copy of the world's log,
// with a copy of its sessions (its read side stays the world's), so that a
// test's writes touch no other test, and the copy of the log.
func (w *world) fork(t *testing.T) (*Server, *memory.Store) {
	t.Helper()
	h, auth, store := w.Fork(t)
	return w.server(h, auth, store), store
}

func id(s string) uuid.UUID { return webtest.ID(s) }

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
	case webtest.MultipartBody:
		body, contentType = bytes.NewReader(b.Data), b.ContentType
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
func mustProblem(t *testing.T, r response, status int, slug string) web.Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != web.ProblemMediaType {
		t.Fatalf("Content-Type %q, want %q", ct, web.ProblemMediaType)
	}
	p := mustDecode[web.Problem](t, r)
	if p.Type != web.ProblemBase+slug || p.Status != status || p.Title == "" {
		t.Fatalf("problem %+v, want type %s%s, status %d", p, web.ProblemBase, slug, status)
	}
	return p
}
