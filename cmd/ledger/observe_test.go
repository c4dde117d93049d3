package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"go.yaml.in/yaml/v3"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/migrations"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// The observability tests run the real program (`ledger serve` in
// process, on SQLite) and read what an operator reads: /metrics, /readyz,
// the access log.

// series is a scrape: each sample's value by its line's name and labels
// ("ledger_x{a=\"b\"}").
type series map[string]float64

// scrape reads /metrics.
func scrape(t *testing.T, url string) series {
	t.Helper()
	status, body := get(t, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d\n%.500s", url, status, body)
	}
	out := series{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// names returns the metric names of the scrape (histograms' _bucket,
// _sum and _count included).
func (s series) names() map[string]bool {
	out := map[string]bool{}
	for k := range s {
		name, _, _ := strings.Cut(k, "{")
		out[name] = true
	}
	return out
}

// value returns the sample of name whose labels include each of labels
// (`k="v"`), and whether there is one.
func (s series) value(name string, labels ...string) (float64, bool) {
	for k, v := range s {
		n, rest, _ := strings.Cut(k, "{")
		if n != name {
			continue
		}
		if !slices.ContainsFunc(labels, func(l string) bool { return !strings.Contains(rest, l) }) {
			return v, true
		}
	}
	return 0, false
}

// sum adds the samples of name.
func (s series) sum(name string) float64 {
	var total float64
	for k, v := range s {
		if n, _, _ := strings.Cut(k, "{"); n == name {
			total += v
		}
	}
	return total
}

// MustSeries scrapes url until ok holds of the scrape (limit at most).
func MustSeries(t *testing.T, url, what string, ok func(series) bool) series {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := scrape(t, url)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readyz reads /readyz.
func readyz(t *testing.T, url string) (int, readyReport) {
	t.Helper()
	status, body := get(t, url)
	var rep readyReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("GET %s: %d %s: %v", url, status, body, err)
	}
	return status, rep
}

// projectionCheck returns /readyz's check of a projection.
func (r readyReport) projection(name string) readyCheck {
	for _, c := range r.Checks {
		if c.Projection == name {
			return c
		}
	}
	return readyCheck{}
}

// MustReadyz reads /readyz until ok holds of it (limit at most).
func MustReadyz(t *testing.T, url, what string, ok func(int, readyReport) bool) readyReport {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		status, rep := readyz(t, url)
		if ok(status, rep) {
			return rep
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never showed %s: %d %+v", what, status, rep)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// send sends a JSON request with a bearer token and extra headers.
func send(t *testing.T, method, url, token string, body any, headers map[string]string) reply {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: rb}
}

// commandAnswer is what a command answers.
type commandAnswer struct {
	Position      string    `json:"position"`
	CorrelationID uuid.UUID `json:"correlation_id"`
}

// school is a served ledger with an administrator signed in and one
// teacher, opened through the API (the demo's many passwords take long
// to hash under the race detector).
type school struct {
	*served
	admin   string    // the administrator's token
	adminID uuid.UUID // and account
	teacher uuid.UUID
}

// MustSchool opens a store with a global administrator, serves it with
// args, signs the administrator in and opens an establishment and a
// teacher.
func MustSchool(t *testing.T, edit func(*Main), store string, args ...string) *school {
	t.Helper()
	login, password := MustAdmin(t, store)
	s := &school{served: MustServeEdited(t, edit, append([]string{"--store", store}, args...)...), teacher: uuid.New()}
	s.admin = MustToken(t, s.URL, login, password)
	var me struct{ ID uuid.UUID }
	if r := call(t, "GET", s.URL+"/api/v1/me", s.admin, nil); r.status != http.StatusOK || json.Unmarshal(r.body, &me) != nil || me.ID == uuid.Nil {
		t.Fatalf("GET /api/v1/me: %d %s", r.status, r.body)
	}
	s.adminID = me.ID
	if r := call(t, "POST", s.URL+"/api/v1/establishments", s.admin, establishment("0130001A")); r.status != http.StatusCreated {
		t.Fatalf("open the establishment: %d %s", r.status, r.body)
	}
	acc := map[string]any{"account": s.teacher, "establishment": "0130001A", "profile": "teacher", "display_name": "M. Prof"}
	if r := call(t, "POST", s.URL+"/api/v1/accounts", s.admin, acc); r.status != http.StatusCreated {
		t.Fatalf("open the teacher: %d %s", r.status, r.body)
	}
	return s
}

// MustMessage sends a message from the administrator to the teacher and
// returns the answer.
func (s *school) MustMessage(t *testing.T, subject string, headers map[string]string) (commandAnswer, reply) {
	t.Helper()
	base, token := s.URL, s.admin
	body := map[string]any{"to_accounts": []uuid.UUID{s.teacher}, "subject": subject, "body": "Bonjour"}
	r := send(t, "POST", base+"/api/v1/messages", token, body, headers)
	if r.status != http.StatusCreated {
		t.Fatalf("send a message: %d %s", r.status, r.body)
	}
	var a commandAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatal(err)
	}
	return a, r
}

// accessLine finds the access log's line of a request id and returns its
// attributes.
func accessLine(t *testing.T, log, requestID string) map[string]string {
	t.Helper()
	attr := regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "msg=request ") || !strings.Contains(line, "request_id="+requestID+" ") {
			continue
		}
		out := map[string]string{}
		for _, m := range attr.FindAllStringSubmatch(line, -1) {
			v := m[2]
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			out[m[1]] = v
		}
		return out
	}
	t.Fatalf("no access log line of request %s in:\n%s", requestID, log)
	return nil
}

// TestVersion: `ledger version` and `ledger --version` print the build's
// version, the Go release and the schema versions, and succeed.
func TestVersion(t *testing.T) {
	t.Parallel()
	var want []string
	for _, d := range []string{migrations.SQLite, migrations.Postgres} {
		ms, err := migrations.For(d)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, d+" "+strconv.Itoa(ms[len(ms)-1].Version))
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var stdout bytes.Buffer
		if err := NewMain(&stdout, io.Discard, func(string) string { return "" }).Run(context.Background(), args); err != nil {
			t.Fatalf("ledger %v: %v", args, err)
		}
		out := stdout.String()
		for _, w := range []string{"ledger ", "\ngo go1.", "schema " + strings.Join(want, ", ")} {
			if !strings.Contains(out, w) {
				t.Errorf("ledger %v printed %q, without %q", args, out, w)
			}
		}
	}
	if err := NewMain(io.Discard, io.Discard, nil).Run(context.Background(), []string{"version", "extra"}); err == nil {
		t.Error("ledger version extra succeeded")
	}
	if c, err := configOf(t, nil, "serve"); err != nil || !c.AccessLog {
		t.Errorf("serve's access log is off by default (%v)", err)
	}
}

// TestServeObservability: after real traffic (commands accepted and
// refused, pages, a route that does not exist, a websocket, an import
// job), /metrics exposes every family of operations.md with the labels
// of that traffic; the dashboard and the alert rules read only names it
// exposes; the access log has a line per request with its route, status,
// duration, size, account id and ids; X-Request-ID comes back and
// correlates the events; /readyz answers ready with the versions.
func TestServeObservability(t *testing.T) {
	t.Parallel()
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	s := MustSchool(t, nil, store, "--metrics")

	// A client's request id comes back and correlates the events.
	sent, r := s.MustMessage(t, "Sortie", map[string]string{web.RequestIDHeader: "obs-test-1"})
	if got := r.header.Get(web.RequestIDHeader); got != "obs-test-1" {
		t.Errorf("X-Request-ID answered %q, want the client's", got)
	}
	if sent.CorrelationID != web.CorrelationOf("obs-test-1") {
		t.Errorf("correlation %s, want the request id's %s", sent.CorrelationID, web.CorrelationOf("obs-test-1"))
	}
	id := uuid.New()
	if sent, _ := s.MustMessage(t, "Rappel", map[string]string{web.RequestIDHeader: id.String()}); sent.CorrelationID != id {
		t.Errorf("a uuid request id gave the correlation %s", sent.CorrelationID)
	}
	// A malformed one is replaced.
	r = send(t, "POST", s.URL+"/api/v1/messages", s.admin, map[string]any{"subject": "", "body": ""}, map[string]string{web.RequestIDHeader: "bad id"})
	if r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
		t.Errorf("an empty message: %d %s", r.status, r.body)
	}
	if _, err := uuid.Parse(r.header.Get(web.RequestIDHeader)); err != nil {
		t.Errorf("a malformed request id answered %q, want a new uuid", r.header.Get(web.RequestIDHeader))
	}
	if status, _ := get(t, s.URL+"/api/v1/no/such/route"); status != http.StatusNotFound {
		t.Errorf("an unknown route: %d", status)
	}
	if status, _ := get(t, s.URL+"/login"); status != http.StatusOK {
		t.Errorf("the sign-in page: %d", status)
	}
	teacher := MustToken(t, s.URL, "prof", mustPassword(t, store, s.teacher, "prof"))
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/api/v1/live",
		http.Header{"Authorization": {"Bearer " + teacher}, web.RequestIDHeader: {"obs-live"}})
	if err != nil {
		t.Fatalf("live socket: %v", err)
	}
	if got := resp.Header.Get(web.RequestIDHeader); got != "obs-live" {
		t.Errorf("the upgrade answered X-Request-ID %q", got)
	}
	defer ws.Close()
	mustImport(t, s.URL, s.admin)

	url := s.URL + "/metrics"
	got := MustSeries(t, url, "the traffic, the live socket, the bus, the import job ended, the mailbox's position measured", func(m series) bool {
		live, _ := m.value("ledger_live_connections")
		bus, _ := m.value("ledger_bus_publish_duration_seconds_count", `outcome="ok"`)
		// The positions are measured from the checkpoints every few
		// seconds: the messages' may not be there at the first scrape.
		mailbox, _ := m.value("ledger_projection_position", `projection="mailbox.v1"`)
		return live == 1 && bus > 0 && m.sum("ledger_import_jobs_ended_total") == 1 && mailbox > 0
	})
	for _, want := range []struct {
		name   string
		labels []string
		ok     func(float64) bool
	}{
		{"ledger_http_requests_total", []string{`code="201"`, `route="POST /api/v1/messages"`}, func(v float64) bool { return v == 2 }},
		{"ledger_http_requests_total", []string{`code="101"`, `route="GET /api/v1/live"`}, func(v float64) bool { return v == 1 }},
		{"ledger_http_requests_total", []string{`code="404"`, `route="unmatched"`}, func(v float64) bool { return v == 1 }},
		{"ledger_http_requests_total", []string{`code="200"`, `route="GET /login"`}, func(v float64) bool { return v == 1 }},
		{"ledger_http_requests_total", []string{`code="202"`, `route="POST /api/v1/imports"`}, func(v float64) bool { return v == 1 }},
		{"ledger_http_request_duration_seconds_count", []string{`route="POST /api/v1/messages"`}, func(v float64) bool { return v == 3 }},
		{"ledger_http_open_connections", nil, func(v float64) bool { return v >= 0 }},
		{"ledger_commands_total", []string{`command="SendMessage"`, `outcome="accepted"`}, func(v float64) bool { return v == 2 }},
		{"ledger_commands_total", []string{`command="SendMessage"`, `outcome="invalid"`}, func(v float64) bool { return v == 1 }},
		{"ledger_commands_total", []string{`command="RecordConnection"`, `outcome="accepted"`}, func(v float64) bool { return v == 2 }},
		{"ledger_commands_total", []string{`command="OpenAccount"`, `outcome="accepted"`}, func(v float64) bool { return v == 1 }},
		{"ledger_command_retries_total", []string{`command="SendMessage"`}, func(v float64) bool { return v == 0 }},
		{"ledger_appends_total", []string{`outcome="written"`}, func(v float64) bool { return v > 0 }},
		{"ledger_appended_events_total", nil, func(v float64) bool { return v > 0 }},
		{"ledger_append_group_size_count", nil, func(v float64) bool { return v > 0 }},
		{"ledger_append_group_duration_seconds_count", nil, func(v float64) bool { return v > 0 }},
		{"ledger_projection_running", []string{`projection="mailbox.v1"`}, func(v float64) bool { return v == 1 }},
		{"ledger_projection_stopped", []string{`projection="mailbox.v1"`}, func(v float64) bool { return v == 0 }},
		{"ledger_projection_failures", []string{`projection="mailbox.v1"`}, func(v float64) bool { return v == 0 }},
		{"ledger_projection_errors_total", []string{`projection="mailbox.v1"`}, func(v float64) bool { return v == 0 }},
		{"ledger_projection_stalled", []string{`projection="mailbox.v1"`}, func(v float64) bool { return v == 0 }},
		{"ledger_projection_position", []string{`projection="mailbox.v1"`}, func(v float64) bool { return v > 0 }},
		{"ledger_projection_lag_events", []string{`projection="mailbox.v1"`}, func(v float64) bool { return v >= 0 }},
		{"ledger_projection_lag_seconds", []string{`projection="mailbox.v1"`}, func(v float64) bool { return v >= 0 }},
		{"ledger_forwarder_lag_events", nil, func(v float64) bool { return v >= 0 }},
		{"ledger_forwarder_lag_seconds", nil, func(v float64) bool { return v >= 0 }},
		{"ledger_live_dropped_total", nil, func(v float64) bool { return v == 0 }},
		{"ledger_live_queued_total", nil, func(v float64) bool { return v >= 0 }},
		{"ledger_bus_published_messages_total", nil, func(v float64) bool { return v > 0 }},
		{"ledger_import_jobs", []string{`state="running"`}, func(v float64) bool { return v == 0 }},
		{"ledger_build_info", []string{`schema="` + strconv.Itoa(mustSchema(t, migrations.SQLite)) + `"`}, func(v float64) bool { return v == 1 }},
		{"ledger_ready", nil, func(v float64) bool { return v == 1 }},
		{"go_goroutines", nil, func(v float64) bool { return v > 0 }},
		{"process_resident_memory_bytes", nil, func(v float64) bool { return v > 0 }},
	} {
		if v, ok := got.value(want.name, want.labels...); !ok || !want.ok(v) {
			t.Errorf("%s%v = %g (found: %v)", want.name, want.labels, v, ok)
		}
	}
	for _, red := range projections.Reducers(time.UTC) {
		if _, ok := got.value("ledger_projection_lag_seconds", `projection="`+red.Name()+`"`); !ok {
			t.Errorf("no lag of %s", red.Name())
		}
	}
	// Labels stay bounded: no path, no id.
	for k := range got {
		if strings.Contains(k, "/api/v1/no/such") || strings.Contains(k, s.adminID.String()) || strings.Contains(k, s.teacher.String()) {
			t.Errorf("unbounded label in %s", k)
		}
	}
	mustDocsReadExposed(t, got.names())

	// The access log.
	line := accessLine(t, s.Log.String(), "obs-test-1")
	for k, v := range map[string]string{
		"method": "POST", "route": "POST /api/v1/messages", "status": "201",
		"account": s.adminID.String(), "correlation_id": web.CorrelationOf("obs-test-1").String(),
	} {
		if line[k] != v {
			t.Errorf("access log %s=%q, want %q (%v)", k, line[k], v, line)
		}
	}
	if d, err := time.ParseDuration(line["duration"]); err != nil || d <= 0 {
		t.Errorf("access log duration %q", line["duration"])
	}
	if n, err := strconv.Atoi(line["bytes"]); err != nil || n != len(r.body) && n <= 0 {
		t.Errorf("access log bytes %q", line["bytes"])
	}
	if live := accessLine(t, s.Log.String(), "obs-live"); live["status"] != "101" || live["route"] != "GET /api/v1/live" {
		t.Errorf("the websocket's line: %v", live)
	}
	if strings.Contains(s.Log.String(), "M. Prof") || strings.Contains(s.Log.String(), "Administration") {
		t.Error("the log names an account")
	}

	// Readiness, and liveness beside it.
	status, rep := readyz(t, s.URL+"/readyz")
	if status != http.StatusOK || !rep.Ready || rep.Build.Go == "" || rep.Build.Version == "" ||
		rep.Schema == nil || rep.Schema.Database != rep.Schema.Binary || rep.Schema.Binary != mustSchema(t, migrations.SQLite) {
		t.Errorf("/readyz: %d %+v", status, rep)
	}
	if c := rep.projection("mailbox.v1"); !c.OK || c.State != stateFollowing || c.RunsHere == nil || !*c.RunsHere {
		t.Errorf("/readyz on mailbox.v1: %+v", c)
	}
	if status, body := get(t, s.URL+"/healthz"); status != http.StatusOK || !strings.Contains(body, `"ok"`) {
		t.Errorf("/healthz: %d %s", status, body)
	}
}

// mustPassword gives an account a login and a password with the
// program's own `ledger account password`, and returns the password.
func mustPassword(t *testing.T, store string, account uuid.UUID, login string) string {
	t.Helper()
	const password = "un autre mot de passe solide"
	var stderr bytes.Buffer
	err := NewMain(io.Discard, &stderr, func(string) string { return "" }).Run(context.Background(), []string{"account", "password",
		"--store", store, "--id", account.String(), "--login", login, "--password-file", MustFile(t, password+"\n")})
	if err != nil {
		t.Fatalf("account password: %v\n%s", err, stderr.String())
	}
	return password
}

func mustSchema(t *testing.T, dialect string) int {
	t.Helper()
	ms, err := migrations.For(dialect)
	if err != nil || len(ms) == 0 {
		t.Fatal(err)
	}
	return ms[len(ms)-1].Version
}

// mustImport uploads a CSV feed as a dry run and checks it started a job.
func mustImport(t *testing.T, base, token string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"format": "csv", "profile": "student", "dry_run": "true"} {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "eleves.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(fw, "Nom;Prénom\n"); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", base+"/api/v1/imports", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("upload a feed: %d %s", resp.StatusCode, b)
	}
}

// promNames finds the metric names a PromQL expression reads.
var promNames = regexp.MustCompile(`\b(?:(?:ledger|go|process)_[a-z0-9_]+|up)\b`)

// prometheusOwn are series Prometheus makes itself, not the server.
var prometheusOwn = map[string]bool{"up": true}

// mustDocsReadExposed parses the dashboard and the alert rules of
// docs/operations and checks that every metric they read is exposed.
func mustDocsReadExposed(t *testing.T, exposed map[string]bool) {
	t.Helper()
	check := func(file, expr string) {
		unquoted := regexp.MustCompile(`"(?:[^"\\]|\\.)*"`).ReplaceAllString(expr, `""`)
		names := promNames.FindAllString(unquoted, -1)
		if len(names) == 0 {
			t.Errorf("%s: %q reads no metric", file, expr)
		}
		for _, n := range names {
			if !exposed[n] && !prometheusOwn[n] {
				t.Errorf("%s reads %s, which the server does not expose (%q)", file, n, expr)
			}
		}
	}

	dashFile := filepath.Join("..", "..", "docs", "operations", "ledger-dashboard.json")
	b, err := os.ReadFile(dashFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Type    string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", dashFile, err)
	}
	exprs := 0
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("%s: panel %q has no query", dashFile, p.Title)
		}
		for _, tg := range p.Targets {
			check(dashFile, tg.Expr)
			exprs++
		}
	}

	rulesFile := filepath.Join("..", "..", "docs", "operations", "ledger-alerts.yml")
	if b, err = os.ReadFile(rulesFile); err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	alerts := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: rule %+v lacks a name, an expression or a summary", rulesFile, r)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: %s: for %q: %v", rulesFile, r.Alert, r.For, err)
				}
			}
			alerts[r.Alert] = true
			check(rulesFile, r.Expr)
		}
	}
	// The alerts operations.md promises.
	for _, a := range []string{"LedgerNotReady", "LedgerProjectionStalled", "LedgerProjectionLagging", "LedgerServerErrors", "LedgerSocketsDropped"} {
		if !alerts[a] {
			t.Errorf("%s: no alert %s", rulesFile, a)
		}
	}
	if exprs < 20 {
		t.Errorf("%s: %d queries", dashFile, exprs)
	}
}

// TestProjectionLagRisesAndFalls: a projection no node runs (its lock is
// held, as by a node that hangs) falls behind as events arrive: its lag in
// events and in seconds rises on /metrics; once the lock is free, this
// node takes it, catches up, and the lag falls to nothing.
func TestProjectionLagRisesAndFalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	docs, err := readstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = docs.Close() })
	const held = projections.ProjectionAudit
	_, release, ok, err := docs.TryAcquire(ctx, projector.LockName(held))
	if err != nil || !ok {
		t.Fatalf("hold %s: %v %v", held, ok, err)
	}
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	s := MustSchool(t, nil, "sqlite:"+path, "--metrics")
	url := s.URL + "/metrics"
	lagOf := func(m series, name string) float64 {
		v, _ := m.value(name, `projection="`+held+`"`)
		return v
	}
	first := MustSeries(t, url, held+" behind", func(m series) bool { return lagOf(m, "ledger_projection_lag_events") > 0 })
	if v, _ := first.value("ledger_projection_running", `projection="`+held+`"`); v != 0 {
		t.Errorf("%s runs here while its lock is held elsewhere", held)
	}
	before := lagOf(first, "ledger_projection_lag_events")

	for i := range 3 {
		s.MustMessage(t, "Message "+strconv.Itoa(i), nil)
	}
	MustSeries(t, url, held+"'s lag rising", func(m series) bool {
		return lagOf(m, "ledger_projection_lag_events") >= before+3 && lagOf(m, "ledger_projection_lag_seconds") > 0
	})
	// The others follow.
	if v, ok := scrape(t, url).value("ledger_projection_running", `projection="`+projections.ProjectionMailbox+`"`); !ok || v != 1 {
		t.Errorf("mailbox.v1 does not run here")
	}

	release()
	released = true
	after := MustSeries(t, url, held+" caught up", func(m series) bool {
		running, _ := m.value("ledger_projection_running", `projection="`+held+`"`)
		return running == 1 && lagOf(m, "ledger_projection_lag_events") == 0
	})
	if v := lagOf(after, "ledger_projection_lag_seconds"); v != 0 {
		t.Errorf("caught up, %s is still %g s behind", held, v)
	}
	if status, rep := readyz(t, s.URL+"/readyz"); status != http.StatusOK || !rep.projection(held).OK {
		t.Errorf("/readyz: %d %+v", status, rep.projection(held))
	}
}

// TestReadyzProjectionStuck: a projection whose store refuses its
// documents stops at the event, alone; /readyz then answers 503 naming
// the projection and the event's position, and the metrics say so. Fixed,
// it stays stopped until resumed (SIGHUP): then /readyz answers 200 again.
func TestReadyzProjectionStuck(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	hangups := make(chan os.Signal, 1)
	s := MustSchool(t, func(m *Main) {
		m.hangups = hangups
		m.tuneRunner = func(c *projector.RunnerConfig) {
			c.Attempts, c.Backoff, c.MaxBackoff = 4, time.Millisecond, 5*time.Millisecond
		}
	}, "sqlite:"+path, "--metrics", "--admin-addr", "127.0.0.1:0")
	admin := regexp.MustCompile(`msg="serving metrics" addr=(\S+)`).FindStringSubmatch(s.Log.String())
	if admin == nil {
		t.Fatalf("no admin listener in the log:\n%s", s.Log)
	}
	const stuck = projections.ProjectionMailbox
	MustReadyz(t, s.URL+"/readyz", stuck+" at the head", func(status int, rep readyReport) bool {
		c := rep.projection(stuck)
		return status == http.StatusOK && c.LagEvents != nil && *c.LagEvents == 0
	})

	// The read models' store refuses the projection's documents, as a
	// full or broken table would.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(60000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, op := range []string{"INSERT", "UPDATE"} {
		exec(`CREATE TRIGGER refuse_mailbox_` + op + ` BEFORE ` + op + ` ON rm_docs WHEN NEW.ns LIKE '` + stuck + `@%'
			BEGIN SELECT RAISE(ABORT, 'the mailbox table is broken'); END`)
	}
	sent, _ := s.MustMessage(t, "Bloqué", nil)

	for _, base := range []string{s.URL, "http://" + admin[1]} {
		rep := MustReadyz(t, base+"/readyz", stuck+" stopped", func(status int, rep readyReport) bool {
			return status == http.StatusServiceUnavailable && rep.projection(stuck).State == stateStopped
		})
		c := rep.projection(stuck)
		if rep.Ready || c.OK || c.Position != sent.Position || c.EventType != "message.sent.v1" || c.Attempts != 4 || c.Since == "" {
			t.Errorf("%s/readyz: %+v, want %s stopped at %s (message.sent.v1) after 4 attempts", base, c, stuck, sent.Position)
		}
		for _, other := range rep.Checks {
			if other.Projection != stuck && !other.OK {
				t.Errorf("%s/readyz: %+v is not ok: the others go on", base, other)
			}
		}
	}
	m := scrape(t, "http://"+admin[1]+"/metrics")
	for name, want := range map[string]float64{"ledger_projection_stopped": 1, "ledger_projection_stalled": 1, "ledger_projection_errors_total": 4} {
		if v, _ := m.value(name, `projection="`+stuck+`"`); v != want {
			t.Errorf("%s{projection=%q} = %g, want %g", name, stuck, v, want)
		}
	}
	if v, _ := m.value("ledger_ready"); v != 0 {
		t.Errorf("ledger_ready = %g while %s is stopped", v, stuck)
	}

	// Fixed, it waits to be resumed.
	exec(`DROP TRIGGER refuse_mailbox_INSERT`)
	exec(`DROP TRIGGER refuse_mailbox_UPDATE`)
	if status, rep := readyz(t, s.URL+"/readyz"); status != http.StatusServiceUnavailable || rep.projection(stuck).State != stateStopped {
		t.Errorf("fixed but not resumed: %d %+v", status, rep.projection(stuck))
	}
	hangups <- syscall.SIGHUP
	rep := MustReadyz(t, s.URL+"/readyz", "ready again", func(status int, rep readyReport) bool { return status == http.StatusOK })
	if c := rep.projection(stuck); !c.OK || c.State != stateFollowing {
		t.Errorf("resumed: %+v", c)
	}
	if !strings.Contains(s.Log.String(), `msg="resuming projection" projection=`+stuck) {
		t.Errorf("the resume is not logged:\n%s", s.Log)
	}
}

// TestAssessProjections: a projection is not ready when this node stopped
// it, when it failed readyFailures times in a row at one event, or when it
// has had events to apply without moving for stallAfter; not before.
func TestAssessProjections(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	at := func(seq uint64) domain.Position { return domain.Position{Seq: seq} }
	stop := &projector.Stop{Position: at(12), Type: "message.sent.v1", Attempts: 10, At: now.Add(-time.Minute)}
	failing := func(n int) *projector.Stop {
		return &projector.Stop{Position: at(12), Type: "message.sent.v1", Attempts: n, At: now}
	}
	sample := func(pos uint64, behind bool, moved time.Duration) lagSample {
		l := projector.Lag{Position: at(pos), Behind: behind, Events: 0}
		if behind {
			l.Next, l.Oldest, l.Events = at(pos+1), now.Add(-moved), 3
		}
		return lagSample{Lag: l, Moved: now.Add(-moved)}
	}
	for _, tc := range []struct {
		name     string
		status   projector.Status
		sample   *lagSample
		ok       bool
		state    string
		position string
	}{
		{"at the head", projector.Status{Running: true}, ptr(sample(11, false, time.Hour)), true, stateFollowing, "11"},
		{"not measured yet", projector.Status{Running: true}, nil, true, stateFollowing, ""},
		{"stopped", projector.Status{Running: true, Stopped: stop, Failures: 10, Failing: stop}, ptr(sample(11, true, time.Minute)), false, stateStopped, "12"},
		{"failed twice", projector.Status{Running: true, Failures: 2, Failing: failing(2)}, ptr(sample(11, true, time.Second)), true, stateFollowing, "11"},
		{"failed three times", projector.Status{Running: true, Failures: 3, Failing: failing(3)}, ptr(sample(11, true, time.Second)), false, stateFailing, "12"},
		{"behind, moving", projector.Status{}, ptr(sample(11, true, stallAfter-time.Second)), true, stateFollowing, "11"},
		{"behind, still", projector.Status{}, ptr(sample(11, true, stallAfter)), false, stateStalled, "12"},
		{"at the head for long", projector.Status{}, ptr(sample(11, false, 10*stallAfter)), true, stateFollowing, "11"},
	} {
		tc.status.Projection = "mailbox.v1"
		lags := lagReport{At: now, Projections: map[string]lagSample{}}
		if tc.sample != nil {
			lags.Projections["mailbox.v1"] = *tc.sample
		}
		got := assessProjections([]projector.Status{tc.status}, lags, now)
		if len(got) != 1 || got[0].OK != tc.ok || got[0].State != tc.state || got[0].Position != tc.position || got[0].Projection != "mailbox.v1" {
			t.Errorf("%s: %+v, want ok %v, %s at %q", tc.name, got, tc.ok, tc.state, tc.position)
		}
	}
	for _, tc := range []struct {
		name string
		rep  lagReport
		ok   bool
	}{
		{"fresh", lagReport{At: now.Add(-lagEvery)}, true},
		{"never", lagReport{}, false},
		{"stale", lagReport{At: now.Add(-lagStale - time.Second)}, false},
		{"failing", lagReport{At: now, Err: io.ErrUnexpectedEOF}, false},
	} {
		if c := readModelsCheck(tc.rep, now); c.OK != tc.ok {
			t.Errorf("read models %s: %+v", tc.name, c)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestLagWatchStall: the watch remembers since when each checkpoint
// stands: a projection that has events to apply and does not move for
// stallAfter is stalled, seen from any node; one that moves is not.
func TestLagWatchStall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	es, docs, reg := memory.New(), projections.NewMemoryDocs(), domain.NewRegistry()
	runner, err := projector.NewRunner(projector.RunnerConfig{Log: es, Docs: docs, Gens: docs, Registry: reg,
		Reducers: projections.Reducers(time.UTC), Locker: docs})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	w := newLagWatch(runner, es, nil, nil, slog.New(slog.DiscardHandler))
	w.now = func() time.Time { return now }
	w.measure(ctx)
	at := func(what string, name string) lagSample {
		t.Helper()
		rep := w.report()
		if rep.Err != nil || !rep.At.Equal(now) {
			t.Fatalf("%s: measure %+v", what, rep)
		}
		return rep.Projections[name]
	}
	if s := at("empty log", projections.ProjectionMailbox); s.Behind || s.stalled(now, stallAfter) {
		t.Fatalf("empty log: %+v", s)
	}
	typ, data, err := reg.Encode(domain.UserConnected{Account: uuid.New(), Profile: domain.ProfileStudent, Establishment: "0751234A", Method: domain.SignInPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := es.Append(ctx, "account-1", domain.AnyVersion(), []domain.Envelope{{ID: uuid.New(), Type: typ, Data: data, Metadata: domain.Metadata{Time: now}}}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	w.measure(ctx)
	s := at("an event, a minute later", projections.ProjectionMailbox)
	if !s.Behind || !s.Moved.Equal(now.Add(-time.Minute)) || s.Events != -1 || s.Seconds(now) != 60 || s.stalled(now, stallAfter) {
		t.Fatalf("an event behind for a minute: %+v", s)
	}
	now = now.Add(stallAfter)
	w.measure(ctx)
	if s := at("no move", projections.ProjectionMailbox); !s.stalled(now, stallAfter) {
		t.Fatalf("no move for %s: %+v", stallAfter+time.Minute, s)
	}
	red, _ := runner.Reducer(projections.ProjectionMailbox)
	if _, err := runner.CatchUp(ctx, red, projections.Namespace(projections.ProjectionMailbox, 1), nil); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	w.measure(ctx)
	if s := at("caught up", projections.ProjectionMailbox); s.Behind || !s.Moved.Equal(now) || s.stalled(now, stallAfter) {
		t.Fatalf("caught up: %+v", s)
	}
}
