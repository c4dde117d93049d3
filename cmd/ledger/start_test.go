package main

import (
	"context"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/postgres/pgtest"
)

// running is a `ledger serve` running in process.
type running struct {
	log    *logWatch
	cancel func()        // stands for SIGTERM
	done   chan struct{} // closed once Run returned err
	err    error
}

// startServe runs `ledger serve ARGS...` in process, stopped when the
// test ends.
func startServe(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{log: &logWatch{re: regexp.MustCompile(`msg=serving `), seen: make(chan struct{})}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		m := NewMain(io.Discard, r.log, func(string) string { return "" })
		r.err = m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--seal-every", "0"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(limit):
			t.Errorf("serve did not stop")
		}
	})
	return r
}

// mustLog waits until the log matches re; serve must not stop meanwhile.
func (r *running) mustLog(t *testing.T, re string) {
	t.Helper()
	want := regexp.MustCompile(re)
	deadline := time.Now().Add(startLimit(t))
	for !want.MatchString(r.log.String()) {
		select {
		case <-r.done:
			t.Fatalf("serve stopped: %v\n%s", r.err, r.log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", re, r.log)
		}
	}
}

// mustStop waits for serve's end and returns its error.
func (r *running) mustStop(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(limit):
		t.Fatalf("serve did not stop\n%s", r.log)
		return nil
	}
}

// TestServeWaitsForTheStore: serve started while the Postgres server
// refuses connections tries again, with a growing wait that it logs, and
// serves once the server accepts them.
func TestServeWaitsForTheStore(t *testing.T) {
	t.Parallel()
	proxy, dsn := pgtest.MustProxy(t, pgtest.MustDatabase(t))
	proxy.Cut()
	s := startServe(t, "--store", dsn)
	s.mustLog(t, `level=WARN msg="store unavailable at start, retrying" attempt=2 retry_in=1s `)
	if !strings.Contains(s.log.String(), `attempt=1 retry_in=500ms `) {
		t.Errorf("the first wait is not logged as 500ms:\n%s", s.log)
	}
	proxy.Restore()
	s.mustLog(t, `msg=serving `)
	s.cancel()
	if err := s.mustStop(t); err != nil {
		t.Fatalf("serve: %v\n%s", err, s.log)
	}
}

// TestServeGivesUpWaiting: past --start-timeout, serve stops with an
// error that names the store and how long it waited.
func TestServeGivesUpWaiting(t *testing.T) {
	t.Parallel()
	proxy, dsn := pgtest.MustProxy(t, pgtest.MustDatabase(t))
	proxy.Cut()
	s := startServe(t, "--store", dsn, "--start-timeout", "2s")
	err := s.mustStop(t)
	if err == nil {
		t.Fatalf("serve started without its store\n%s", s.log)
	}
	t.Logf("serve: %v", err)
	for _, want := range []string{"still unavailable after", "--start-timeout 2s", "open event store postgres://", proxy.Addr(), "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if !strings.Contains(s.log.String(), "store unavailable at start, retrying") {
		t.Errorf("no attempt logged:\n%s", s.log)
	}
}

// TestServeStopsAtOnceOnAWrongDatabase: an error that waiting does not
// mend (here a database that does not exist) stops serve at the first
// attempt.
func TestServeStopsAtOnceOnAWrongDatabase(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.MustDatabase(t))
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Skipf("the test server's DSN is not a URL; set %s=postgres://... to run this test", pgtest.EnvDSN)
	}
	u.Path += "_missing"
	s := startServe(t, "--store", u.String())
	if err := s.mustStop(t); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("serve on a missing database: %v, want its error\n%s", err, s.log)
	}
	if strings.Contains(s.log.String(), "retrying") {
		t.Errorf("serve waited for a missing database:\n%s", s.log)
	}
}

// TestServeStopsWaitingOnSIGTERM: SIGTERM ends the wait at once, cleanly.
func TestServeStopsWaitingOnSIGTERM(t *testing.T) {
	t.Parallel()
	proxy, dsn := pgtest.MustProxy(t, pgtest.MustDatabase(t))
	proxy.Cut()
	s := startServe(t, "--store", dsn, "--start-timeout", "1h")
	s.mustLog(t, `store unavailable at start, retrying`)
	s.cancel()
	if err := s.mustStop(t); err != nil {
		t.Fatalf("serve stopped while waiting: %v, want a clean stop\n%s", err, s.log)
	}
}
