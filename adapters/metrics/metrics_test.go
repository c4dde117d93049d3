package metrics_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/metrics"
)

// MustScrape gets the handler's page and returns its unlabelled samples.
func MustScrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q, want the text format", ct)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		name, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out[name] = f
	}
	return out
}

func MustNew(t *testing.T) *metrics.Registry {
	t.Helper()
	r, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRuntimeAndProcess: a new registry serves the runtime's and the
// process's figures a soak run reads, with plausible values.
func TestRuntimeAndProcess(t *testing.T) {
	got := MustScrape(t, MustNew(t).Handler())
	for _, name := range []string{
		"go_goroutines", "go_threads", "go_memstats_heap_inuse_bytes", "go_gc_heap_live_bytes",
		"process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds_total",
	} {
		v, ok := got[name]
		if !ok {
			t.Errorf("no %s", name)
			continue
		}
		if name != "process_cpu_seconds_total" && name != "go_gc_heap_live_bytes" && v <= 0 {
			t.Errorf("%s = %g", name, v)
		}
	}
}

// TestCallbacks: gauges and counters read their callback at each scrape;
// a name registered twice is refused.
func TestCallbacks(t *testing.T) {
	r := MustNew(t)
	n := 3.0
	if err := r.GaugeFunc("test_open", "open things", func() float64 { return n }); err != nil {
		t.Fatal(err)
	}
	if err := r.CounterFunc("test_done_total", "things done", func() float64 { return 2 * n }); err != nil {
		t.Fatal(err)
	}
	if got := MustScrape(t, r.Handler()); got["test_open"] != 3 || got["test_done_total"] != 6 {
		t.Errorf("first scrape: open %g, done %g", got["test_open"], got["test_done_total"])
	}
	n = 5
	if got := MustScrape(t, r.Handler()); got["test_open"] != 5 || got["test_done_total"] != 10 {
		t.Errorf("second scrape: open %g, done %g", got["test_open"], got["test_done_total"])
	}
	if err := r.GaugeFunc("test_open", "again", func() float64 { return 0 }); err == nil {
		t.Error("a second test_open was registered")
	}
}

// TestConnections: the gauge follows a real server's connections: up when
// clients connect, down when they close, and down when one is hijacked.
func TestConnections(t *testing.T) {
	r := MustNew(t)
	conns, err := r.Connections("test_http_open_connections", "open connections")
	if err != nil {
		t.Fatal(err)
	}
	hijacked := make(chan net.Conn, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/hijack" {
			c, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			hijacked <- c
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = conns.ConnState
	srv.Start()
	defer srv.Close()
	open := func() float64 { return MustScrape(t, r.Handler())["test_http_open_connections"] }
	waitFor := func(want float64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for open() != want {
			if time.Now().After(deadline) {
				t.Fatalf("open connections %g, want %g", open(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	addr := srv.Listener.Addr().String()
	dial := func(path string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := dial("/"), dial("/")
	waitFor(2)
	a.Close()
	waitFor(1)
	h := dial("/hijack")
	server := <-hijacked
	defer server.Close()
	defer h.Close()
	waitFor(1)
	b.Close()
	waitFor(0)
}
