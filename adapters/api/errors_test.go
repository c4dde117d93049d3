package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
)

// TestProblems checks that bad requests get the right problem and change
// nothing.
func TestProblems(t *testing.T) {
	w := newWorld(t)
	teacher := tokenOf(asTeacher)
	rollcall := `{"group":"` + w.Class.String() + `","date":"2006-03-14","slot":{"start":"09:00","end":"09:55"},"absent":[]}`
	cancel := "/api/v1/lessons/" + w.Lesson.String() + "/absences/" + w.Accounts[asStudent].String() + "/cancellation"
	tests := []struct {
		name   string
		req    request
		status int
		slug   string
	}{
		{"malformed JSON", request{method: "POST", path: "/api/v1/rollcalls", body: `{"group":`, token: teacher}, 400, "malformed-json"},
		{"not JSON at all", request{method: "POST", path: "/api/v1/rollcalls", body: `group=1`, token: teacher}, 400, "malformed-json"},
		{"empty body", request{method: "POST", path: "/api/v1/rollcalls", body: ``, token: teacher}, 400, "malformed-json"},
		{"two values", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall + rollcall, token: teacher}, 400, "malformed-json"},
		{"unknown field", request{method: "POST", path: "/api/v1/rollcalls", body: `{"group":"` + w.Class.String() + `","teacher":"me"}`, token: teacher}, 400, "unknown-field"},
		{"wrong field type", request{method: "POST", path: "/api/v1/rollcalls", body: `{"absent":"everyone"}`, token: teacher}, 400, "invalid-field"},
		{"bad date", request{method: "POST", path: "/api/v1/rollcalls", body: `{"date":"14/03/2006"}`, token: teacher}, 400, "invalid-field"},
		{"bad uuid in body", request{method: "POST", path: "/api/v1/rollcalls", body: `{"group":"6A"}`, token: teacher}, 400, "invalid-field"},
		{"no content type", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall, token: teacher,
			headers: map[string]string{"Content-Type": ""}}, 415, "unsupported-media-type"},
		{"form content type", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall, token: teacher,
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415, "unsupported-media-type"},
		{"latin-1 JSON", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall, token: teacher,
			headers: map[string]string{"Content-Type": "application/json; charset=iso-8859-1"}}, 415, "unsupported-media-type"},
		{"too large", request{method: "POST", path: "/api/v1/rollcalls", token: teacher,
			body: `{"subject":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`}, 413, "body-too-large"},
		{"bad path id", request{method: "POST", path: "/api/v1/lessons/not-a-uuid/absences/" + w.Accounts[asStudent].String() + "/cancellation",
			body: `{"reason":"x"}`, token: teacher}, 400, "invalid-path-parameter"},
		{"bad path UAI", request{method: "GET", path: "/api/v1/establishments/13/groups", token: teacher}, 400, "invalid-path-parameter"},
		{"path and body disagree", request{method: "POST", path: cancel, token: teacher,
			body: domain.CancelAbsence{Student: w.Student2, Reason: "x"}}, 400, "path-body-mismatch"},
		{"bad query date", request{method: "GET", path: "/api/v1/students/" + w.Accounts[asStudent].String() + "/file?from=yesterday", token: teacher}, 400, "invalid-query-parameter"},
		{"bad limit", request{method: "GET", path: "/api/v1/mailbox?limit=100000", token: teacher}, 400, "invalid-query-parameter"},
		{"bad idempotency key", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall, token: teacher,
			headers: map[string]string{headerIdempotencyKey: "two words"}}, 400, "invalid-idempotency-key"},
		{"no token", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall}, 401, "unauthenticated"},
		{"unknown token", request{method: "GET", path: "/api/v1/me", token: "forged"}, 401, "unauthenticated"},
		{"basic auth", request{method: "GET", path: "/api/v1/me", headers: map[string]string{"Authorization": "Basic dGVhY2hlcjpzZWNyZXQ="}}, 401, "unauthenticated"},
		{"cross-site write", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall, token: teacher,
			headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}}, 403, "cross-origin-request"},
		{"no such route", request{method: "GET", path: "/api/v1/nothing", token: teacher}, 404, "no-such-route"},
		{"wrong method", request{method: "PATCH", path: "/api/v1/rollcalls", token: teacher}, 405, "method-not-allowed"},
		// Domain errors, mapped by code.
		{"invalid (domain)", request{method: "POST", path: "/api/v1/rollcalls", body: `{"group":"` + w.Class.String() + `","slot":{"start":"09:00","end":"09:55"}}`, token: teacher}, 400, "invalid-input"},
		{"forbidden (domain)", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall, token: tokenOf(asStudent)}, 403, "no-school-life-acts"},
		{"not found (domain)", request{method: "POST", path: "/api/v1/rollcalls", token: teacher,
			body: domain.RecordRollCall{Group: uuid.New(), Date: w.LessonDate, Slot: w.LessonSlot}}, 404, "unknown-group"},
		{"conflict (domain)", request{method: "POST", path: "/api/v1/resources/" + w.Resource.String() + "/bookings", token: tokenOf(asCPE),
			body: domain.RequestBooking{Start: time.Date(2006, 3, 20, 10, 30, 0, 0, webtest.Paris), End: time.Date(2006, 3, 20, 11, 30, 0, 0, webtest.Paris)}}, 409, "booking-clash"},
		{"rule (domain)", request{method: "POST", path: "/api/v1/rollcalls", token: teacher,
			body: domain.RecordRollCall{Group: w.Class, Date: w.LessonDate, Slot: w.LessonSlot, Absent: []uuid.UUID{w.OtherStudent}}}, 422, "student-not-in-group"},
		{"not found (query)", request{method: "GET", path: "/api/v1/students/" + w.Accounts[asTeacher].String() + "/file", token: tokenOf(asCPE)}, 404, "unknown-student"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, store := w.fork(t)
			before := len(w.Records(store))
			r := do(t, srv, tt.req)
			p := mustProblem(t, r, tt.status, tt.slug)
			if p.Instance != strings.SplitN(tt.req.path, "?", 2)[0] {
				t.Errorf("instance %q", p.Instance)
			}
			if after := len(w.Records(store)); after != before {
				t.Errorf("appended %d events", after-before)
			}
			switch tt.status {
			case 401:
				if r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			case 405:
				if r.header.Get("Allow") == "" {
					t.Error("405 without Allow")
				}
			}
		})
	}
}

// failingAuth fails in a way the API knows nothing of.
type failingAuth struct{ *webtest.FakeAuth }

func (failingAuth) ResolveSession(context.Context, string) (uuid.UUID, time.Time, error) {
	return uuid.Nil, time.Time{}, errors.New("dial tcp 10.0.0.7:5432: password authentication failed for user ledger")
}

// TestInternalErrorsAreNotLeaked: an unexpected error is a generic 500,
// logged with its cause, never sent.
func TestInternalErrorsAreNotLeaked(t *testing.T) {
	w := newWorld(t)
	var logs bytes.Buffer
	srv, err := NewServer(Config{
		Commands: w.H, Queries: w.Queries, Sessions: w.Sessions(w.H, failingAuth{w.Auth}, webtest.FakeAuthErrors(), nil),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, srv, request{method: "GET", path: "/api/v1/me", token: tokenOf(asTeacher)})
	mustProblem(t, r, 500, "internal")
	if bytes.Contains(r.body, []byte("password")) || bytes.Contains(r.body, []byte("10.0.0.7")) {
		t.Errorf("the cause leaked: %s", r.body)
	}
	if !strings.Contains(logs.String(), "password authentication failed") {
		t.Errorf("the cause was not logged: %s", logs.String())
	}
}

// TestProblemTypesDocumented: every problem type slug the HTTP layer
// sends is in docs/api.md's table.
func TestProblemTypesDocumented(t *testing.T) {
	doc := webtest.MustReadFile(t, "../../docs/api.md")
	for _, e := range web.ProblemTypes() {
		if !strings.Contains(doc, "`"+e.Type()+"`") {
			t.Errorf("problem type %s is not in docs/api.md", e.Type())
		}
	}
}

// TestConfigValidate refuses incomplete configurations.
func TestConfigValidate(t *testing.T) {
	w := newWorld(t)
	good := Config{Commands: w.H, Queries: w.Queries, Sessions: w.Deps(w.H, w.Auth, w.Store).Sessions}
	for name, edit := range map[string]func(c *Config){
		"no commands":    func(c *Config) { c.Commands = nil },
		"no queries":     func(c *Config) { c.Queries = nil },
		"no sessions":    func(c *Config) { c.Sessions = nil },
		"negative limit": func(c *Config) { c.MaxBodyBytes = -1 },
	} {
		c := good
		edit(&c)
		if _, err := NewServer(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	c := good
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MaxBodyBytes != DefaultMaxBodyBytes || c.Now == nil || c.Logger == nil || c.Location == nil {
		t.Errorf("defaults not filled: %+v", c)
	}
}

// TestSmallBodyLimit: MaxBodyBytes is the limit.
func TestSmallBodyLimit(t *testing.T) {
	w := newWorld(t)
	srv, err := NewServer(Config{Commands: w.H, Queries: w.Queries, Sessions: w.Deps(w.H, w.Auth, w.Store).Sessions, MaxBodyBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, srv, request{method: "POST", path: "/api/v1/messages", token: tokenOf(asTeacher),
		body: domain.SendMessage{ToAccounts: []uuid.UUID{w.Accounts[asCPE]}, Subject: "Bonjour", Body: strings.Repeat("a", 64)}})
	mustProblem(t, r, http.StatusRequestEntityTooLarge, "body-too-large")
}
