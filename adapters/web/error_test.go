package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestOutageProblems: an outage of a store is a 503 with Retry-After and
// its stable slug, without the cause's text, logged as a warning rather
// than an error.
func TestOutageProblems(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp 10.0.0.7:5432: connect: connection refused")
	for _, tc := range []struct {
		err  error
		slug string
	}{
		{fmt.Errorf("send message: %w", domain.Outage(domain.ErrUnavailable, cause)), "store-unavailable"},
		{fmt.Errorf("send message: %w", domain.Outage(domain.ErrStoreFull, cause)), "store-full"},
	} {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		rec := httptest.NewRecorder()
		WriteProblem(log, rec, httptest.NewRequest("POST", "/api/v1/messages", nil), tc.err)

		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", tc.slug, rec.Code)
		}
		if got := rec.Header().Get("Retry-After"); got != "5" {
			t.Errorf("%s: Retry-After %q, want 5", tc.slug, got)
		}
		if ct := rec.Header().Get("Content-Type"); ct != ProblemMediaType {
			t.Errorf("%s: Content-Type %q", tc.slug, ct)
		}
		var p Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != ProblemBase+tc.slug || p.Status != http.StatusServiceUnavailable || p.Detail != "" {
			t.Errorf("%s: problem %+v", tc.slug, p)
		}
		if strings.Contains(rec.Body.String(), "10.0.0.7") {
			t.Errorf("%s: the cause leaked: %s", tc.slug, rec.Body)
		}
		if !strings.Contains(logs.String(), "level=WARN") || strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "connection refused") {
			t.Errorf("%s: want one warning with the cause, got:\n%s", tc.slug, logs.String())
		}
	}
}

// TestRetryAfterOfOtherProblems: a 429 keeps its own wait, the 503 of the
// HTTP layer gets the outage's, other problems none.
func TestRetryAfterOfOtherProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ErrRateLimited, "60"},
		{ErrImportsUnavailable, "5"},
		{domain.ErrNotFound, ""},
		{errors.New("boom"), ""},
	} {
		rec := httptest.NewRecorder()
		WriteProblem(slog.New(slog.DiscardHandler), rec, httptest.NewRequest("GET", "/", nil), tc.err)
		if got := rec.Header().Get("Retry-After"); got != tc.want {
			t.Errorf("%v: Retry-After %q, want %q", tc.err, got, tc.want)
		}
	}
}
