package web_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/schoollife/ledger/adapters/web"
)

func TestValidRequestID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"":                                     false,
		"a":                                    true,
		"3f2b8c1e-0d4a-4b8e-9a57-1c2d3e4f5a6b": true,
		"Root=1-67891233-abcdef012345678912345678": true,
		"abc+/=_.:-":                            true,
		strings.Repeat("x", web.MaxRequestID):   true,
		strings.Repeat("x", web.MaxRequestID+1): false,
		"has space":                             false,
		"line\nbreak":                           false,
		`quote"`:                                false,
		"é":                                     false,
	} {
		if got := web.ValidRequestID(id); got != want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", id, got, want)
		}
	}
	u := uuid.New()
	if web.CorrelationOf(u.String()) != u {
		t.Error("a uuid request id is not its own correlation id")
	}
	if a, b := web.CorrelationOf("req-1"), web.CorrelationOf("req-1"); a != b || a == uuid.Nil || a == web.CorrelationOf("req-2") {
		t.Errorf("derived correlation ids: %s, %s", a, b)
	}
}

// accessServer serves, behind Access, an inner mux behind Fallback (as
// the API and the portal are) beside an outer route, and records what
// Access reports and logs.
type accessServer struct {
	url    string
	mu     sync.Mutex
	served []web.Served
	log    *syncBuffer
	// seen is what the last handler read of its request's ids.
	seen struct{ id, correlation string }
}

func newAccessServer(t *testing.T) *accessServer {
	t.Helper()
	s := &accessServer{log: &syncBuffer{}}
	fail := func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusNotFound)
	}
	inner := http.NewServeMux()
	note := func(r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.seen.id, s.seen.correlation = web.RequestID(r.Context()), web.Correlation(r.Context()).String()
	}
	inner.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		note(r)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "hello")
	})
	inner.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		web.UseCorrelation(r.Context(), uuid.MustParse("11111111-2222-4333-8444-555555555555"))
		note(r)
		_, _ = io.WriteString(w, "made")
	})
	inner.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		for range 2 {
			_, _ = io.WriteString(w, "chunk")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush through the access writer: %v", err)
			}
		}
	})
	up := websocket.Upgrader{}
	inner.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		// The library writes the 101 itself, with these headers only.
		c, err := up.Upgrade(w, r, http.Header{web.RequestIDHeader: w.Header().Values(web.RequestIDHeader)})
		if err != nil {
			return
		}
		_ = c.Close()
	})
	outer := http.NewServeMux()
	outer.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	outer.Handle("/", web.Fallback(fail, inner, func(r *http.Request) string { return r.URL.Path }))
	h := web.Access(web.AccessConfig{
		Logger: slog.New(slog.NewJSONHandler(s.log, nil)),
		Observe: func(sv web.Served) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.served = append(s.served, sv)
		},
	}, outer)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// get sends a request and returns the response's X-Request-ID and what
// Access recorded of it.
func (s *accessServer) do(t *testing.T, method, path, requestID string) (string, web.Served) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if requestID != "" {
		req.Header.Set(web.RequestIDHeader, requestID)
	}
	before := s.count()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get(web.RequestIDHeader), s.after(t, before)
}

// count is how many requests were recorded.
func (s *accessServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.served)
}

// after waits for the record of the request that followed the first n
// (the server records a request once its handler returned, which a client
// may see the answer of before) and returns it.
func (s *accessServer) after(t *testing.T, n int) web.Served {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		if len(s.served) > n {
			sv := s.served[n]
			s.mu.Unlock()
			return sv
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("request %d not recorded after 10 s", n+1)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAccess: each request is recorded once, with its route pattern
// (never its path), status, size and ids; the request id is the client's
// when well formed, else a new uuid, and comes back in the response; the
// handlers read it and the correlation id it gives.
func TestAccess(t *testing.T) {
	t.Parallel()
	s := newAccessServer(t)

	id, sv := s.do(t, "GET", "/items/42", "client-id.1")
	want := web.Served{Method: "GET", Route: "GET /items/{id}", Status: 201, Bytes: 5, RequestID: "client-id.1", Correlation: web.CorrelationOf("client-id.1")}
	sv.Duration = 0
	if id != "client-id.1" || sv != want {
		t.Errorf("kept id: answered %q, recorded %+v; want %+v", id, sv, want)
	}
	if s.seen.id != "client-id.1" || s.seen.correlation != want.Correlation.String() {
		t.Errorf("the handler read %+v", s.seen)
	}

	for _, bad := range []string{"has space", strings.Repeat("x", web.MaxRequestID+1)} {
		id, sv = s.do(t, "GET", "/items/42", bad)
		if u, err := uuid.Parse(id); err != nil || sv.RequestID != id || sv.Correlation != u {
			t.Errorf("id %q replaced by %q, recorded %+v; want a new uuid, its own correlation", bad, id, sv)
		}
	}
	id, sv = s.do(t, "GET", "/items/42", "")
	if _, err := uuid.Parse(id); err != nil || sv.RequestID != id {
		t.Errorf("no id: answered %q, recorded %q", id, sv.RequestID)
	}

	_, sv = s.do(t, "POST", "/items", "")
	if sv.Correlation.String() != "11111111-2222-4333-8444-555555555555" || s.seen.correlation != sv.Correlation.String() {
		t.Errorf("a correlation id the request chose: recorded %s", sv.Correlation)
	}
	if _, sv = s.do(t, "GET", "/no/such/thing", ""); sv.Route != "" || sv.Status != 404 {
		t.Errorf("no route: recorded %+v", sv)
	}
	if _, sv = s.do(t, "DELETE", "/items/42", ""); sv.Route != "" || sv.Status != 404 {
		t.Errorf("no route for the method: recorded %+v", sv)
	}
	if _, sv = s.do(t, "GET", "/healthz", ""); sv.Route != "GET /healthz" || sv.Status != 200 || sv.Bytes != 2 {
		t.Errorf("outer route: recorded %+v", sv)
	}
	if _, sv = s.do(t, "GET", "/stream", ""); sv.Route != "GET /stream" || sv.Status != 200 || sv.Bytes != 10 {
		t.Errorf("flushed stream: recorded %+v", sv)
	}

	before := s.count()
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.url, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if resp.Header.Get(web.RequestIDHeader) == "" {
		t.Error("no request id on the upgrade")
	}
	if sv = s.after(t, before); sv.Route != "GET /ws" || sv.Status != http.StatusSwitchingProtocols {
		t.Errorf("websocket: recorded %+v, want its upgrade (101)", sv)
	}
	s.mu.Lock()
	n := len(s.served)
	s.mu.Unlock()
	if n != 10 {
		t.Errorf("%d requests recorded, want 10", n)
	}
}

// TestAccessLog: one line per request, with the method, route, status,
// duration, size and ids; the account only when signed in.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	s := newAccessServer(t)
	s.do(t, "GET", "/items/7", "abc-123")
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(s.log.String())), &line); err != nil {
		t.Fatalf("one JSON line: %v\n%s", err, s.log)
	}
	want := map[string]any{
		"level": "INFO", "msg": "request", "method": "GET", "route": "GET /items/{id}", "status": 201.0, "bytes": 5.0,
		"request_id": "abc-123", "correlation_id": web.CorrelationOf("abc-123").String(),
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if d, ok := line["duration"].(float64); !ok || d <= 0 {
		t.Errorf("duration %v", line["duration"])
	}
	if _, ok := line["account"]; ok {
		t.Error("an account on a request that signed in none")
	}
	if strings.Contains(s.log.String(), "/items/7") {
		t.Error("the path is logged: it may hold ids")
	}
}
