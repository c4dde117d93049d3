package projections

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the tests count days in Europe/Paris whatever the host's zone files

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// histLog is a log built by hand for the audit and indicators tests. Its
// positions have a transaction part, as on Postgres, so that keys padding
// both halves are exercised.
type histLog struct {
	t    testing.TB
	reg  *domain.Registry
	mu   sync.Mutex
	recs []domain.Record
	vers map[string]uint64
}

var _ Log = (*histLog)(nil)

func newHistLog(t testing.TB) *histLog {
	return &histLog{t: t, reg: domain.NewRegistry(), vers: map[string]uint64{}}
}

// add appends events to stream with md, as one append (one transaction).
func (h *histLog) add(stream string, md domain.Metadata, events ...domain.Event) []domain.Record {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if md.CorrelationID == uuid.Nil {
		md.CorrelationID = uuid.New()
	}
	if md.CausationID == uuid.Nil {
		md.CausationID = md.CorrelationID
	}
	if md.Command == "" {
		md.Command = "test"
	}
	tx := uint64(1_000_000 + len(h.recs))
	var out []domain.Record
	for _, e := range events {
		typ, data, err := h.reg.Encode(e)
		if err != nil {
			h.t.Fatal(err)
		}
		h.vers[stream]++
		rec := domain.Record{
			ID: uuid.New(), Stream: stream, Version: h.vers[stream],
			Position: domain.Position{Tx: tx, Seq: uint64(len(h.recs) + 1)},
			Type:     typ, Data: data, Metadata: md,
		}
		h.recs = append(h.recs, rec)
		out = append(out, rec)
	}
	return out
}

func (h *histLog) ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	i, _ := slices.BinarySearchFunc(h.recs, after, func(r domain.Record, p domain.Position) int {
		switch {
		case r.Position.Less(p):
			return -1
		case p.Less(r.Position):
			return 1
		}
		return 0
	})
	for i < len(h.recs) && !after.Less(h.recs[i].Position) {
		i++
	}
	end := len(h.recs)
	if limit > 0 {
		end = min(end, i+limit)
	}
	return slices.Clone(h.recs[i:end]), nil
}

func (h *histLog) Wait(ctx context.Context, _ domain.Position) error { return ctx.Err() }

// histProject runs reducers over the whole log into a new in-memory store,
// batchSize events per transaction, as the projector does.
func histProject(t testing.TB, log Log, batchSize int, reds ...Reducer) *MemoryDocs {
	t.Helper()
	ctx := context.Background()
	mem := NewMemoryDocs()
	for _, red := range reds {
		if _, err := replay(ctx, log, domain.NewRegistry(), red, mem, Namespace(red.Name(), 1), batchSize, nil); err != nil {
			t.Fatalf("project %s: %v", red.Name(), err)
		}
	}
	return mem
}

// TestReplayIndicatorsAgreesWithStored builds a realistic two-month log of
// two establishments in two départements, projects it as the live runner
// does (small batches), replays it with ReplayIndicators, and compares every
// granularity and breakdown.
func TestReplayIndicatorsAgreesWithStored(t *testing.T) {
	ctx := context.Background()
	w := newIndWorld(t, 42)
	w.run(domain.MustDate("2006-03-01"), domain.MustDate("2006-04-30"))
	if n := len(w.log.recs); n < 300 {
		t.Fatalf("the log holds %d events, want a few hundred at least", n)
	}
	stored := NewQueries(histProject(t, w.log, 7, NewIndicators(w.loc)), nil, w.log, w.log.reg, w.loc)
	stored.gens = stored.docs.(*MemoryDocs)

	queries := []IndicatorQuery{}
	for _, g := range []Granularity{GranularityDay, GranularityWeek, GranularityMonth, GranularitySchoolYear, GranularityTotal} {
		base := IndicatorQuery{From: domain.MustDate("2006-02-20"), To: domain.MustDate("2006-05-10"), Granularity: g}
		for _, q := range []IndicatorQuery{
			base,
			withQuery(base, func(q *IndicatorQuery) { q.By = LevelEstablishment }),
			withQuery(base, func(q *IndicatorQuery) { q.By = LevelDepartement }),
			withQuery(base, func(q *IndicatorQuery) { q.Establishment = w.uais[0] }),
			withQuery(base, func(q *IndicatorQuery) { q.Departement = "69" }),
			withQuery(base, func(q *IndicatorQuery) {
				q.From, q.To = domain.MustDate("2006-03-15"), domain.MustDate("2006-04-02")
			}),
		} {
			queries = append(queries, q)
		}
	}
	var progressed int
	for _, q := range queries {
		page, err := stored.Indicators(ctx, q, "")
		if err != nil || page.Next != "" {
			t.Fatalf("stored %+v: %v (next page %q)", q, err, page.Next)
		}
		want := page.Items
		got, err := ReplayIndicators(ctx, w.log, w.log.reg, w.loc, q, func(done int) { progressed = done })
		if err != nil {
			t.Fatalf("replay %+v: %v", q, err)
		}
		if !reflect.DeepEqual(got, want) {
			g, _ := json.MarshalIndent(got, "", " ")
			s, _ := json.MarshalIndent(want, "", " ")
			t.Fatalf("query %+v: replay and stored read model differ\nreplay: %s\nstored: %s", q, g, s)
		}
		if len(want) == 0 {
			t.Fatalf("query %+v: no rows", q)
		}
	}
	if progressed != len(w.log.recs) {
		t.Errorf("progress reported %d events done, the log holds %d", progressed, len(w.log.recs))
	}

	// And both equal what the world counted while writing the log.
	total, err := ReplayIndicators(ctx, w.log, w.log.reg, w.loc, IndicatorQuery{
		From: domain.MustDate("2006-01-01"), To: domain.MustDate("2006-12-31"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(total) != 1 || total[0].IndicatorCounts != w.total() {
		t.Fatalf("replayed total %+v, the log was written with %+v", total, w.total())
	}
}

func withQuery(q IndicatorQuery, f func(*IndicatorQuery)) IndicatorQuery {
	f(&q)
	return q
}

func TestReplayIndicatorsRejectsBadQuery(t *testing.T) {
	log := newHistLog(t)
	for _, q := range []IndicatorQuery{
		{},
		{From: domain.MustDate("2006-03-02"), To: domain.MustDate("2006-03-01")},
		{From: domain.MustDate("2006-03-01"), To: domain.MustDate("2006-03-02"), Granularity: "fortnight"},
		{From: domain.MustDate("2006-03-01"), To: domain.MustDate("2006-03-02"), By: "class"},
	} {
		if _, err := ReplayIndicators(context.Background(), log, log.reg, time.UTC, q, nil); domain.CodeOf(err) != domain.CodeInvalid {
			t.Errorf("query %+v: err %v, want an invalid-input error", q, err)
		}
	}
}
