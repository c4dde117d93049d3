package directoryimport

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// batchProbe counts the reads and batches that reach a store, and
// fails the batch numbered failAt (from 1; 0: none).
type batchProbe struct {
	*memory.Store
	reads, batches atomic.Int64
	failAt         int64
	// failAtEvent, when set, fails the batch that holds the import's
	// failAtEvent-th event: the last batch, whatever the workers made of
	// the batches' boundaries on this run.
	failAtEvent int
	// sizes are the events of each batch (written one at a time).
	sizes  []int
	events int
}

func (s *batchProbe) ReadStream(ctx context.Context, stream string, from uint64) ([]domain.Record, error) {
	s.reads.Add(1)
	return s.Store.ReadStream(ctx, stream, from)
}

var errDiskGone = errors.New("disk gone")

func (s *batchProbe) AppendBatch(ctx context.Context, appends []commands.StreamAppend) ([]domain.AppendResult, error) {
	n := 0
	for _, a := range appends {
		n += len(a.Events)
	}
	s.sizes = append(s.sizes, n)
	before := s.events
	s.events += n
	if s.batches.Add(1) == s.failAt || s.failAtEvent > before && s.failAtEvent <= s.events {
		return nil, errDiskGone
	}
	return s.Store.AppendBatch(ctx, appends)
}

func events(n int) []domain.Envelope {
	out := make([]domain.Envelope, n)
	for i := range out {
		out[i] = domain.Envelope{ID: uuid.New(), Type: "test.happened.v1", Data: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	return out
}

func ids(recs []domain.Record) []uuid.UUID {
	out := make([]uuid.UUID, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func envIDs(envs []domain.Envelope) []uuid.UUID {
	out := make([]uuid.UUID, len(envs))
	for i, e := range envs {
		out[i] = e.ID
	}
	return out
}

// The batcher checks expected versions against the heads it knows, serves
// the streams it created from what it keeps, replays a kept append, and
// refuses an id kept in another stream, before and after a batch is
// written.
func TestBatcherSemantics(t *testing.T) {
	ctx := context.Background()
	st := &batchProbe{Store: memory.New()}
	old := events(2)
	if _, err := st.Append(ctx, "old", domain.NoStream(), old); err != nil {
		t.Fatal(err)
	}
	b := newBatcher(st, 1000)

	a1, a2 := events(2), events(1)
	if res, err := b.Append(ctx, "new", domain.NoStream(), a1); err != nil || res.Version != 2 {
		t.Fatalf("first append: %v, %+v", err, res)
	}
	if _, err := b.Append(ctx, "new", domain.Exact(1), a2); !errors.Is(err, domain.ErrVersionConflict) {
		t.Fatalf("append at a stale version: %v, want a version conflict", err)
	}
	if res, err := b.Append(ctx, "new", domain.Exact(2), a2); err != nil || res.Version != 3 {
		t.Fatalf("second append: %v, %+v", err, res)
	}
	// A retry of a kept append returns its result and keeps nothing twice.
	if res, err := b.Append(ctx, "new", domain.NoStream(), a1); err != nil || res.Version != 2 {
		t.Fatalf("retry: %v, %+v", err, res)
	}
	// An id kept in another stream is a duplicate.
	if _, err := b.Append(ctx, "other", domain.NoStream(), a2); !errors.Is(err, domain.ErrDuplicateEvent) {
		t.Fatalf("id kept in another stream: %v, want a duplicate", err)
	}
	// Nothing is stored yet; the created stream is read from what is kept,
	// without the store.
	if recs, _ := st.Store.ReadStream(ctx, "new", 0); len(recs) != 0 {
		t.Fatalf("store holds %d events before the batch", len(recs))
	}
	reads := st.reads.Load()
	recs, err := b.ReadStream(ctx, "new", 0)
	if err != nil || !slices.Equal(ids(recs), append(envIDs(a1), envIDs(a2)...)) {
		t.Fatalf("read of a created stream: %v, %v", err, ids(recs))
	}
	if recs, _ := b.ReadStream(ctx, "new", 2); len(recs) != 1 || recs[0].Version != 3 {
		t.Fatalf("read after version 2: %+v", recs)
	}
	if n := st.reads.Load() - reads; n != 0 {
		t.Fatalf("reads of a created stream reached the store %d times", n)
	}
	// A stream the import did not create is read from the store, then what
	// is kept for it.
	a3 := events(1)
	if _, err := b.Append(ctx, "old", domain.Exact(2), a3); err != nil {
		t.Fatal(err)
	}
	recs, err = b.ReadStream(ctx, "old", 0)
	if err != nil || !slices.Equal(ids(recs), append(envIDs(old), envIDs(a3)...)) {
		t.Fatalf("read of an older stream: %v, %v", err, ids(recs))
	}

	if err := b.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := st.batches.Load(); n != 1 {
		t.Fatalf("%d batches written, want 1", n)
	}
	stored, _ := st.Store.ReadStream(ctx, "new", 0)
	if !slices.Equal(ids(stored), append(envIDs(a1), envIDs(a2)...)) {
		t.Fatalf("stored: %v", ids(stored))
	}
	// Written: the reads still see the stream whole, from the store for
	// what came before the batcher's stored head.
	recs, err = b.ReadStream(ctx, "new", 0)
	if err != nil || !slices.Equal(ids(recs), ids(stored)) {
		t.Fatalf("read after the batch: %v, %v", err, ids(recs))
	}
	reads = st.reads.Load()
	if recs, err := b.ReadStream(ctx, "new", 3); err != nil || len(recs) != 0 || st.reads.Load() != reads {
		t.Fatalf("read at the head of a created stream: %v, %d records, %d store reads", err, len(recs), st.reads.Load()-reads)
	}
	if _, err := b.Append(ctx, "new", domain.Exact(2), events(1)); !errors.Is(err, domain.ErrVersionConflict) {
		t.Fatalf("stale version after the batch: %v", err)
	}
	if res, err := b.Append(ctx, "new", domain.Exact(3), events(1)); err != nil || res.Version != 4 {
		t.Fatalf("append after the batch: %v, %+v", err, res)
	}

	// An id stored in a stream the batcher never read passes its own
	// checks; the store refuses the batch, and the batcher stops.
	if _, err := b.Append(ctx, "third", domain.NoStream(), old[:1]); err != nil {
		t.Fatal(err)
	}
	err = b.flush(ctx)
	if !errors.Is(err, errBatch) || domain.CodeOf(err) != "" {
		t.Fatalf("batch with an id stored elsewhere: %v, want errBatch and no domain code", err)
	}
	if _, err := b.ReadStream(ctx, "new", 0); !errors.Is(err, errBatch) {
		t.Fatalf("read after a failed batch: %v", err)
	}
	if _, err := b.Append(ctx, "fourth", domain.NoStream(), events(1)); !errors.Is(err, errBatch) {
		t.Fatalf("append after a failed batch: %v", err)
	}
	if recs, _ := st.Store.ReadStream(ctx, "new", 0); len(recs) != 3 {
		t.Fatalf("the refused batch left %d events in new, want the 3 written before", len(recs))
	}
}

// A full batch is written by the append that fills it.
func TestBatcherWritesFullBatches(t *testing.T) {
	ctx := context.Background()
	st := &batchProbe{Store: memory.New()}
	b := newBatcher(st, 10)
	for i := range 25 {
		if _, err := b.Append(ctx, fmt.Sprintf("s%d", i), domain.NoStream(), events(1)); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.batches.Load(); n != 2 {
		t.Fatalf("%d batches written after 25 events in batches of 10, want 2", n)
	}
	if err := b.flush(ctx); err != nil {
		t.Fatal(err)
	}
	all, _ := st.ReadAll(ctx, domain.Start, 0)
	if len(all) != 25 {
		t.Fatalf("%d events stored, want 25", len(all))
	}
}

// streamContents renders a store's log as each stream's (type, data)
// sequence: what an import decided, whatever its run's correlation ids.
func streamContents(t *testing.T, log Log) map[string][]string {
	t.Helper()
	recs, err := log.ReadAll(context.Background(), domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string)
	for _, r := range recs {
		if uint64(len(out[r.Stream]))+1 != r.Version {
			t.Fatalf("%s: version %d after %d", r.Stream, r.Version, len(out[r.Stream]))
		}
		out[r.Stream] = append(out[r.Stream], r.Type+" "+string(r.Data))
	}
	return out
}

// An import whose store fails in the middle stops with an error; a new
// run ends with exactly the events of a clean import, none lost, none
// twice.
func TestImportFailedBatchThenRerun(t *testing.T) {
	dir := t.TempDir()
	genFeed(t, dir, feedSize{establishments: 5, perEstablishment: 1000})
	srcs, err := FileSources(FormatAAF, "", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	probe := &batchProbe{Store: memory.New()}
	clean := newHarness(t, probe)
	rep, _ := clean.MustImport(srcs, DefaultOptions())
	batches := probe.batches.Load()
	want := streamContents(t, clean.store)
	if rep.Applied[OpenAccount] <= DefaultBatchEvents {
		t.Fatalf("%d accounts opened: too few for a batch in the middle of a phase", rep.Applied[OpenAccount])
	}

	// The first batch fails (the establishments' phase), the third (in
	// the middle of the accounts' phase: 4,096 of them, with two phases
	// written before), and the last.
	if batches < 4 || probe.sizes[2] < DefaultBatchEvents {
		t.Fatalf("the import wrote batches of %v events: the third is not a full one", probe.sizes)
	}
	// The workers fill batches concurrently: their boundaries, and so
	// their count, may differ from one run to the next; the last one is
	// the one holding the import's last event.
	for _, failAt := range []int64{1, 3, -1} {
		name := fmt.Sprintf("batch %d fails", failAt)
		if failAt < 0 {
			name = "the last batch fails"
		}
		t.Run(name, func(t *testing.T) {
			st := &batchProbe{Store: memory.New(), failAt: failAt}
			if failAt < 0 {
				st.failAtEvent = probe.events
			}
			x := newHarness(t, st)
			x.now = clean.now
			rep, recs, err := x.run(srcs, DefaultOptions())
			if !errors.Is(err, errDiskGone) {
				t.Fatalf("import over a failing store: %v, want its error", err)
			}
			if rep.Events != len(recs) {
				t.Fatalf("the failed import reports %d events, the log got %d", rep.Events, len(recs))
			}
			x.MustImport(srcs, DefaultOptions())
			got := streamContents(t, x.store)
			if len(got) != len(want) {
				t.Fatalf("%d streams after the rerun, a clean import has %d", len(got), len(want))
			}
			for name, w := range want {
				if !slices.Equal(got[name], w) {
					t.Fatalf("%s after the rerun: %d events, a clean import has %d:\n%v\n%v", name, len(got[name]), len(w), got[name], w)
				}
			}
			x.MustNotChange(srcs, DefaultOptions())
		})
	}
}

// A batched import on SQLite leaves a hash chain `ledger verify` accepts.
func TestBatchedImportVerifies(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"), sqlite.WithSynchronous(sqlite.SyncNormal))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	x := newHarness(t, s)
	rep, recs := x.MustImport(x.sources(FormatAAF, "", "aaf/full"), DefaultOptions())
	if rep.Events == 0 || len(recs) != rep.Events {
		t.Fatalf("import wrote %d events, the log has %d", rep.Events, len(recs))
	}
	vr, err := s.Verify(ctx)
	if err != nil || vr.Found != 0 || vr.Events != len(recs) {
		t.Fatalf("verify: %v, %d events checked of %d, problems %v", err, vr.Events, len(recs), vr.Problems)
	}
}
