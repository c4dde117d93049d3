package metrics_test

import (
	"errors"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/metrics"
)

// mustBody returns the text of a scrape.
func mustBody(t *testing.T, r *metrics.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// wantLines fails for each line (a regular expression of a whole sample
// line) the scrape lacks.
func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !regexp.MustCompile(`(?m)^` + l + `$`).MatchString(body) {
			t.Errorf("no line %s in:\n%s", l, body)
		}
	}
}

// TestRecorders: each recorder's families carry the labels it was given,
// and nothing else.
func TestRecorders(t *testing.T) {
	t.Parallel()
	r := MustNew(t)
	h, err := r.HTTP()
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Commands()
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.Appends()
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Bus()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.BuildInfo(map[string]string{"version": "v1.2.3", "schema": "200"}); err != nil {
		t.Fatal(err)
	}
	h.Served("GET /api/v1/lessons/{id}", 200, 30*time.Millisecond)
	h.Served("GET /api/v1/lessons/{id}", 404, time.Millisecond)
	h.Served("", 404, time.Millisecond)
	h.Served("GET /api/v1/live", 101, 2*time.Millisecond)
	c.CommandDone("SendMessage", "accepted")
	c.CommandDone("SendMessage", "forbidden")
	c.CommandRetried("SendMessage")
	a.GroupCommitted(3, 1, 5, time.Millisecond)
	a.GroupCommitted(1, 0, 1, time.Millisecond)
	b.Published(4, time.Millisecond, nil)
	b.Published(2, time.Millisecond, errors.New("down"))

	body := mustBody(t, r)
	wantLines(t, body,
		`ledger_http_requests_total\{code="200",route="GET /api/v1/lessons/\{id\}"\} 1`,
		`ledger_http_requests_total\{code="404",route="GET /api/v1/lessons/\{id\}"\} 1`,
		`ledger_http_requests_total\{code="404",route="unmatched"\} 1`,
		`ledger_http_requests_total\{code="101",route="GET /api/v1/live"\} 1`,
		`ledger_http_request_duration_seconds_bucket\{route="GET /api/v1/lessons/\{id\}",le="0.05"\} 2`,
		`ledger_http_request_duration_seconds_count\{route="GET /api/v1/lessons/\{id\}"\} 2`,
		`ledger_commands_total\{command="SendMessage",outcome="accepted"\} 1`,
		`ledger_commands_total\{command="SendMessage",outcome="forbidden"\} 1`,
		`ledger_command_retries_total\{command="SendMessage"\} 1`,
		`ledger_appends_total\{outcome="written"\} 3`,
		`ledger_appends_total\{outcome="refused"\} 1`,
		`ledger_appended_events_total 6`,
		`ledger_append_group_size_bucket\{le="1"\} 1`,
		`ledger_append_group_size_bucket\{le="4"\} 2`,
		`ledger_append_group_size_sum 4`,
		`ledger_append_group_duration_seconds_count 2`,
		`ledger_bus_publish_duration_seconds_count\{outcome="ok"\} 1`,
		`ledger_bus_publish_duration_seconds_count\{outcome="error"\} 1`,
		`ledger_bus_published_messages_total 4`,
		`ledger_build_info\{schema="200",version="v1.2.3"\} 1`,
	)
}

// TestSeriesBeforeTheirFirstEvent: the series an alert or a rate reads
// exist at 0 before anything happened: a command's retries once the
// command was seen, refused appends and failed publishes from the start.
func TestSeriesBeforeTheirFirstEvent(t *testing.T) {
	t.Parallel()
	r := MustNew(t)
	c, err := r.Commands()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Appends(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Bus(); err != nil {
		t.Fatal(err)
	}
	c.CommandDone("SendMessage", "accepted")
	wantLines(t, mustBody(t, r),
		`ledger_command_retries_total\{command="SendMessage"\} 0`,
		`ledger_appends_total\{outcome="refused"\} 0`,
		`ledger_appends_total\{outcome="written"\} 0`,
		`ledger_bus_publish_duration_seconds_count\{outcome="error"\} 0`,
		`ledger_bus_published_messages_total 0`,
	)
}

// TestVecFuncs: labelled gauges and counters read their samples at each
// scrape; a sample with the wrong labels fails the scrape rather than
// being served wrong.
func TestVecFuncs(t *testing.T) {
	t.Parallel()
	r := MustNew(t)
	lag := []metrics.Sample{{Value: 3, Labels: []string{"mailbox.v1"}}, {Value: 0, Labels: []string{"audit.v1"}}}
	if err := r.GaugeVecFunc("test_lag", "lag", []string{"projection"}, func() []metrics.Sample { return lag }); err != nil {
		t.Fatal(err)
	}
	if err := r.CounterVecFunc("test_ended_total", "ended", []string{"state"}, func() []metrics.Sample {
		return []metrics.Sample{{Value: 2, Labels: []string{"done"}}}
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.GaugeVecFunc("test_plain", "no labels", nil, func() []metrics.Sample { return []metrics.Sample{{Value: 7}} }); err != nil {
		t.Fatal(err)
	}
	body := mustBody(t, r)
	wantLines(t, body, `test_lag\{projection="mailbox.v1"\} 3`, `test_lag\{projection="audit.v1"\} 0`,
		`test_ended_total\{state="done"\} 2`, `test_plain 7`)
	if !strings.Contains(body, "# TYPE test_ended_total counter") || !strings.Contains(body, "# TYPE test_lag gauge") {
		t.Errorf("types:\n%s", body)
	}
	lag = []metrics.Sample{{Value: 0, Labels: []string{"mailbox.v1"}}}
	wantLines(t, mustBody(t, r), `test_lag\{projection="mailbox.v1"\} 0`)

	lag = []metrics.Sample{{Value: 1}}
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 500 {
		t.Errorf("a sample without its label: %d, want 500", rec.Code)
	}
}
