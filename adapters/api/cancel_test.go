package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// The server stops reading when its client leaves: a request whose client
// cancels mid-way stops its scan of the read models at the next row, on
// each SQL store. The read models are wrapped by watchDocs, which counts
// the rows the store's scans deliver and holds the scan at one row until
// the request's context ends.

// watchDocs is a read-model store whose scans are watched.
type watchDocs struct {
	projections.DocStore
	w *scanWatch
}

func (d watchDocs) Reader(ns string) projections.DocReader {
	return watchReader{DocReader: d.DocStore.Reader(ns), w: d.w}
}

type watchReader struct {
	projections.DocReader
	w *scanWatch
}

// scanWatch records the scans of one collection.
type scanWatch struct {
	coll    string
	pauseAt int           // the row at which the scan waits for its context to end
	paused  chan struct{} // closed when the scan waits
	done    chan struct{} // closed when the scan returned

	mu    sync.Mutex
	rows  int   // rows delivered
	after int   // rows delivered once the context had ended
	err   error // what the scan returned
}

func (r watchReader) Scan(ctx context.Context, coll, from, to string, fn func(string, []byte) error) error {
	if coll != r.w.coll {
		return r.DocReader.Scan(ctx, coll, from, to, fn)
	}
	w := r.w
	err := r.DocReader.Scan(ctx, coll, from, to, func(key string, doc []byte) error {
		w.mu.Lock()
		w.rows++
		if ctx.Err() != nil {
			w.after++
		}
		n := w.rows
		w.mu.Unlock()
		if n == w.pauseAt {
			close(w.paused)
			select {
			case <-ctx.Done():
			case <-time.After(time.Minute):
				return errors.New("the request's context did not end within a minute of its client leaving")
			}
		}
		return fn(key, doc)
	})
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	close(w.done)
	return err
}

// seedIndicatorDays writes n day documents of indicators.v1 into docs.
func seedIndicatorDays(t *testing.T, docs projections.DocStore, n int) {
	t.Helper()
	ctx := context.Background()
	ns := projections.Namespace(projections.ProjectionIndicators, 1)
	first := domain.MustDate("2005-09-01")
	for done := 0; done < n; {
		err := docs.Update(ctx, ns, func(tx projections.DocTx) error {
			var batch []projections.Doc
			for ; done < n && len(batch) < 1000; done++ {
				uai := fmt.Sprintf("%07dA", 1300000+done%50)
				batch = append(batch, projections.Doc{Coll: "days", Key: uai + "|" + first.AddDays(done/50).String(), Value: []byte(`{"acts":1}`)})
			}
			return tx.Put(ctx, batch)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestClientLeavingStopsTheScan: an evaluator asks for indicators over many
// day documents and leaves mid-way; the scan stops at the next row, the
// handler returns, nothing more is read. On SQLite and Postgres.
func TestClientLeavingStopsTheScan(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T) projections.DocStore{
		"sqlite": func(t *testing.T) projections.DocStore {
			es, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
			if err != nil {
				t.Fatal(err)
			}
			s, err := readstore.NewSQLite(es.DB(), es.WithTx)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = errors.Join(s.Close(), es.Close()) })
			return s
		},
		"postgres": func(t *testing.T) projections.DocStore {
			es, err := postgres.Open(context.Background(), pgtest.MustDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := es.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			s := readstore.NewPostgres(es.Pool())
			t.Cleanup(func() { _ = errors.Join(s.Close(), es.Close()) })
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const days, pauseAt = 5000, 100
			store := open(t)
			seedIndicatorDays(t, store, days)

			w := newWorld(t)
			watch := &scanWatch{coll: "days", pauseAt: pauseAt, paused: make(chan struct{}), done: make(chan struct{})}
			gens := store.(projections.GenerationStore)
			q := projections.NewQueries(watchDocs{DocStore: store, w: watch}, gens, w.Store, w.Reg, webtest.Paris)
			srv := w.serverWith(w.H, w.Auth, w.Store, func(c *Config) { c.Queries = q })
			returned := make(chan struct{})
			ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				defer close(returned)
				srv.Handler().ServeHTTP(rw, r)
			}))
			t.Cleanup(ts.Close)

			ctx, leave := context.WithCancel(context.Background())
			defer leave()
			req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/indicators?from=2005-09-01&to=2007-08-31", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tokenOf(asEvaluator))
			answered := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
					err = fmt.Errorf("answered %s before the client left", resp.Status)
				}
				answered <- err
			}()

			mustWithin(t, watch.paused, "the scan reaching its row")
			leave()
			if err := <-answered; !errors.Is(err, context.Canceled) {
				t.Fatalf("client: %v", err)
			}
			mustWithin(t, watch.done, "the scan returning")
			mustWithin(t, returned, "the handler returning")
			watch.mu.Lock()
			defer watch.mu.Unlock()
			if !errors.Is(watch.err, context.Canceled) {
				t.Errorf("the scan returned %v, want the request's cancellation", watch.err)
			}
			if watch.rows != pauseAt || watch.after != 0 {
				t.Errorf("%d rows of %d read, %d once the client had left: the scan went on", watch.rows, days, watch.after)
			}
		})
	}
}

// mustWithin waits for ch, failing the test after a minute (a loaded
// machine).
func mustWithin(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("%s: not within a minute", what)
	}
}
