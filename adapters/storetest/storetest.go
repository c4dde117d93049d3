// Package storetest is the contract every event store passes. Each adapter's
// tests call Run with a Factory over the real store (no mocks): the same
// cases check expected versions, idempotent appends, atomic batches,
// metadata round-trips, the global log's order under concurrent writers and
// that a tailing reader never skips an event.
//
// Streams get random names, so a store may be shared with other tests; the
// cases only look at their own streams and tolerate foreign events in the
// global log.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Store is everything the ledger needs of an event store: the command side's
// port (commands.EventStore), the projector's (projections.Log) and Close.
type Store interface {
	Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64) ([]domain.Record, error)
	ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error)
	Wait(ctx context.Context, after domain.Position) error
	Close() error
}

// Factory prepares a fresh, empty store for one test and returns a function
// that opens it; calling open again after Close reopens the same data (used
// by the reopen test). Run calls the factory once per case, never in
// parallel.
type Factory func(t *testing.T) (open func(t *testing.T) Store)

// LateCommitter is implemented by stores whose writers can hold a
// transaction open while later writers commit (Postgres). AppendHeld
// performs the append inside a transaction and returns before committing;
// commit() commits it.
type LateCommitter interface {
	AppendHeld(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (commit func() error, err error)
}

// Counter is implemented by stores that count the events after a position
// in the database (the SQL stores): the projections' lag.
type Counter interface {
	CountAfter(ctx context.Context, after domain.Position, limit int) (int64, error)
}

// Batcher is implemented by stores that append many streams' events in one
// transaction, all or nothing (the directory import's batches).
type Batcher interface {
	AppendBatch(ctx context.Context, appends []commands.StreamAppend) ([]domain.AppendResult, error)
}

// SchemaVersioner is implemented by stores that record their migrations:
// readiness compares the database's version with the binary's.
type SchemaVersioner interface {
	SchemaVersion(ctx context.Context) (applied, known int, err error)
}

// Bounds of the timed cases.
const (
	// waitCap is the most Wait may block with nothing happening ("about a
	// second"), with slack for slow CI machines.
	waitCap = 2500 * time.Millisecond
	// prompt is how soon a reader waiting at the head must notice an append.
	prompt = 500 * time.Millisecond
	// deliverTimeout bounds how long a tailing reader may take to catch up.
	deliverTimeout = 30 * time.Second
)

// EventType is the wire type of the events the suite appends.
const EventType = "storetest.happened.v1"

// Run runs the contract suite against the store f makes.
func Run(t *testing.T, f Factory) {
	t.Helper()
	t.Run("AppendAndReadStream", func(t *testing.T) { testAppendAndReadStream(t, f) })
	t.Run("ExpectedVersion", func(t *testing.T) { testExpectedVersion(t, f) })
	t.Run("Idempotent", func(t *testing.T) { testIdempotent(t, f) })
	t.Run("Duplicate", func(t *testing.T) { testDuplicate(t, f) })
	t.Run("AtomicBatches", func(t *testing.T) { testAtomicBatches(t, f) })
	t.Run("Metadata", func(t *testing.T) { testMetadata(t, f) })
	t.Run("ReadAll", func(t *testing.T) { testReadAll(t, f) })
	t.Run("FailedAppendInvisible", func(t *testing.T) { testFailedAppendInvisible(t, f) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, f) })
	t.Run("Wait", func(t *testing.T) { testWait(t, f) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, f) })
	t.Run("LateCommit", func(t *testing.T) { testLateCommit(t, f) })
	t.Run("CountAfter", func(t *testing.T) { testCountAfter(t, f) })
	t.Run("SchemaVersion", func(t *testing.T) { testSchemaVersion(t, f) })
	t.Run("AppendBatch", func(t *testing.T) { testAppendBatch(t, f) })
}

// --- cases -----------------------------------------------------------------

func testAppendAndReadStream(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	ctx := context.Background()
	stream := NewStream("basic")

	first := NewEvents(1)
	r1 := MustAppend(t, s, stream, domain.NoStream(), first)
	if r1.Version != 1 {
		t.Fatalf("first append: version %d, want 1", r1.Version)
	}
	more := NewEvents(3)
	r2 := MustAppend(t, s, stream, domain.AnyVersion(), more)
	if r2.Version != 4 {
		t.Fatalf("second append: version %d, want 4", r2.Version)
	}
	if !r1.Position.Less(r2.Position) {
		t.Fatalf("second append at %v, not after the first at %v", r2.Position, r1.Position)
	}

	all := MustReadStream(t, s, stream, 0)
	want := append(slices.Clone(first), more...)
	MustMatchEnvelopes(t, all, stream, 1, want)
	if all[0].Position != r1.Position {
		t.Errorf("first record at %v, append said %v", all[0].Position, r1.Position)
	}
	if all[3].Position != r2.Position {
		t.Errorf("last record at %v, append said %v (the position of the last event)", all[3].Position, r2.Position)
	}
	for i := 1; i < len(all); i++ {
		if !all[i-1].Position.Less(all[i].Position) {
			t.Errorf("version %d at %v is not after version %d at %v", all[i].Version, all[i].Position, all[i-1].Version, all[i-1].Position)
		}
	}

	for _, tc := range []struct {
		from uint64
		want int
	}{{0, 4}, {1, 3}, {2, 2}, {3, 1}, {4, 0}, {10, 0}} {
		got := MustReadStream(t, s, stream, tc.from)
		if len(got) != tc.want {
			t.Errorf("ReadStream(from %d): %d events, want %d", tc.from, len(got), tc.want)
			continue
		}
		for i, r := range got {
			if r.Version != tc.from+uint64(i)+1 {
				t.Errorf("ReadStream(from %d)[%d]: version %d, want %d", tc.from, i, r.Version, tc.from+uint64(i)+1)
			}
		}
	}

	missing, err := s.ReadStream(ctx, NewStream("missing"), 0)
	if err != nil {
		t.Fatalf("ReadStream of a missing stream: %v, want no error", err)
	}
	if len(missing) != 0 {
		t.Fatalf("ReadStream of a missing stream: %d events, want none", len(missing))
	}
}

func testExpectedVersion(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	cases := []struct {
		name     string
		existing int
		expected domain.ExpectedVersion
		ok       bool
	}{
		{"AnyOnMissing", 0, domain.AnyVersion(), true},
		{"AnyOnExisting", 2, domain.AnyVersion(), true},
		{"NoStreamOnMissing", 0, domain.NoStream(), true},
		{"NoStreamOnExisting", 2, domain.NoStream(), false},
		{"ExactZeroOnMissing", 0, domain.Exact(0), true},
		{"ExactZeroOnExisting", 2, domain.Exact(0), false},
		{"ExactOnMissing", 0, domain.Exact(3), false},
		{"ExactCurrent", 2, domain.Exact(2), true},
		{"ExactBehind", 2, domain.Exact(1), false},
		{"ExactAhead", 2, domain.Exact(3), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stream := NewStream("expected")
			if tc.existing > 0 {
				MustAppend(t, s, stream, domain.AnyVersion(), NewEvents(tc.existing))
			}
			events := NewEvents(2)
			res, err := s.Append(context.Background(), stream, tc.expected, events)
			got := MustReadStream(t, s, stream, 0)
			if tc.ok {
				if err != nil {
					t.Fatalf("append expecting %s on a stream at %d: %v", tc.expected, tc.existing, err)
				}
				if want := uint64(tc.existing + 2); res.Version != want || len(got) != int(want) {
					t.Fatalf("append expecting %s on a stream at %d: result version %d, stream holds %d; want %d", tc.expected, tc.existing, res.Version, len(got), want)
				}
				return
			}
			if !errors.Is(err, domain.ErrVersionConflict) {
				t.Fatalf("append expecting %s on a stream at %d: err %v, want ErrVersionConflict", tc.expected, tc.existing, err)
			}
			if errors.Is(err, domain.ErrDuplicateEvent) {
				t.Fatalf("version conflict also matches ErrDuplicateEvent: %v", err)
			}
			if len(got) != tc.existing {
				t.Fatalf("conflicting append left %d events in the stream, want %d", len(got), tc.existing)
			}
			// The ids of the failed append are still free.
			MustAppend(t, s, stream, domain.Exact(uint64(tc.existing)), events)
		})
	}
}

func testIdempotent(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	stream := NewStream("idem")
	ab := NewEvents(2)
	r1 := MustAppend(t, s, stream, domain.NoStream(), ab)

	t.Run("SameRequest", func(t *testing.T) {
		got := MustAppend(t, s, stream, domain.NoStream(), ab)
		if got != r1 {
			t.Fatalf("retried append returned %+v, want the original %+v", got, r1)
		}
		MustStreamLen(t, s, stream, 2)
	})

	c := NewEvents(1)
	r2 := MustAppend(t, s, stream, domain.Exact(2), c)

	t.Run("StaleExpectedVersion", func(t *testing.T) {
		for _, exp := range []domain.ExpectedVersion{domain.NoStream(), domain.Exact(2), domain.AnyVersion()} {
			got, err := s.Append(context.Background(), stream, exp, ab)
			if err != nil {
				t.Fatalf("retry of an applied append expecting %s: %v, want the original result", exp, err)
			}
			if got != r1 {
				t.Fatalf("retry of an applied append expecting %s: %+v, want the original %+v", exp, got, r1)
			}
		}
		MustStreamLen(t, s, stream, 3)
	})

	t.Run("LastBatch", func(t *testing.T) {
		// Exact(3) and any version match the head the retried append
		// itself made: only its stored id tells it apart from a new one.
		for _, exp := range []domain.ExpectedVersion{domain.Exact(2), domain.Exact(3), domain.AnyVersion()} {
			got, err := s.Append(context.Background(), stream, exp, c)
			if err != nil {
				t.Fatalf("retry of the last append expecting %s: %v, want the original result", exp, err)
			}
			if got != r2 {
				t.Fatalf("retry of the last append expecting %s: %+v, want the original %+v", exp, got, r2)
			}
		}
		MustStreamLen(t, s, stream, 3)
	})

	t.Run("GlobalLogOnce", func(t *testing.T) {
		ours := MustReadAllOf(t, s, domain.Start, func(st string) bool { return st == stream })
		if len(ours) != 3 {
			t.Fatalf("global log holds %d events of the stream after retries, want 3", len(ours))
		}
		MustMatchEnvelopes(t, ours, stream, 1, append(slices.Clone(ab), c...))
	})
}

func testDuplicate(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	stream := NewStream("dup")
	abc := NewEvents(3)
	MustAppend(t, s, stream, domain.NoStream(), abc)
	a, b, c := abc[0], abc[1], abc[2]
	x := NewEvents(1)[0]

	other := NewStream("dup-other")
	cases := []struct {
		name   string
		stream string
		events []domain.Envelope
	}{
		{"OtherStream", other, []domain.Envelope{a}},
		{"OtherStreamWholeBatch", other, abc},
		{"NewThenStoredElsewhere", other, []domain.Envelope{x, a}},
		{"StoredThenNew", stream, []domain.Envelope{c, x}},
		{"NewThenStored", stream, []domain.Envelope{x, c}},
		{"WrongOrder", stream, []domain.Envelope{b, a}},
		{"NotContiguous", stream, []domain.Envelope{a, c}},
		{"Longer", stream, []domain.Envelope{a, b, c, x}},
		{"TwiceInOneBatch", other, []domain.Envelope{x, x}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), tc.stream, domain.AnyVersion(), tc.events)
			if !errors.Is(err, domain.ErrDuplicateEvent) {
				t.Fatalf("append of already stored ids: err %v, want ErrDuplicateEvent", err)
			}
			MustStreamLen(t, s, stream, 3)
			MustStreamLen(t, s, other, 0)
		})
	}

	// Nothing of the failed appends reached the log: x is still free.
	MustAppend(t, s, other, domain.NoStream(), []domain.Envelope{x})
	ours := MustReadAllOf(t, s, domain.Start, func(st string) bool { return st == stream || st == other })
	if len(ours) != 4 {
		t.Fatalf("global log holds %d events of the two streams, want 4", len(ours))
	}
}

func testAppendBatch(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	b, ok := s.(Batcher)
	if !ok {
		t.Skip("the store has no batch append")
	}
	ctx := context.Background()
	old, one, two, three := NewStream("batch-old"), NewStream("batch-one"), NewStream("batch-two"), NewStream("batch-three")
	// The head is where old's events went: reading the log's head instead
	// may stop before them on Postgres while another transaction of the
	// server is in flight (a read horizon, not a gap).
	head := MustAppend(t, s, old, domain.NoStream(), NewEvents(2)).Position
	woken := make(chan error, 1)
	go func() { woken <- s.Wait(ctx, head) }()

	e1, e2, e3, e4 := NewEvents(2), NewEvents(1), NewEvents(1), NewEvents(3)
	batch := []commands.StreamAppend{
		{Stream: one, Expected: domain.NoStream(), Events: e1},
		{Stream: one, Expected: domain.Exact(2), Events: e2},
		{Stream: old, Expected: domain.Exact(2), Events: e3},
		{Stream: two, Expected: domain.AnyVersion(), Events: e4},
	}
	res, err := b.AppendBatch(ctx, batch)
	if err != nil {
		t.Fatalf("append a batch: %v", err)
	}
	select {
	case err := <-woken:
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
	case <-time.After(prompt):
		t.Fatalf("a waiter at the head was not woken by the batch within %s", prompt)
	}
	wantVersions := []uint64{2, 3, 3, 3}
	if len(res) != len(batch) {
		t.Fatalf("%d results for %d appends", len(res), len(batch))
	}
	for i, r := range res {
		if r.Version != wantVersions[i] || r.Position.IsZero() {
			t.Fatalf("append %d of the batch: %+v, want version %d and a position", i, r, wantVersions[i])
		}
		if i > 0 && !res[i-1].Position.Less(r.Position) {
			t.Fatalf("append %d of the batch at %v, not after append %d at %v", i, r.Position, i-1, res[i-1].Position)
		}
	}
	MustMatchEnvelopes(t, MustReadStream(t, s, one, 0), one, 1, append(slices.Clone(e1), e2...))
	MustMatchEnvelopes(t, MustReadStream(t, s, old, 2), old, 3, e3)
	MustMatchEnvelopes(t, MustReadStream(t, s, two, 0), two, 1, e4)
	ours := MustReadAllOf(t, s, head, func(st string) bool { return st == one || st == two || st == old })
	var want []uuid.UUID
	for _, a := range batch {
		want = append(want, IDs(a.Events)...)
	}
	if got := IDs(ours); !slices.Equal(got, want) {
		t.Fatalf("global log after the batch: %v, want the batch's order %v", got, want)
	}
	if last := ours[len(ours)-1].Position; last != res[len(res)-1].Position {
		t.Fatalf("last event at %v, the batch said %v", last, res[len(res)-1].Position)
	}

	// The same batch again is a retry: the same results, nothing stored.
	again, err := b.AppendBatch(ctx, batch)
	if err != nil || !slices.Equal(again, res) {
		t.Fatalf("retried batch: %v, %+v, want %+v", err, again, res)
	}
	MustStreamLen(t, s, one, 3)

	// One append that fails a check fails the batch: nothing is stored.
	for _, tc := range []struct {
		name  string
		batch []commands.StreamAppend
		want  error
	}{
		{"Conflict", []commands.StreamAppend{
			{Stream: three, Expected: domain.NoStream(), Events: NewEvents(1)},
			{Stream: old, Expected: domain.Exact(2), Events: NewEvents(1)},
		}, domain.ErrVersionConflict},
		{"ConflictWithinTheBatch", []commands.StreamAppend{
			{Stream: three, Expected: domain.NoStream(), Events: NewEvents(1)},
			{Stream: three, Expected: domain.NoStream(), Events: NewEvents(1)},
		}, domain.ErrVersionConflict},
		{"IDStoredElsewhere", []commands.StreamAppend{
			{Stream: three, Expected: domain.NoStream(), Events: NewEvents(1)},
			{Stream: two, Expected: domain.Exact(3), Events: e1[:1]},
		}, domain.ErrDuplicateEvent},
		{"NoEvents", []commands.StreamAppend{
			{Stream: three, Expected: domain.NoStream(), Events: e2[:0:0]},
		}, domain.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := MustHead(t, s)
			_, err := b.AppendBatch(ctx, tc.batch)
			if !errors.Is(err, tc.want) {
				t.Fatalf("batch: %v, want %v", err, tc.want)
			}
			MustStreamLen(t, s, three, 0)
			MustStreamLen(t, s, old, 3)
			MustStreamLen(t, s, two, 3)
			if recs, err := s.ReadAll(ctx, before, 0); err != nil || len(MustReadAllOf(t, s, before, func(st string) bool { return st == three || st == old || st == two })) != 0 {
				t.Fatalf("refused batch left %d events in the log (%v)", len(recs), err)
			}
		})
	}
	dup := NewEvents(1)
	_, err = b.AppendBatch(ctx, []commands.StreamAppend{
		{Stream: three, Expected: domain.NoStream(), Events: dup},
		{Stream: two, Expected: domain.Exact(3), Events: dup},
	})
	if !errors.Is(err, domain.ErrDuplicateEvent) {
		t.Fatalf("an id twice in one batch: %v, want a duplicate", err)
	}
	MustStreamLen(t, s, three, 0)
}

func testAtomicBatches(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	stream := NewStream("atomic")
	const goroutines, batches, size = 8, 10, 3

	type batch struct {
		ids []uuid.UUID
		res domain.AppendResult
	}
	var (
		mu   sync.Mutex
		done []batch
		wg   sync.WaitGroup
	)
	errc := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < batches; i++ {
				events := NewEvents(size)
				res, err := s.Append(context.Background(), stream, domain.AnyVersion(), events)
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				done = append(done, batch{ids: IDs(events), res: res})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("concurrent append with AnyVersion: %v", err)
	}

	recs := MustReadStream(t, s, stream, 0)
	if len(recs) != goroutines*batches*size {
		t.Fatalf("stream holds %d events, want %d", len(recs), goroutines*batches*size)
	}
	byID := make(map[uuid.UUID]domain.Record, len(recs))
	for i, r := range recs {
		if r.Version != uint64(i)+1 {
			t.Fatalf("record %d has version %d", i, r.Version)
		}
		byID[r.ID] = r
	}
	for _, b := range done {
		MustContiguous(t, byID, b.ids, b.res)
	}
}

func testMetadata(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	stream := NewStream("meta")
	given := domain.Metadata{
		Actor:         uuid.New(),
		Profile:       domain.ProfileTeacher,
		Establishment: "0750001A",
		CorrelationID: uuid.New(),
		CausationID:   uuid.New(),
		Command:       "storetest.record",
		Time:          time.Date(2007, time.March, 14, 9, 26, 53, 123456789, time.FixedZone("CET", 3600)),
	}
	zero := given
	zero.Time = time.Time{}
	zero.Establishment = ""
	events := []domain.Envelope{
		{ID: uuid.New(), Type: "absence.recorded.v1", Data: []byte(`{"student":"Zoé Lefèvre","reason":"rendez-vous médical","n":42,"nested":{"z":[1,2.5,"trois"],"a":null,"t":true}}`), Metadata: given},
		{ID: uuid.New(), Type: "storetest.empty.v1", Data: []byte(`{}`), Metadata: zero},
	}
	before := time.Now()
	MustAppend(t, s, stream, domain.NoStream(), events)
	after := time.Now()

	fromStream := MustReadStream(t, s, stream, 0)
	MustMatchEnvelopes(t, fromStream, stream, 1, events)
	fromLog := MustReadAllOf(t, s, domain.Start, func(st string) bool { return st == stream })
	MustEqualRecords(t, fromLog, fromStream)

	got := fromStream[1].Metadata
	if got.Time.IsZero() {
		t.Fatalf("zero metadata time stored as zero; the store must set it to server time")
	}
	const skew = time.Minute // the server's clock may be another machine's
	if got.Time.Before(before.Add(-skew)) || got.Time.After(after.Add(skew)) {
		t.Errorf("server time %v is not near the append (between %v and %v)", got.Time, before, after)
	}
}

func testReadAll(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	streams := []string{NewStream("all-a"), NewStream("all-b"), NewStream("all-c")}
	mine := func(st string) bool { return slices.Contains(streams, st) }
	var order []uuid.UUID
	for i := 0; i < 12; i++ {
		events := NewEvents(1 + i%3)
		MustAppend(t, s, streams[i%3], domain.AnyVersion(), events)
		order = append(order, IDs(events)...)
	}

	t.Run("Paging", func(t *testing.T) {
		// Another package's transaction on the same server may hold our
		// events back a moment; paging stops at the first empty page.
		MustSettle(t, s)
		const limit = 7
		var (
			ours []domain.Record
			last domain.Position
		)
		for pages := 0; ; pages++ {
			if pages > 10000 {
				t.Fatal("paging through the log does not end")
			}
			page, err := s.ReadAll(context.Background(), last, limit)
			if err != nil {
				t.Fatalf("ReadAll(after %v, %d): %v", last, limit, err)
			}
			if len(page) > limit {
				t.Fatalf("ReadAll(after %v, %d) returned %d events", last, limit, len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				if !last.Less(r.Position) {
					t.Fatalf("ReadAll(after %v): position %v is not after %v", last, r.Position, last)
				}
				last = r.Position
				if mine(r.Stream) {
					ours = append(ours, r)
				}
			}
		}
		if got := IDs(ours); !slices.Equal(got, order) {
			t.Fatalf("paging delivered %d of our events in order %v, want %d in append order %v", len(got), got, len(order), order)
		}
	})

	ours := MustReadAllOf(t, s, domain.Start, mine)
	if len(ours) != len(order) {
		t.Fatalf("global log holds %d of our events, want %d", len(ours), len(order))
	}

	t.Run("AfterIsExclusive", func(t *testing.T) {
		for _, k := range []int{0, 5, len(ours) - 2} {
			after := ours[k].Position
			got, err := s.ReadAll(context.Background(), after, 1000)
			if err != nil {
				t.Fatalf("ReadAll(after %v): %v", after, err)
			}
			if len(got) == 0 {
				t.Fatalf("ReadAll(after %v): nothing, want at least %d events", after, len(ours)-k-1)
			}
			if !after.Less(got[0].Position) {
				t.Fatalf("ReadAll(after %v) starts at %v", after, got[0].Position)
			}
			var mineAfter []domain.Record
			for _, r := range got {
				if mine(r.Stream) {
					mineAfter = append(mineAfter, r)
				}
			}
			MustEqualRecords(t, mineAfter, ours[k+1:])
		}
	})

	t.Run("Limit", func(t *testing.T) {
		for _, limit := range []int{1, 2, 5} {
			got, err := s.ReadAll(context.Background(), domain.Start, limit)
			if err != nil {
				t.Fatalf("ReadAll(limit %d): %v", limit, err)
			}
			if len(got) == 0 || len(got) > limit {
				t.Fatalf("ReadAll(from start, limit %d): %d events", limit, len(got))
			}
			for _, r := range ours {
				got, err := s.ReadAll(context.Background(), r.Position, limit)
				if err != nil {
					t.Fatalf("ReadAll(after %v, limit %d): %v", r.Position, limit, err)
				}
				if len(got) > limit {
					t.Fatalf("ReadAll(after %v, limit %d): %d events", r.Position, limit, len(got))
				}
			}
		}
	})

	t.Run("BeyondHead", func(t *testing.T) {
		// Positions past the last event, as a client may send in ?after=:
		// a bare number (the SQLite form, which other stores never hand
		// out) and positions with a transaction part. Nothing lies beyond;
		// an append made after the read is still not beyond them.
		beyond := []domain.Position{{Seq: 999999999999}, {Tx: 999999999999}, {Tx: 999999999999, Seq: 999999999999}}
		check := func(when string) {
			t.Helper()
			for _, after := range beyond {
				got, err := s.ReadAll(context.Background(), after, 10)
				if err != nil {
					t.Fatalf("ReadAll(after %v, %s): %v", after, when, err)
				}
				if len(got) != 0 {
					t.Fatalf("ReadAll(after %v, %s) returned %d events from %v", after, when, len(got), got[0].Position)
				}
			}
		}
		check("beyond the head")
		MustAppend(t, s, streams[0], domain.AnyVersion(), NewEvents(1))
		MustSettle(t, s)
		check("beyond the head after an append")
	})

	t.Run("AtHead", func(t *testing.T) {
		head := MustHead(t, s)
		got, err := s.ReadAll(context.Background(), head, 10)
		if err != nil {
			t.Fatalf("ReadAll(after the head %v): %v", head, err)
		}
		for _, r := range got {
			if mine(r.Stream) {
				t.Fatalf("ReadAll(after the head %v) returned our event at %v again", head, r.Position)
			}
		}
	})
}

func testFailedAppendInvisible(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	stream, other := NewStream("failed"), NewStream("failed-other")
	mine := func(st string) bool { return st == stream || st == other }
	first := NewEvents(1)
	MustAppend(t, s, stream, domain.NoStream(), first)

	tail := StartTail(t, s, domain.Start, mine)
	defer tail.Stop(t)

	var failed []uuid.UUID
	conflicting := NewEvents(2)
	if _, err := s.Append(context.Background(), stream, domain.Exact(5), conflicting); !errors.Is(err, domain.ErrVersionConflict) {
		t.Fatalf("append expecting 5 on a stream at 1: err %v, want ErrVersionConflict", err)
	}
	failed = append(failed, IDs(conflicting)...)
	partly := append(NewEvents(2), first[0])
	if _, err := s.Append(context.Background(), other, domain.AnyVersion(), partly); !errors.Is(err, domain.ErrDuplicateEvent) {
		t.Fatalf("append of a batch holding a stored id: err %v, want ErrDuplicateEvent", err)
	}
	failed = append(failed, IDs(partly[:2])...)
	last := NewEvents(1)
	MustAppend(t, s, stream, domain.Exact(1), last)

	want := []uuid.UUID{first[0].ID, last[0].ID}
	got := tail.MustDeliver(t, len(want))
	if !slices.Equal(IDs(got), want) {
		t.Fatalf("tailing reader delivered %v, want %v", IDs(got), want)
	}
	all := MustReadAllOf(t, s, domain.Start, mine)
	if !slices.Equal(IDs(all), want) {
		t.Fatalf("global log holds %v, want %v", IDs(all), want)
	}
	for _, r := range append(got, all...) {
		if slices.Contains(failed, r.ID) {
			t.Fatalf("an event of a failed append is visible: %s at %v", r.ID, r.Position)
		}
	}
	MustStreamLen(t, s, other, 0)
}

func testReopen(t *testing.T, f Factory) {
	open := f(t)
	s := open(t)
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = s.Close()
		}
	})
	a, b := NewStream("reopen-a"), NewStream("reopen-b")
	mine := func(st string) bool { return st == a || st == b }
	MustAppend(t, s, a, domain.NoStream(), NewEvents(2))
	MustAppend(t, s, b, domain.NoStream(), NewEvents(3))
	MustAppend(t, s, a, domain.Exact(2), NewEvents(1))
	beforeA := MustReadStream(t, s, a, 0)
	beforeB := MustReadStream(t, s, b, 0)
	beforeAll := MustReadAllOf(t, s, domain.Start, mine)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed = true

	s2 := MustOpen(t, open)
	MustEqualRecords(t, MustReadStream(t, s2, a, 0), beforeA)
	MustEqualRecords(t, MustReadStream(t, s2, b, 0), beforeB)
	MustEqualRecords(t, MustReadAllOf(t, s2, domain.Start, mine), beforeAll)

	if _, err := s2.Append(context.Background(), a, domain.Exact(2), NewEvents(1)); !errors.Is(err, domain.ErrVersionConflict) {
		t.Fatalf("append expecting 2 on a reopened stream at 3: err %v, want ErrVersionConflict", err)
	}
	res := MustAppend(t, s2, a, domain.Exact(3), NewEvents(2))
	if res.Version != 5 {
		t.Fatalf("append after reopen: version %d, want 5", res.Version)
	}
	if !beforeAll[len(beforeAll)-1].Position.Less(res.Position) {
		t.Fatalf("append after reopen at %v, not after the last one before at %v", res.Position, beforeAll[len(beforeAll)-1].Position)
	}
	if len(MustReadAllOf(t, s2, domain.Start, mine)) != len(beforeAll)+2 {
		t.Fatal("appends after reopen are not all in the global log")
	}
}

func testWait(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	MustAppend(t, s, NewStream("wait-seed"), domain.NoStream(), NewEvents(1))

	t.Run("Behind", func(t *testing.T) {
		start := time.Now()
		if err := s.Wait(context.Background(), domain.Start); err != nil {
			t.Fatalf("Wait behind the head: %v", err)
		}
		if d := time.Since(start); d > prompt {
			t.Fatalf("Wait behind the head took %s, want it to return at once", d)
		}
	})

	t.Run("WokenByAppend", func(t *testing.T) {
		stream := NewStream("wait")
		head := MustHead(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// A reader as a projector runs it: wait, read, wait again on a
		// spurious return. seen is when it first read the new event.
		seen := make(chan time.Time, 1)
		errc := make(chan error, 1)
		go func() {
			after := head
			for {
				if err := s.Wait(ctx, after); err != nil {
					errc <- err
					return
				}
				recs, err := s.ReadAll(ctx, after, 100)
				if err != nil {
					errc <- err
					return
				}
				for _, r := range recs {
					after = r.Position
					if r.Stream == stream {
						seen <- time.Now()
						return
					}
				}
			}
		}()
		time.Sleep(100 * time.Millisecond) // let the reader block in Wait
		appended := time.Now()
		MustAppend(t, s, stream, domain.NoStream(), NewEvents(1))
		select {
		case at := <-seen:
			// How soon is not asserted here: on a loaded machine any bound
			// is a margin. Each store's own tests show, with timers that
			// never fire, that an append wakes its waiters.
			t.Logf("reader waiting at the head saw the append after %s", at.Sub(appended))
		case err := <-errc:
			t.Fatalf("waiting reader: %v", err)
		case <-ctx.Done():
			t.Fatal("reader waiting at the head never saw the append")
		}
	})

	t.Run("Cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(50*time.Millisecond, cancel)
		deadline := time.Now().Add(waitCap)
		for {
			// A foreign append may end a Wait early; wait again until the
			// cancellation is what ends it.
			err := s.Wait(ctx, MustHead(t, s))
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Wait after cancel: %v, want context.Canceled", err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("Wait keeps returning nil after its context was cancelled")
			}
		}
		if err := s.Wait(ctx, MustHead(t, s)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait with a cancelled context: %v, want context.Canceled", err)
		}
	})

	t.Run("Capped", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		if err := s.Wait(ctx, MustHead(t, s)); err != nil {
			t.Fatalf("Wait at the head: %v", err)
		}
		if d := time.Since(start); d > waitCap {
			t.Fatalf("Wait at the head with nothing appended blocked %s, want about a second", d)
		}
	})
}

func testConcurrentWriters(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	const (
		writers   = 16
		appends   = 50
		ownCount  = 3
		hotEvery  = 5 // every 5th append of a writer goes to the hot stream
		timeLimit = 90 * time.Second
	)
	run := uuid.NewString()
	prefix := NewStreamIn(run, "")
	mine := func(st string) bool { return strings.HasPrefix(st, prefix) }
	hot := NewStreamIn(run, "hot")

	tail := StartTail(t, s, domain.Start, mine)
	defer tail.Stop(t)

	type batch struct {
		stream string
		ids    []uuid.UUID
		res    domain.AppendResult
	}
	var (
		mu       sync.Mutex
		done     []batch
		failed   = make(map[uuid.UUID]bool)
		wg       sync.WaitGroup
		werrs    = make(chan error, writers)
		ctx, end = context.WithTimeout(context.Background(), timeLimit)
	)
	defer end()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]string, ownCount)
			versions := make([]uint64, ownCount)
			for i := range own {
				own[i] = NewStreamIn(run, fmt.Sprintf("w%d-%d", w, i))
			}
			var hotVersion uint64
			for i := 0; i < appends; i++ {
				events := NewEvents(1 + i%3)
				if i%hotEvery != 0 {
					k := i % ownCount
					res, err := s.Append(ctx, own[k], domain.Exact(versions[k]), events)
					if err != nil {
						werrs <- fmt.Errorf("writer %d, append %d to its own stream: %w", w, i, err)
						return
					}
					versions[k] = res.Version
					mu.Lock()
					done = append(done, batch{own[k], IDs(events), res})
					mu.Unlock()
					continue
				}
				for attempt := 0; ; attempt++ {
					res, err := s.Append(ctx, hot, domain.Exact(hotVersion), events)
					if err == nil {
						hotVersion = res.Version
						mu.Lock()
						done = append(done, batch{hot, IDs(events), res})
						mu.Unlock()
						break
					}
					if !errors.Is(err, domain.ErrVersionConflict) {
						werrs <- fmt.Errorf("writer %d, append %d to the hot stream: %w", w, i, err)
						return
					}
					if attempt > 10*writers*appends {
						werrs <- fmt.Errorf("writer %d, append %d to the hot stream: still conflicting after %d attempts", w, i, attempt)
						return
					}
					mu.Lock()
					for _, id := range IDs(events) {
						failed[id] = true
					}
					mu.Unlock()
					// Catch up, then retry with fresh ids: the failed ones
					// must never show up.
					recs, err := s.ReadStream(ctx, hot, hotVersion)
					if err != nil {
						werrs <- fmt.Errorf("writer %d, reading the hot stream: %w", w, err)
						return
					}
					if len(recs) > 0 {
						hotVersion = recs[len(recs)-1].Version
					}
					events = NewEvents(len(events))
				}
			}
		}()
	}
	wg.Wait()
	close(werrs)
	for err := range werrs {
		if ctx.Err() != nil {
			t.Fatalf("writers did not finish within %s (%d writers x %d appends): %v", timeLimit, writers, appends, err)
		}
		t.Fatal(err)
	}

	var total int
	want := make(map[uuid.UUID]bool)
	for _, b := range done {
		total += len(b.ids)
		for _, id := range b.ids {
			want[id] = true
		}
	}
	got := tail.MustDeliver(t, total)

	byID := make(map[uuid.UUID]domain.Record, len(got))
	versions := make(map[string]uint64)
	for i, r := range got {
		if _, dup := byID[r.ID]; dup {
			t.Fatalf("reader delivered %s twice", r.ID)
		}
		byID[r.ID] = r
		if failed[r.ID] {
			t.Fatalf("reader delivered %s of a failed (conflicting) append", r.ID)
		}
		if !want[r.ID] {
			t.Fatalf("reader delivered %s, which no writer appended", r.ID)
		}
		if i > 0 && !got[i-1].Position.Less(r.Position) {
			t.Fatalf("reader delivered %v after %v", r.Position, got[i-1].Position)
		}
		if r.Version != versions[r.Stream]+1 {
			t.Fatalf("reader delivered %s version %d after version %d", r.Stream, r.Version, versions[r.Stream])
		}
		versions[r.Stream] = r.Version
	}
	for _, b := range done {
		MustContiguous(t, byID, b.ids, b.res)
	}
	if n := len(MustReadStream(t, s, hot, 0)); uint64(n) != versions[hot] {
		t.Fatalf("hot stream holds %d events, reader saw it reach version %d", n, versions[hot])
	}
	t.Logf("%d writers appended %d events in %d batches (%d events of failed appends discarded)", writers, total, len(done), len(failed))
}

func testLateCommit(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	lc, ok := s.(LateCommitter)
	if !ok {
		t.Logf("%T serializes its writers: an append cannot commit after a later one, so the late-commit case cannot arise", s)
		return
	}
	run := uuid.NewString()
	prefix := NewStreamIn(run, "")
	mine := func(st string) bool { return strings.HasPrefix(st, prefix) }
	sa, sb, sc := NewStreamIn(run, "a"), NewStreamIn(run, "b"), NewStreamIn(run, "c")

	tail := StartTail(t, s, MustHead(t, s), mine)
	defer tail.Stop(t)

	ea := NewEvents(1)
	commit, err := lc.AppendHeld(context.Background(), sa, domain.NoStream(), ea)
	if err != nil {
		t.Fatalf("held append: %v", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = commit()
		}
	}()
	eb, ec := NewEvents(1), NewEvents(1)
	MustAppend(t, s, sb, domain.NoStream(), eb)
	MustAppend(t, s, sc, domain.NoStream(), ec)

	// Give the reader time to go round: B and C are committed and wake it.
	time.Sleep(700 * time.Millisecond)
	if early := tail.Snapshot(); len(early) > 0 {
		t.Fatalf("reader delivered %v (%s at %v) while an earlier append was still uncommitted: a checkpoint there would skip it", IDs(early), early[0].Stream, early[0].Position)
	}

	committed = true
	if err := commit(); err != nil {
		t.Fatalf("commit of the held append: %v", err)
	}
	got := tail.MustDeliver(t, 3)
	ids := IDs(got)
	for _, want := range []uuid.UUID{ea[0].ID, eb[0].ID, ec[0].ID} {
		if n := countOf(ids, want); n != 1 {
			t.Fatalf("reader delivered %s %d times, want once (got %v)", want, n, ids)
		}
	}
	if cp := tail.Checkpoint(); cp.Less(got[len(got)-1].Position) {
		t.Fatalf("reader's checkpoint %v is before the last position it got %v", cp, got[len(got)-1].Position)
	}
}

// --- helpers ---------------------------------------------------------------

// MustOpen opens a store and closes it when the test ends.
func MustOpen(t *testing.T, open func(t *testing.T) Store) Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// NewStream returns a fresh stream name of the ledger's form.
func NewStream(label string) string {
	return NewStreamIn(uuid.NewString(), label)
}

// NewStreamIn returns a stream name under run, so that a case can tell its
// streams by prefix; NewStreamIn(run, "") is that prefix.
func NewStreamIn(run, label string) string {
	if label == "" {
		return domain.StreamName("storetest", run+".")
	}
	return domain.StreamName("storetest", run+"."+label)
}

// NewEvents returns n envelopes with fresh ids and metadata (time left zero:
// the store sets it).
func NewEvents(n int) []domain.Envelope {
	out := make([]domain.Envelope, n)
	corr := uuid.New()
	for i := range out {
		out[i] = domain.Envelope{
			ID:   uuid.New(),
			Type: EventType,
			Data: fmt.Appendf(nil, `{"n":%d,"note":"élève n°%d"}`, i, i),
			Metadata: domain.Metadata{
				Actor:         uuid.New(),
				Profile:       domain.ProfilePersonnel,
				Establishment: "0330001B",
				CorrelationID: corr,
				CausationID:   corr,
				Command:       "storetest.append",
			},
		}
	}
	return out
}

// IDs returns the ids of envelopes or records.
func IDs[E domain.Envelope | domain.Record](events []E) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		switch e := any(e).(type) {
		case domain.Envelope:
			out[i] = e.ID
		case domain.Record:
			out[i] = e.ID
		}
	}
	return out
}

// MustAppend appends events and fails the test on error.
func MustAppend(t *testing.T, s Store, stream string, expected domain.ExpectedVersion, events []domain.Envelope) domain.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, expected, events)
	if err != nil {
		t.Fatalf("append %d events to %s expecting %s: %v", len(events), stream, expected, err)
	}
	if res.Version == 0 || res.Position.IsZero() {
		t.Fatalf("append to %s returned %+v: no version or position", stream, res)
	}
	return res
}

// MustReadStream reads a stream from a version and fails the test on error.
func MustReadStream(t *testing.T, s Store, stream string, from uint64) []domain.Record {
	t.Helper()
	recs, err := s.ReadStream(context.Background(), stream, from)
	if err != nil {
		t.Fatalf("ReadStream(%s, %d): %v", stream, from, err)
	}
	return recs
}

// MustStreamLen checks how many events a stream holds.
func MustStreamLen(t *testing.T, s Store, stream string, n int) {
	t.Helper()
	if got := len(MustReadStream(t, s, stream, 0)); got != n {
		t.Fatalf("%s holds %d events, want %d", stream, got, n)
	}
}

// MustSettle appends a marker to a fresh stream and waits until the global
// log shows it: every event committed before the marker is then readable
// too. A store may hold committed events back while an older transaction is
// open (Postgres does, server-wide, so another test package's transaction
// can delay them a moment); readers that expect events settle first.
func MustSettle(t *testing.T, s Store) {
	t.Helper()
	marker := MustAppend(t, s, NewStream("settle"), domain.NoStream(), NewEvents(1))
	deadline := time.Now().Add(30 * time.Second)
	for {
		after := domain.Start
		for {
			page, err := s.ReadAll(context.Background(), after, 500)
			if err != nil {
				t.Fatalf("ReadAll(after %v): %v", after, err)
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				if r.Position == marker.Position {
					return
				}
			}
			after = page[len(page)-1].Position
		}
		if time.Now().After(deadline) {
			t.Fatalf("the global log did not show an event committed 30 s ago (at %v)", marker.Position)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// MustReadAllOf pages through the global log after a position and returns the
// events whose stream keep accepts, checking positions increase.
func MustReadAllOf(t *testing.T, s Store, after domain.Position, keep func(stream string) bool) []domain.Record {
	t.Helper()
	MustSettle(t, s)
	var out []domain.Record
	for {
		page, err := s.ReadAll(context.Background(), after, 500)
		if err != nil {
			t.Fatalf("ReadAll(after %v): %v", after, err)
		}
		if len(page) == 0 {
			return out
		}
		for _, r := range page {
			if !after.Less(r.Position) {
				t.Fatalf("ReadAll(after %v) returned position %v", after, r.Position)
			}
			after = r.Position
			if keep(r.Stream) {
				out = append(out, r)
			}
		}
	}
}

// MustHead returns the position of the last readable event.
func MustHead(t *testing.T, s Store) domain.Position {
	t.Helper()
	var head domain.Position
	for {
		page, err := s.ReadAll(context.Background(), head, 500)
		if err != nil {
			t.Fatalf("ReadAll(after %v): %v", head, err)
		}
		if len(page) == 0 {
			return head
		}
		for _, r := range page {
			if !head.Less(r.Position) {
				t.Fatalf("ReadAll(after %v) returned position %v", head, r.Position)
			}
			head = r.Position
		}
	}
}

// MustMatchEnvelopes checks that recs are envs stored in stream from version
// first on: ids, types, data bytes and metadata.
func MustMatchEnvelopes(t *testing.T, recs []domain.Record, stream string, first uint64, envs []domain.Envelope) {
	t.Helper()
	if len(recs) != len(envs) {
		t.Fatalf("%d records, want %d", len(recs), len(envs))
	}
	for i, r := range recs {
		e := envs[i]
		if r.ID != e.ID || r.Stream != stream || r.Version != first+uint64(i) || r.Type != e.Type {
			t.Fatalf("record %d is %s %s v%d %s, want %s %s v%d %s", i, r.ID, r.Stream, r.Version, r.Type, e.ID, stream, first+uint64(i), e.Type)
		}
		if !bytes.Equal(r.Data, e.Data) {
			t.Fatalf("record %d data is %s, want exactly %s", i, r.Data, e.Data)
		}
		MustMatchMetadata(t, r.Metadata, e.Metadata)
	}
}

// MustMatchMetadata compares stored metadata with what was given. Times are
// the same instant to the microsecond (SQL stores keep microseconds); a zero
// time given is the store's to fill.
func MustMatchMetadata(t *testing.T, got, want domain.Metadata) {
	t.Helper()
	gt, wt := got.Time, want.Time
	got.Time, want.Time = time.Time{}, time.Time{}
	if got != want {
		t.Fatalf("metadata read back as %+v, want %+v", got, want)
	}
	if wt.IsZero() {
		return
	}
	if d := gt.Sub(wt); d <= -time.Microsecond || d >= time.Microsecond {
		t.Fatalf("metadata time read back as %v, want %v (to the microsecond)", gt, wt)
	}
}

// MustEqualRecords checks two reads of the same events agree on every field.
func MustEqualRecords(t *testing.T, got, want []domain.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d (got %v, want %v)", len(got), len(want), IDs(got), IDs(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Stream != w.Stream || g.Version != w.Version || g.Position != w.Position || g.Type != w.Type {
			t.Fatalf("record %d is %s %s v%d at %v %s, want %s %s v%d at %v %s", i, g.ID, g.Stream, g.Version, g.Position, g.Type, w.ID, w.Stream, w.Version, w.Position, w.Type)
		}
		if !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("record %d data is %s, want %s", i, g.Data, w.Data)
		}
		gm, wm := g.Metadata, w.Metadata
		if !gm.Time.Equal(wm.Time) {
			t.Fatalf("record %d time is %v, want %v", i, gm.Time, wm.Time)
		}
		gm.Time, wm.Time = time.Time{}, time.Time{}
		if gm != wm {
			t.Fatalf("record %d metadata is %+v, want %+v", i, gm, wm)
		}
	}
}

// MustContiguous checks that a batch landed in one piece: consecutive
// versions of one stream, in order, ending at the version and position the
// append returned.
func MustContiguous(t *testing.T, byID map[uuid.UUID]domain.Record, ids []uuid.UUID, res domain.AppendResult) {
	t.Helper()
	var prev domain.Record
	for i, id := range ids {
		r, ok := byID[id]
		if !ok {
			t.Fatalf("event %s of a successful append was not read", id)
		}
		if i > 0 && (r.Stream != prev.Stream || r.Version != prev.Version+1) {
			t.Fatalf("batch split: event %d is %s v%d after %s v%d", i, r.Stream, r.Version, prev.Stream, prev.Version)
		}
		prev = r
	}
	if prev.Version != res.Version || prev.Position != res.Position {
		t.Fatalf("batch ends at v%d %v, the append returned v%d %v", prev.Version, prev.Position, res.Version, res.Position)
	}
}

func countOf(ids []uuid.UUID, id uuid.UUID) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// --- tailing reader ----------------------------------------------------------

// Tail follows the global log as a projector does: ReadAll from its
// checkpoint, Wait when caught up, checkpoint the last position it got.
type Tail struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	got  []domain.Record
	cp   domain.Position
	err  error
	wake chan struct{}
}

// StartTail starts a reader after from, keeping the events of the streams
// keep accepts. Stop it with Stop.
func StartTail(t *testing.T, s Store, from domain.Position, keep func(stream string) bool) *Tail {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tl := &Tail{cancel: cancel, done: make(chan struct{}), cp: from, wake: make(chan struct{})}
	go func() {
		defer close(tl.done)
		cp := from
		for {
			page, err := s.ReadAll(ctx, cp, 100)
			if err != nil {
				if ctx.Err() == nil {
					tl.fail(fmt.Errorf("ReadAll(after %v): %w", cp, err))
				}
				return
			}
			tl.mu.Lock()
			for _, r := range page {
				if !cp.Less(r.Position) {
					tl.mu.Unlock()
					tl.fail(fmt.Errorf("ReadAll(after %v) returned position %v", cp, r.Position))
					return
				}
				cp = r.Position
				tl.cp = cp
				if keep(r.Stream) {
					tl.got = append(tl.got, r)
				}
			}
			if len(page) > 0 {
				close(tl.wake)
				tl.wake = make(chan struct{})
			}
			tl.mu.Unlock()
			if len(page) == 0 {
				if err := s.Wait(ctx, cp); err != nil {
					if ctx.Err() == nil {
						tl.fail(fmt.Errorf("Wait(after %v): %w", cp, err))
					}
					return
				}
			}
		}
	}()
	return tl
}

func (tl *Tail) fail(err error) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.err == nil {
		tl.err = err
	}
	close(tl.wake)
	tl.wake = make(chan struct{})
}

// Snapshot returns what the reader delivered so far.
func (tl *Tail) Snapshot() []domain.Record {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return slices.Clone(tl.got)
}

// Checkpoint returns the last position the reader got.
func (tl *Tail) Checkpoint() domain.Position {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.cp
}

// MustDeliver waits until the reader has delivered n events and returns them;
// it fails the test if the reader errs, stalls or delivers more.
func (tl *Tail) MustDeliver(t *testing.T, n int) []domain.Record {
	t.Helper()
	timeout := time.NewTimer(deliverTimeout)
	defer timeout.Stop()
	for {
		tl.mu.Lock()
		got, err, wake := slices.Clone(tl.got), tl.err, tl.wake
		tl.mu.Unlock()
		if err != nil {
			t.Fatalf("tailing reader: %v", err)
		}
		if len(got) > n {
			t.Fatalf("tailing reader delivered %d events, want %d: some twice or foreign", len(got), n)
		}
		if len(got) == n {
			// Linger a little: a duplicate would come right after.
			time.Sleep(50 * time.Millisecond)
			if late := tl.Snapshot(); len(late) != n {
				t.Fatalf("tailing reader delivered %d events, want %d: some twice or foreign", len(late), n)
			}
			return got
		}
		select {
		case <-wake:
		case <-timeout.C:
			t.Fatalf("tailing reader delivered %d of %d events within %s, stuck at checkpoint %v: an event was skipped or the reader is not woken", len(got), n, deliverTimeout, tl.Checkpoint())
		}
	}
}

// Stop stops the reader and reports any error it met.
func (tl *Tail) Stop(t *testing.T) {
	t.Helper()
	tl.cancel()
	<-tl.done
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.err != nil {
		t.Errorf("tailing reader: %v", tl.err)
	}
}

// testCountAfter: a store that counts counts the events after a position,
// exclusive, no further than the limit.
func testCountAfter(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	c, ok := s.(Counter)
	if !ok {
		t.Logf("%T does not count events", s)
		return
	}
	ctx := context.Background()
	MustSettle(t, s)
	head := MustHead(t, s)
	for i := range 3 {
		MustAppend(t, s, NewStream("count"), domain.NoStream(), NewEvents(i+1)) // 6 in all
	}
	MustSettle(t, s) // one more
	last := MustHead(t, s)
	for _, tc := range []struct {
		after domain.Position
		limit int
		want  int64
	}{
		{head, 100, 7},
		{head, 4, 4},
		{last, 100, 0},
	} {
		if n, err := c.CountAfter(ctx, tc.after, tc.limit); err != nil || n != tc.want {
			t.Errorf("CountAfter(%v, %d) = %d, %v; want %d", tc.after, tc.limit, n, err, tc.want)
		}
	}
	if n, err := c.CountAfter(ctx, domain.Start, 100000); err != nil || n < 7 {
		t.Errorf("CountAfter(start) = %d, %v; want the whole log, 7 events or more", n, err)
	}
}

// testSchemaVersion: a migrated store is at the last migration it knows.
func testSchemaVersion(t *testing.T, f Factory) {
	s := MustOpen(t, f(t))
	sv, ok := s.(SchemaVersioner)
	if !ok {
		t.Logf("%T keeps no schema of ours", s)
		return
	}
	applied, known, err := sv.SchemaVersion(context.Background())
	if err != nil || applied != known || known <= 0 {
		t.Errorf("SchemaVersion() = %d, %d, %v; want the last migration applied", applied, known, err)
	}
}
