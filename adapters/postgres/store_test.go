package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

// heldStore adds the suite's LateCommitter capability: the append runs in
// a transaction the test commits later.
type heldStore struct{ *Store }

var _ storetest.LateCommitter = heldStore{}

func (s heldStore) AppendHeld(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (func() error, error) {
	tx, _, err := s.beginAppend(ctx, stream, expected, events)
	if err != nil {
		return nil, err
	}
	return func() error { return tx.Commit(context.Background()) }, nil
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) func(t *testing.T) storetest.Store {
		dsn := pgtest.MustDatabase(t)
		return func(t *testing.T) storetest.Store {
			return heldStore{MustOpen(t, dsn)}
		}
	})
}

// MustOpen opens and migrates the store at dsn. The caller closes it.
func MustOpen(t testing.TB, dsn string, opts ...Option) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// MustStore opens a migrated store on a fresh database, closed at the end.
func MustStore(t testing.TB) *Store {
	t.Helper()
	s := MustOpen(t, pgtest.MustDatabase(t))
	t.Cleanup(func() { s.Close() })
	return s
}

func newEvents(n int) []domain.Envelope {
	out := make([]domain.Envelope, n)
	for i := range out {
		out[i] = domain.Envelope{
			ID:   uuid.New(),
			Type: "pgtest.happened.v1",
			Data: fmt.Appendf(nil, `{"n": %d,  "spaces":"kept" }`, i),
			Metadata: domain.Metadata{
				Actor:   uuid.New(),
				Profile: domain.ProfileTeacher,
				Command: "pgtest",
			},
		}
	}
	return out
}

func mustAppend(t testing.TB, s *Store, stream string, expected domain.ExpectedVersion, events []domain.Envelope) domain.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, expected, events)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

func mustReadAll(t *testing.T, s *Store, after domain.Position) []domain.Record {
	t.Helper()
	recs, err := s.ReadAll(context.Background(), after, 0)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	return recs
}

// mustReadN reads until at least n events are visible after `after`. The
// visibility horizon is server-wide: a transaction of another test package
// running against the same server can hold committed events back for a
// moment, so a test that expects events polls for them.
func mustReadN(t *testing.T, s *Store, after domain.Position, n int) []domain.Record {
	t.Helper()
	var recs []domain.Record
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if recs = mustReadAll(t, s, after); len(recs) >= n {
			return recs
		}
		select {
		case <-deadline.C:
			return recs
		case <-tick.C:
		}
	}
}

// fakeTimers stand in for the timers of a store's Wait: each timer armed
// is sent on armed and fires only when the test fires it. A waiter that
// arms its timer has subscribed to notifications and found nothing to
// return for at once; as long as the test does not fire it, only a
// notification, the listener's (re)connection or Close wakes it.
type fakeTimers struct{ armed chan armedTimer }

type armedTimer struct {
	d    time.Duration
	fire chan time.Time // buffered: the test fires it once
}

// useFakeTimers gives s fake timers. Call it while no Wait runs.
func useFakeTimers(s *Store) fakeTimers {
	f := fakeTimers{armed: make(chan armedTimer, 64)}
	s.newTimer = func(d time.Duration) (<-chan time.Time, func() bool) {
		a := armedTimer{d: d, fire: make(chan time.Time, 1)}
		f.armed <- a
		return a.fire, func() bool { return true }
	}
	return f
}

// goWait runs s.Wait in the background; its error arrives on the channel.
func goWait(ctx context.Context, s *Store, after domain.Position) chan error {
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, after) }()
	return done
}

// armedOrReturned tells whether the waiter behind done arms its timer
// (returning it) or returns without arming one (leaving its error on done).
func (f fakeTimers) armedOrReturned(t *testing.T, done chan error) (armedTimer, bool) {
	t.Helper()
	select {
	case a := <-f.armed:
		return a, true
	case err := <-done:
		done <- err
		// A waiter arms its timer before it returns: if it did, it is here.
		select {
		case a := <-f.armed:
			return a, true
		default:
			return armedTimer{}, false
		}
	case <-time.After(time.Minute):
		t.Fatal("Wait neither armed a timer nor returned within a minute")
		return armedTimer{}, false
	}
}

// mustArm returns the timer the waiter behind done arms, failing if it
// returns without arming one.
func (f fakeTimers) mustArm(t *testing.T, done chan error) armedTimer {
	t.Helper()
	a, armed := f.armedOrReturned(t, done)
	if !armed {
		t.Fatalf("Wait returned (%v) without waiting", <-done)
	}
	return a
}

// mustReturn returns the waiter's error, failing if it does not return
// within a limit that only a waiter nothing wakes reaches.
func mustReturn(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("Wait did not return within a minute")
		return nil
	}
}

// A transaction that began before a committed append and is still running
// holds that append back from ReadAll, whatever the transaction is: an
// append in flight or anything else holding a transaction id.
func TestLateCommitRawTransaction(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	ctx := context.Background()
	mustAppend(t, s, "seed", domain.NoStream(), newEvents(1))
	head := mustReadN(t, s, domain.Start, 1)[0].Position

	t.Run("HeldAppend", func(t *testing.T) {
		early := newEvents(2)
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		resEarly, err := s.appendTx(ctx, tx, "early", domain.NoStream(), early)
		if err != nil {
			t.Fatal(err)
		}
		resLate := mustAppend(t, s, "late", domain.NoStream(), newEvents(1))
		if !resEarly.Position.Less(resLate.Position) {
			t.Fatalf("held append at %v, later commit at %v: positions must follow transaction start", resEarly.Position, resLate.Position)
		}
		if got := mustReadAll(t, s, head); len(got) != 0 {
			t.Fatalf("ReadAll returned %d events (first %s at %v) while an earlier transaction is open", len(got), got[0].Stream, got[0].Position)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		got := mustReadN(t, s, head, 3)
		if len(got) != 3 || got[0].Stream != "early" || got[1].Stream != "early" || got[2].Stream != "late" {
			t.Fatalf("after commit ReadAll returned %v, want early, early, late", got)
		}
		head = got[2].Position
	})

	t.Run("ForeignTransaction", func(t *testing.T) {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
			t.Fatal(err)
		}
		mustAppend(t, s, "behind-foreign", domain.NoStream(), newEvents(1))
		if got := mustReadAll(t, s, head); len(got) != 0 {
			t.Fatalf("ReadAll returned %d events while an older transaction is open", len(got))
		}

		// Read, then wait: a held tail must not make the reader spin. Each
		// Wait over it sleeps heldPoll, neither returning at once nor
		// sleeping maxWait.
		timers := useFakeTimers(s)
		for range 3 {
			done := goWait(ctx, s, head)
			a := timers.mustArm(t, done)
			if a.d != heldPoll {
				t.Fatalf("Wait over a held tail armed a timer of %s, want heldPoll (%s)", a.d, heldPoll)
			}
			a.fire <- time.Now()
			if err := mustReturn(t, done); err != nil {
				t.Fatal(err)
			}
		}

		// The foreign transaction ends without notifying: the waiter's
		// next look, heldPoll later, finds it.
		done := goWait(ctx, s, head)
		a := timers.mustArm(t, done)
		if a.d != heldPoll {
			t.Fatalf("Wait over a held tail armed a timer of %s, want heldPoll (%s)", a.d, heldPoll)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		a.fire <- time.Now()
		if err := mustReturn(t, done); err != nil {
			t.Fatal(err)
		}
		// The horizon is the server's: a transaction of a test running
		// beside this one may hold the event back a moment longer, but
		// never for more than heldPoll at a time.
		deadline := time.Now().Add(30 * time.Second)
		for {
			done := goWait(ctx, s, head)
			a, armed := timers.armedOrReturned(t, done)
			if !armed {
				if err := mustReturn(t, done); err != nil {
					t.Fatal(err)
				}
				break
			}
			if a.d != heldPoll {
				t.Fatalf("Wait over a committed event armed a timer of %s, want heldPoll (%s)", a.d, heldPoll)
			}
			if time.Now().After(deadline) {
				t.Fatal("Wait still finds the event held back 30 s after the older transaction ended")
			}
			a.fire <- time.Now()
			if err := mustReturn(t, done); err != nil {
				t.Fatal(err)
			}
		}
		if got := mustReadN(t, s, head, 1); len(got) != 1 {
			t.Fatalf("ReadAll returned %d events after the older transaction ended, want 1", len(got))
		}
	})
}

// The stored hash chain is computed over the exact stored bytes.
func TestHashChain(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	ctx := context.Background()
	mustAppend(t, s, "chain", domain.NoStream(), newEvents(1))
	mustAppend(t, s, "other", domain.NoStream(), newEvents(2))
	mustAppend(t, s, "chain", domain.Exact(1), newEvents(35))
	mustAppend(t, s, "chain", domain.AnyVersion(), newEvents(3))

	rows, err := s.pool.Query(ctx, `SELECT id, stream, version, type, data, metadata, hash, recorded_at FROM events ORDER BY stream, version`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id             uuid.UUID
		stream, typ    string
		version        uint64
		data, md, hash []byte
		recordedAt     time.Time
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.stream, &x.version, &x.typ, &x.data, &x.md, &x.hash, &x.recordedAt)
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 41 {
		t.Fatalf("%d rows, want 41", len(all))
	}
	prev := map[string][]byte{}
	for _, r := range all {
		if want := fmt.Sprintf(`{"n": %d,  "spaces":"kept" }`, 0); r.version == 1 && string(r.data) != want {
			t.Fatalf("%s v%d data stored as %q, want the exact bytes %q", r.stream, r.version, r.data, want)
		}
		want := domain.ChainHash(prev[r.stream], r.id, r.stream, r.version, r.typ, r.data, r.md)
		if string(want) != string(r.hash) {
			t.Fatalf("%s v%d: stored hash %x, recomputed %x", r.stream, r.version, r.hash, want)
		}
		prev[r.stream] = r.hash
	}
	for stream, last := range prev {
		var version uint64
		var hash []byte
		if err := s.pool.QueryRow(ctx, `SELECT version, hash FROM streams WHERE stream = $1`, stream).Scan(&version, &hash); err != nil {
			t.Fatal(err)
		}
		if string(hash) != string(last) {
			t.Fatalf("streams.hash of %s is %x, want the last event's %x", stream, hash, last)
		}
	}
	var placeholders int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM streams WHERE version = 0`).Scan(&placeholders); err != nil || placeholders != 0 {
		t.Fatalf("%d placeholder heads left behind (err %v)", placeholders, err)
	}
}

// A zero metadata time becomes the database's transaction time, to the
// microsecond, and recorded_at is the same instant.
func TestServerTime(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	ctx := context.Background()
	given := time.Date(2007, 3, 14, 9, 26, 53, 123456000, time.UTC)
	events := newEvents(2)
	events[1].Metadata.Time = given
	mustAppend(t, s, "time", domain.NoStream(), events)
	recs, err := s.ReadStream(ctx, "time", 0)
	if err != nil {
		t.Fatal(err)
	}
	set := recs[0].Metadata.Time
	if set.IsZero() || set.Location() != time.UTC || set.Nanosecond()%1000 != 0 || time.Since(set) > time.Minute {
		t.Fatalf("zero time stored as %v, want the server's time now, UTC, in microseconds", set)
	}
	if !recs[1].Metadata.Time.Equal(given) {
		t.Fatalf("given time stored as %v, want %v", recs[1].Metadata.Time, given)
	}
	for i, want := range []time.Time{set, given} {
		var at time.Time
		if err := s.pool.QueryRow(ctx, `SELECT recorded_at FROM events WHERE id = $1`, events[i].ID).Scan(&at); err != nil {
			t.Fatal(err)
		}
		if !at.Equal(want) {
			t.Fatalf("event %d recorded_at %v, want %v", i, at, want)
		}
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dsn := pgtest.MustDatabase(t)
	ctx := context.Background()
	const nodes = 4
	stores := make([]*Store, nodes)
	for i := range stores {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Migrate(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Migrate: %v", i, err)
		}
	}
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	var n, distinct int
	if err := stores[0].pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != distinct {
		t.Fatalf("schema_migrations holds %d rows for %d versions, want each version once", n, distinct)
	}
	mustAppend(t, stores[1], "after-migrate", domain.NoStream(), newEvents(1))
}

func TestErrors(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	ctx := context.Background()
	events := newEvents(2)
	mustAppend(t, s, "s", domain.NoStream(), events)

	cases := []struct {
		name     string
		stream   string
		expected domain.ExpectedVersion
		events   []domain.Envelope
		want     *domain.Error
	}{
		{"Behind", "s", domain.Exact(1), newEvents(1), domain.ErrVersionConflict},
		{"NoStreamOnExisting", "s", domain.NoStream(), newEvents(1), domain.ErrVersionConflict},
		{"ExactOnMissing", "missing", domain.Exact(1), newEvents(1), domain.ErrVersionConflict},
		{"IDElsewhere", "t", domain.AnyVersion(), events[:1], domain.ErrDuplicateEvent},
		{"TwiceInBatch", "t", domain.AnyVersion(), []domain.Envelope{events[0], events[0]}, domain.ErrDuplicateEvent},
		{"NotJSON", "t", domain.AnyVersion(), []domain.Envelope{{ID: uuid.New(), Type: "x", Data: []byte("{nope")}}, domain.ErrInvalid},
		{"NoEvents", "t", domain.AnyVersion(), nil, domain.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(ctx, tc.stream, tc.expected, tc.events)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %s", err, tc.want.Type)
			}
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != tc.want.Code {
				t.Fatalf("err %v is not a domain error with code %s", err, tc.want.Code)
			}
		})
	}

	t.Run("ConstraintMapping", func(t *testing.T) {
		for _, tc := range []struct {
			constraint string
			want       *domain.Error
		}{
			{"events_stream_version_key", domain.ErrVersionConflict},
			{"streams_pkey", domain.ErrVersionConflict},
			{"events_id_key", domain.ErrDuplicateEvent},
		} {
			err := appendError("s", fmt.Errorf("batch: %w", &pgconn.PgError{Code: "23505", ConstraintName: tc.constraint}))
			if !errors.Is(err, tc.want) {
				t.Errorf("unique violation on %s mapped to %v, want %s", tc.constraint, err, tc.want.Type)
			}
		}
		other := errors.New("boom")
		if err := appendError("s", other); !errors.Is(err, other) || err.Error() != "append s: boom" {
			t.Errorf("other error mapped to %v, want it wrapped with the stream", err)
		}
	})
}

// Concurrent creators of one stream queue on its head row: one wins, the
// others get a version conflict (not a raw unique violation), and a
// concurrent retry of the winning append gets the original result.
func TestConcurrentCreate(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	ctx := context.Background()
	const writers = 12

	t.Run("Different", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Append(ctx, "contested", domain.NoStream(), newEvents(2))
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, domain.ErrVersionConflict):
				t.Fatalf("losing creator: %v, want ErrVersionConflict", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d creators won, want 1", won)
		}
	})

	t.Run("SameEvents", func(t *testing.T) {
		events := newEvents(3)
		var wg sync.WaitGroup
		res := make([]domain.AppendResult, writers)
		errs := make([]error, writers)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i], errs[i] = s.Append(ctx, "retried", domain.NoStream(), events)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("retry %d: %v, want the original result", i, err)
			}
			if res[i] != res[0] {
				t.Fatalf("retry %d returned %+v, retry 0 %+v", i, res[i], res[0])
			}
		}
		recs, err := s.ReadStream(ctx, "retried", 0)
		if err != nil || len(recs) != 3 {
			t.Fatalf("stream holds %d events (err %v), want 3", len(recs), err)
		}
	})
}

// The listener reconnects when its connection is killed, and waiters are
// woken by appends again.
func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	ctx := context.Background()
	mustAppend(t, s, "seed", domain.NoStream(), newEvents(1))
	head := mustReadN(t, s, domain.Start, 1)[0].Position

	listener := func() int {
		var pid int
		err := s.pool.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN `+channel+`'`).Scan(&pid)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		mustEventually(t, ok, "no %s within 10s", what)
	}

	// With fake timers a waiter returns only when something wakes it. The
	// first one starts the listener, which wakes it once it listens (appends
	// may have committed while nobody listened).
	timers := useFakeTimers(s)
	first := goWait(ctx, s, head)
	timers.mustArm(t, first)
	if err := mustReturn(t, first); err != nil {
		t.Fatal(err)
	}
	waitFor("listener", func() bool { return listener() != 0 })
	old := listener()

	// The listener's connection is killed: it connects again and wakes
	// the waiters.
	beforeKill := goWait(ctx, s, head)
	timers.mustArm(t, beforeKill)
	if _, err := s.pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, old); err != nil {
		t.Fatal(err)
	}
	if err := mustReturn(t, beforeKill); err != nil {
		t.Fatal(err)
	}
	waitFor("new listener", func() bool { pid := listener(); return pid != 0 && pid != old })

	// Nothing else is left to wake a waiter whose timer never fires: the
	// append's notification through the new connection does.
	woken := goWait(ctx, s, head)
	timers.mustArm(t, woken)
	mustAppend(t, s, "after-reconnect", domain.NoStream(), newEvents(1))
	if err := mustReturn(t, woken); err != nil {
		t.Fatal(err)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	s := MustOpen(t, pgtest.MustDatabase(t))
	ctx := context.Background()
	mustAppend(t, s, "seed", domain.NoStream(), newEvents(1))
	head := mustReadN(t, s, domain.Start, 1)[0].Position

	// With fake timers a waiter returns only when something wakes it: the
	// first one when the listener it starts listens, the second by Close.
	timers := useFakeTimers(s)
	first := goWait(ctx, s, head)
	timers.mustArm(t, first)
	if err := mustReturn(t, first); err != nil {
		t.Fatal(err)
	}
	done := goWait(ctx, s, head)
	timers.mustArm(t, done)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := mustReturn(t, done); err != nil {
		t.Fatalf("Wait interrupted by Close: %v, want a nil (spurious) return", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Wait(ctx, head); !errors.Is(err, errClosed) {
		t.Fatalf("Wait after Close: %v, want errClosed", err)
	}
}

func TestNewLeavesPoolOpen(t *testing.T) {
	t.Parallel()
	owner := MustStore(t)
	s := New(owner.Pool())
	if err := s.Wait(context.Background(), domain.Start); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := owner.Pool().Ping(context.Background()); err != nil {
		t.Fatalf("pool closed by a store that does not own it: %v", err)
	}
}

func BenchmarkAppend(b *testing.B) {
	s := MustStore(b)
	ctx := context.Background()
	for _, size := range []int{1, 35} {
		b.Run(fmt.Sprintf("events=%d", size), func(b *testing.B) {
			batches := make([][]domain.Envelope, b.N)
			for i := range batches {
				batches[i] = newEvents(size)
			}
			stream := "bench-" + uuid.NewString()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Append(ctx, stream, domain.Exact(uint64(i*size)), batches[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// Positions order numerically: transaction 998 comes before 1000, however
// the id is carried to Go.
func TestReadAllOrdersTxNumerically(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	ctx := context.Background()
	for _, tx := range []string{"1000", "998", "99"} {
		if _, err := s.pool.Exec(ctx, `INSERT INTO events (tx_id, id, stream, version, type, data, metadata, recorded_at, hash)
VALUES ($1::text::xid8, $2, $3, 1, 't', '{}', '{}', now(), '')`, tx, uuid.New(), "raw-"+tx); err != nil {
			t.Fatal(err)
		}
	}
	var got []uint64
	for _, r := range mustReadAll(t, s, domain.Start) {
		got = append(got, r.Position.Tx)
	}
	if fmt.Sprint(got) != "[99 998 1000]" {
		t.Fatalf("ReadAll delivered transactions %v, want [99 998 1000]", got)
	}
	recs, err := s.ReadAll(ctx, domain.Position{Tx: 998, Seq: 1 << 40}, 10)
	if err != nil || len(recs) != 1 || recs[0].Position.Tx != 1000 {
		t.Fatalf("ReadAll after 998.x: %v (err %v), want the event of 1000", recs, err)
	}
}
