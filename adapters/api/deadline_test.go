package api

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// stallDocs is a read-model store whose scans last until their request
// ends: a read slower than any deadline.
type stallDocs struct{ projections.DocStore }

func (d stallDocs) Reader(ns string) projections.DocReader { return stallReader{d.DocStore.Reader(ns)} }

type stallReader struct{ projections.DocReader }

func (r stallReader) Scan(ctx context.Context, coll, from, to string, fn func(string, []byte) error) error {
	<-ctx.Done()
	return r.DocReader.Scan(ctx, coll, from, to, fn)
}

// TestSlowReadAnswers503: a read still running at its deadline stops and
// answers 503 request-timeout.
func TestSlowReadAnswers503(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	q := projections.NewQueries(stallDocs{w.Docs}, w.Docs, w.Store, w.Reg, webtest.Paris)
	s := w.serverWith(w.H, w.Auth, w.Store, func(c *Config) {
		c.Queries, c.Timeouts = q, web.Timeouts{Request: time.Millisecond, Long: time.Millisecond}
	})
	r := do(t, s, request{method: "GET", path: "/api/v1/mailbox", token: tokenOf(asStudent)})
	mustProblem(t, r, http.StatusServiceUnavailable, "request-timeout")
}

// deadlineLog is the world's log, recording the deadline its reads run
// under.
type deadlineLog struct {
	projections.Log
	mu       sync.Mutex
	deadline time.Time
}

func (l *deadlineLog) ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	l.mu.Lock()
	l.deadline, _ = ctx.Deadline()
	l.mu.Unlock()
	return l.Log.ReadAll(ctx, after, limit)
}

// TestRouteDeadlines: the route table gives the long deadline to uploads
// and exports, none to the live socket, the request deadline to every
// other route; an export reads the log under the long one.
func TestRouteDeadlines(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	long := map[string]bool{"POST /api/v1/imports": true, "POST /api/v1/timetable-imports": true, "GET /api/v1/establishments/{uai}/export": true, "GET /api/v1/accounts/{account}/export": true}
	for _, rt := range w.srv.routes {
		pattern := rt.method + " " + rt.path
		want := web.TimeoutDefault
		switch {
		case long[pattern]:
			want = web.TimeoutLong
		case pattern == "GET /api/v1/live":
			want = web.TimeoutNone
		}
		if rt.timeout != want {
			t.Errorf("%s runs under deadline class %d, want %d", pattern, rt.timeout, want)
		}
	}

	log := &deadlineLog{Log: w.Store}
	q := projections.NewQueries(w.Docs, w.Docs, log, w.Reg, webtest.Paris)
	var live struct {
		sync.Mutex
		has bool
	}
	s := w.serverWith(w.H, w.Auth, w.Store, func(c *Config) {
		c.Queries, c.Timeouts = q, web.Timeouts{Request: time.Hour, Long: 5 * time.Hour}
		c.Live = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			live.Lock()
			_, live.has = r.Context().Deadline()
			live.Unlock()
		})
	})
	start := time.Now()
	if r := do(t, s, request{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/export", token: tokenOf(asInspector)}); r.status != http.StatusOK {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	log.mu.Lock()
	if in := log.deadline.Sub(start); in < 5*time.Hour || in > 6*time.Hour {
		t.Errorf("the export read the log under a deadline in %s, want the long one", in)
	}
	log.mu.Unlock()
	do(t, s, request{method: "GET", path: "/api/v1/live", token: tokenOf(asStudent)})
	live.Lock()
	if live.has {
		t.Error("the live socket runs under a request deadline")
	}
	live.Unlock()
}
