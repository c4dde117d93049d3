package portal

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/projections"
)

// stallDocs is a read-model store whose scans last until their request
// ends: a page slower than any deadline.
type stallDocs struct{ projections.DocStore }

func (d stallDocs) Reader(ns string) projections.DocReader { return stallReader{d.DocStore.Reader(ns)} }

type stallReader struct{ projections.DocReader }

func (r stallReader) Scan(ctx context.Context, coll, from, to string, fn func(string, []byte) error) error {
	<-ctx.Done()
	return r.DocReader.Scan(ctx, coll, from, to, fn)
}

// TestSlowPageSaysSo: a page still being prepared at its deadline stops
// and says, in French, to try again, with the status of the API's 503.
func TestSlowPageSaysSo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	d := w.Deps(w.H, w.Auth, w.Store)
	p, err := New(Config{
		Commands: w.H, Queries: projections.NewQueries(stallDocs{w.Docs}, w.Docs, w.Store, w.Reg, webtest.Paris),
		Sessions: d.Sessions, Now: w.Clock, Location: webtest.Paris,
		Timeouts: web.Timeouts{Request: time.Millisecond, Long: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := visit(t, p.Handler(), get("/messages", asStudent))
	mustPage(t, r, http.StatusServiceUnavailable, "La page a mis trop de temps à se préparer")
}

// TestIndicatorsCSVStreams: a CSV download larger than its buffers goes
// out in parts, whole: two school years by day.
func TestIndicatorsCSVStreams(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	req := httptest.NewRequest("GET", "/indicators.csv?from=2005-09-01&to=2007-08-31&granularity=day&format=rfc4180", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: tokenOf(asEvaluator)})
	rec := httptest.NewRecorder()
	w.srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment;") {
		t.Fatalf("%d %v: %.300s", rec.Code, rec.Header(), rec.Body)
	}
	if !rec.Flushed || rec.Body.Len() < 64<<10 {
		t.Fatalf("flushed %v, %d bytes: not a stream larger than its buffers", rec.Flushed, rec.Body.Len())
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+730 || rows[1][0] != "2005-09-01" || rows[730][0] != "2007-08-31" {
		t.Fatalf("%d rows, from %v to %v", len(rows), rows[1][:1], rows[len(rows)-1][:1])
	}
}
