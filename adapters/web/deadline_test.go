package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// syncBuffer is a log shared by a handler and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveRoute registers h at pattern behind the deadline of class and
// serves one request to path; the answer and the log.
func serveRoute(t *testing.T, timeouts web.Timeouts, class web.Timeout, pattern, path string, h func(w http.ResponseWriter, r *http.Request) error) (*httptest.ResponseRecorder, string) {
	t.Helper()
	if err := timeouts.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	mux.Handle(pattern, web.WithDeadline(timeouts, class, log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			web.WriteProblem(log, w, r, err)
		}
	})))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec, logs.String()
}

// untilDone waits for the request's deadline, however long the machine
// takes to get there, and fails as a query cut short does.
func untilDone(r *http.Request) error {
	<-r.Context().Done()
	return fmt.Errorf("scan: %w", r.Context().Err())
}

// TestDeadlinePassedIs503: a request that failed because its deadline
// passed answers 503 request-timeout, and the deadline is logged at
// warning level with the route.
func TestDeadlinePassedIs503(t *testing.T) {
	t.Parallel()
	rec, logs := serveRoute(t, web.Timeouts{Request: time.Millisecond}, web.TimeoutDefault,
		"GET /things/{id}", "/things/42", func(w http.ResponseWriter, r *http.Request) error { return untilDone(r) })
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var p web.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Type != web.ProblemBase+"request-timeout" {
		t.Fatalf("problem %s (%v)", rec.Body, err)
	}
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, `route="GET /things/{id}"`) {
		t.Errorf("no warning naming the route and its answer:\n%s", logs)
	}
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("a deadline is not an error of the server:\n%s", logs)
	}
}

// TestDeadlineKeepsClientErrors: a request refused for what it asked keeps
// its problem, deadline or not; a 503 of its own keeps its slug.
func TestDeadlineKeepsClientErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		status int
	}{
		{domain.Errorf(domain.ErrInvalid, "bad"), http.StatusBadRequest},
		{web.ErrImportsUnavailable, http.StatusServiceUnavailable},
	} {
		rec, _ := serveRoute(t, web.Timeouts{Request: time.Millisecond}, web.TimeoutDefault, "GET /x", "/x",
			func(w http.ResponseWriter, r *http.Request) error {
				<-r.Context().Done()
				return tc.err
			})
		var p web.Problem
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		if want, _ := web.ProblemOf(tc.err); rec.Code != tc.status || p.Type != want.Type {
			t.Errorf("%v past the deadline: %d %s", tc.err, rec.Code, p.Type)
		}
	}
}

// TestDeadlineClasses: ordinary routes run under the request deadline,
// uploads and exports under the long one, websockets under none.
func TestDeadlineClasses(t *testing.T) {
	t.Parallel()
	timeouts := web.Timeouts{Request: time.Hour, Long: 3 * time.Hour}
	for _, tc := range []struct {
		class        web.Timeout
		has          bool
		least, under time.Duration
	}{
		{web.TimeoutDefault, true, time.Hour, 70 * time.Minute},
		{web.TimeoutLong, true, 3 * time.Hour, 190 * time.Minute},
		{web.TimeoutNone, false, 0, 0},
	} {
		start := time.Now()
		var deadline time.Time
		var has bool
		_, _ = serveRoute(t, timeouts, tc.class, "GET /x", "/x", func(w http.ResponseWriter, r *http.Request) error {
			deadline, has = r.Context().Deadline()
			return nil
		})
		if has != tc.has {
			t.Errorf("class %d: deadline %v, want one: %v", tc.class, deadline, tc.has)
			continue
		}
		if has && (deadline.Sub(start) < tc.least || deadline.Sub(start) > tc.under) {
			t.Errorf("class %d: deadline in %s, want %s", tc.class, deadline.Sub(start), tc.least)
		}
	}
}

// TestDeadlineNotPassedIsQuiet: a request done in time, or whose client
// left, is no timeout.
func TestDeadlineNotPassedIsQuiet(t *testing.T) {
	t.Parallel()
	rec, logs := serveRoute(t, web.Timeouts{}, web.TimeoutDefault, "GET /x", "/x", func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("scan: %w", context.Canceled)
	})
	if rec.Code != http.StatusInternalServerError || strings.Contains(logs, "deadline") || strings.Contains(logs, "level=WARN") {
		t.Errorf("a cancelled request: %d\n%s", rec.Code, logs)
	}
	if err := web.PastDeadline(httptest.NewRequest("GET", "/", nil), errors.New("boom")); err.Error() != "boom" {
		t.Errorf("PastDeadline without a deadline: %v", err)
	}
}

// TestTimeoutsValidate: a long deadline shorter than the ordinary one is
// refused; zero means the defaults.
func TestTimeoutsValidate(t *testing.T) {
	t.Parallel()
	var d web.Timeouts
	if err := d.Validate(); err != nil || d.Request != web.DefaultRequestTimeout || d.Long != web.DefaultLongRequestTimeout {
		t.Errorf("defaults %+v, %v", d, err)
	}
	for _, bad := range []web.Timeouts{{Request: -time.Second}, {Request: time.Hour, Long: time.Minute}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
