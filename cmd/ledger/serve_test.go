package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/readstore"
)

// logWatch is a log writer that closes seen once a line matches.
type logWatch struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	re   *regexp.Regexp
	seen chan struct{}
	once sync.Once
}

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.re.Match(w.buf.Bytes()) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// mustPoolURL returns a database of its own whose URL carries the pool's
// parameters, as the README allows.
func mustPoolURL(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(pgtest.MustDatabase(t))
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Skipf("the test server's DSN is not a URL (%v); set %s=postgres://...", err, pgtest.EnvDSN)
	}
	q := u.Query()
	q.Set("pool_max_conns", "4")
	q.Set("pool_min_conns", "1")
	u.RawQuery = q.Encode()
	return u.String()
}

// TestServeWithPoolParameters: serve starts with the pool's parameters in
// the URLs of the store and of the read models, on the Postgres bus: the
// store, the read models, the credentials and the bus all open their
// connections from them, none sending them to the server. It names the
// deployment after the read models' database.
func TestServeWithPoolParameters(t *testing.T) {
	t.Parallel()
	store, readModels := mustPoolURL(t), mustPoolURL(t)
	rmName := strings.TrimPrefix(must(url.Parse(readModels)).Path, "/")
	stderr := &logWatch{re: regexp.MustCompile(`msg=serving`), seen: make(chan struct{})}
	m := NewMain(&bytes.Buffer{}, stderr, func(string) string { return "" })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--store", store, "--readmodels", readModels, "--bus", "postgres", "--seal-every", "0"})
	}()
	select {
	case <-stderr.seen:
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped at start: %v\n%s", err, stderr)
	case <-time.After(startLimit(t)):
		cancel()
		<-done
		t.Fatalf("serve did not start\n%s", stderr)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr)
	}
	if want := regexp.MustCompile(`msg="live updates" bus=postgres deployment=` + regexp.QuoteMeta(rmName) + `-\d+ `); !want.MatchString(stderr.String()) {
		t.Errorf("no live updates named after the read models' database %s in the log:\n%s", rmName, stderr)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestDeploymentNames: a deployment is named after its database: on
// Postgres, two databases of one cluster differ and one database reads
// the same name from every node; on SQLite, the name drawn on the first
// start is kept in the file, and two files differ.
func TestDeploymentNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		pool := func(dsn string) *pgxpool.Pool {
			p, err := pgxpool.New(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			return p
		}
		a, b := pgtest.MustDatabase(t), pgtest.MustDatabase(t)
		nameA, err := postgresDeployment(ctx, pool(a))
		if err != nil {
			t.Fatal(err)
		}
		again, err := postgresDeployment(ctx, pool(a))
		if err != nil || again != nameA {
			t.Fatalf("database A named %q, then %q (%v)", nameA, again, err)
		}
		nameB, err := postgresDeployment(ctx, pool(b))
		if err != nil || nameB == nameA {
			t.Fatalf("two databases of one cluster named %q and %q (%v)", nameA, nameB, err)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		name := func(file string) string {
			docs, err := readstore.OpenSQLite(ctx, filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			defer docs.Close()
			n, err := storedDeployment(ctx, docs)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		first := name("a.db")
		if again := name("a.db"); again != first {
			t.Fatalf("one file named %q, then %q", first, again)
		}
		if other := name("b.db"); other == first {
			t.Fatalf("two files both named %q", first)
		}
	})
}

// MustServe runs `ledger serve` on a SQLite file of its own with args
// until the test ends, and returns the addresses of its listeners (admin
// is empty without one).
func MustServe(t *testing.T, args ...string) (main, admin string) {
	t.Helper()
	return MustServeStore(t, "sqlite:"+filepath.Join(t.TempDir(), "ledger.db"), args...)
}

// MustServeStore is MustServe on store (several nodes may share one).
func MustServeStore(t *testing.T, store string, args ...string) (main, admin string) {
	t.Helper()
	stderr := &logWatch{re: regexp.MustCompile(`msg=serving addr=`), seen: make(chan struct{})}
	m := NewMain(&bytes.Buffer{}, stderr, func(string) string { return "" })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--store", store, "--seal-every", "0"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, stderr)
		}
	})
	select {
	case <-stderr.seen:
	case err := <-done:
		done <- err
		t.Fatalf("serve stopped at start: %v\n%s", err, stderr)
	case <-time.After(startLimit(t)):
		t.Fatalf("serve did not start\n%s", stderr)
	}
	addr := func(msg string) string {
		m := regexp.MustCompile(`msg=` + msg + ` addr=(\S+)`).FindStringSubmatch(stderr.String())
		if m == nil {
			return ""
		}
		return m[1]
	}
	return addr("serving"), addr(`"serving metrics"`)
}

// get returns the status and body of GET url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServeMetrics: /metrics answers the runtime's and the process's
// figures, and the live hub's, without a session, when --metrics is on;
// it is not there when off; with --admin-addr it is on the admin listener
// only, beside /readyz (also on the main one).
func TestServeMetrics(t *testing.T) {
	t.Parallel()
	wantMetrics := func(t *testing.T, url string) {
		t.Helper()
		status, body := get(t, url)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", url, status, body)
		}
		for _, name := range []string{"go_goroutines", "process_open_fds", "process_resident_memory_bytes", "go_gc_heap_live_bytes", "ledger_live_connections", "ledger_http_open_connections"} {
			if !regexp.MustCompile(`(?m)^` + name + ` \d`).MatchString(body) {
				t.Errorf("GET %s: no %s", url, name)
			}
		}
	}
	wantNone := func(t *testing.T, url string) {
		t.Helper()
		if status, body := get(t, url); status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404\n%.300s", url, status, body)
		}
	}
	t.Run("on", func(t *testing.T) {
		t.Parallel()
		addr, admin := MustServe(t, "--metrics")
		if admin != "" {
			t.Errorf("an admin listener at %s", admin)
		}
		wantMetrics(t, "http://"+addr+"/metrics")
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		addr, _ := MustServe(t)
		wantNone(t, "http://"+addr+"/metrics")
	})
	t.Run("admin listener", func(t *testing.T) {
		t.Parallel()
		addr, admin := MustServe(t, "--admin-addr", "127.0.0.1:0")
		if admin == "" || admin == addr {
			t.Fatalf("admin listener %q, main %q", admin, addr)
		}
		wantMetrics(t, "http://"+admin+"/metrics")
		wantNone(t, "http://"+addr+"/metrics")
		if status, _ := get(t, "http://"+admin+"/healthz"); status != http.StatusNotFound {
			t.Errorf("GET /healthz on the admin listener: %d, want 404 (it serves /metrics and /readyz only)", status)
		}
		for _, base := range []string{admin, addr} {
			if status, body := get(t, "http://"+base+"/readyz"); status != http.StatusOK || !strings.Contains(body, `"ready": true`) {
				t.Errorf("GET /readyz on %s: %d %s", base, status, body)
			}
		}
	})
}
