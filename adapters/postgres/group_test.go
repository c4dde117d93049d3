package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/adapters/groupcommit"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

// plug holds the row lock of a stream's head from a transaction of its
// own, so that a group touching that stream waits in the database while
// the test queues the next group behind it.
type plug struct {
	stream string
	tx     pgx.Tx
}

func mustPlug(t *testing.T, s *Store) *plug {
	t.Helper()
	ctx := context.Background()
	p := &plug{stream: storetest.NewStream("plug")}
	mustAppend(t, s, p.stream, domain.NoStream(), newEvents(1))
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM streams WHERE stream = $1 FOR UPDATE`, p.stream); err != nil {
		t.Fatal(err)
	}
	p.tx = tx
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return p
}

// block queues an append to the plugged stream and returns once the
// committer has taken it: the committer is then stuck until release.
func (p *plug) block(t *testing.T, s *Store) *groupcommit.Request {
	t.Helper()
	r := mustEnqueue(t, s, p.stream, domain.AnyVersion(), newEvents(1))
	mustTaken(t, r)
	return r
}

func (p *plug) release(t *testing.T) {
	t.Helper()
	if err := p.tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func mustEnqueue(t *testing.T, s *Store, stream string, expected domain.ExpectedVersion, events []domain.Envelope) *groupcommit.Request {
	t.Helper()
	r := groupcommit.NewRequest(stream, expected, events)
	if !s.group.Enqueue(r) {
		t.Fatal("committer closed")
	}
	return r
}

// mustTaken waits until a committer has taken r.
func mustTaken(t *testing.T, r *groupcommit.Request) {
	t.Helper()
	mustEventually(t, func() bool { return r.Taken() }, "append to %s not taken by a committer", r.Stream)
}

// mustQueued waits until n appends wait in s's queue.
func mustQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	mustEventually(t, func() bool { return s.group.Queued() == n }, "never %d appends queued", n)
}

// mustEventually waits until cond holds, failing with the message after a
// deadline generous enough for a loaded machine.
func mustEventually(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf(format, args...)
		case <-tick.C:
		}
	}
}

// mustIntact checks the hash chains and seals of the whole database.
func mustIntact(t *testing.T, s *Store) {
	t.Helper()
	if r := mustVerify(t, s); !r.OK() {
		t.Fatalf("Verify found %d problems, first %+v", r.Found, r.First())
	}
}

// One group holding successes, version conflicts, duplicates and retries:
// each append gets the outcome it would get alone after the ones queued
// before it, the failed ones write nothing, and the chains verify.
func TestGroupMixedOutcomes(t *testing.T) {
	t.Parallel()
	s := MustOpen(t, pgtest.MustDatabase(t), WithCommitters(1))
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()

	a, b, c, d, e, f := storetest.NewStream("a"), storetest.NewStream("b"), storetest.NewStream("c"), storetest.NewStream("d"), storetest.NewStream("e"), storetest.NewStream("f")
	seed := newEvents(1)
	seedRes := mustAppend(t, s, a, domain.NoStream(), seed)
	x := newEvents(1)

	p := mustPlug(t, s)
	plugged := p.block(t, s)
	type step struct {
		name     string
		stream   string
		expected domain.ExpectedVersion
		events   []domain.Envelope
		version  uint64        // on success
		err      *domain.Error // or this
	}
	steps := []step{
		{"Appends", a, domain.Exact(1), newEvents(1), 2, nil},
		{"SeesTheFirst", a, domain.Exact(1), newEvents(1), 0, domain.ErrVersionConflict},
		{"ChainsOnTheFirst", a, domain.Exact(2), newEvents(2), 4, nil},
		{"Creates", b, domain.NoStream(), x, 1, nil},
		{"IDWrittenInGroup", c, domain.NoStream(), x, 0, domain.ErrDuplicateEvent},
		{"RetryInGroup", b, domain.NoStream(), x, 1, nil},
		{"IDStoredBefore", d, domain.NoStream(), seed, 0, domain.ErrDuplicateEvent},
		{"RetryOfStored", a, domain.NoStream(), seed, 1, nil},
		{"ExactOnMissing", e, domain.Exact(5), newEvents(1), 0, domain.ErrVersionConflict},
		{"Batch", f, domain.NoStream(), newEvents(3), 3, nil},
		{"AfterAll", a, domain.Exact(4), newEvents(1), 5, nil},
	}
	reqs := make([]*groupcommit.Request, len(steps))
	for i, st := range steps {
		reqs[i] = mustEnqueue(t, s, st.stream, st.expected, st.events)
	}
	mustQueued(t, s, len(steps))
	p.release(t)
	if _, err := plugged.Await(ctx); err != nil {
		t.Fatalf("plugged append: %v", err)
	}

	var tx uint64
	results := make([]domain.AppendResult, len(steps))
	for i, st := range steps {
		res, err := reqs[i].Await(ctx)
		results[i] = res
		switch {
		case st.err != nil && !errors.Is(err, st.err):
			t.Errorf("%s: err %v, want %s", st.name, err, st.err.Type)
		case st.err == nil && err != nil:
			t.Errorf("%s: %v", st.name, err)
		case st.err == nil && res.Version != st.version:
			t.Errorf("%s: version %d, want %d", st.name, res.Version, st.version)
		case st.err == nil && st.name != "RetryOfStored":
			if tx == 0 {
				tx = res.Position.Tx
			}
			if res.Position.Tx != tx {
				t.Errorf("%s: committed by transaction %d, the others by %d: not one group", st.name, res.Position.Tx, tx)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if results[7] != seedRes {
		t.Errorf("retry of a stored append returned %+v, want the original %+v", results[7], seedRes)
	}
	if results[5] != results[3] {
		t.Errorf("retry within the group returned %+v, want the first's %+v", results[5], results[3])
	}
	if !results[0].Position.Less(results[2].Position) || !results[2].Position.Less(results[10].Position) {
		t.Errorf("positions %v, %v, %v of one stream's appends do not increase", results[0].Position, results[2].Position, results[10].Position)
	}

	for stream, n := range map[string]int{a: 5, b: 1, c: 0, d: 0, e: 0, f: 3} {
		storetest.MustStreamLen(t, s, stream, n)
	}
	recs := storetest.MustReadStream(t, s, a, 0)
	storetest.MustMatchEnvelopes(t, recs[1:2], a, 2, steps[0].events)
	storetest.MustMatchEnvelopes(t, recs[2:4], a, 3, steps[2].events)
	var placeholders int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM streams WHERE version = 0`).Scan(&placeholders); err != nil || placeholders != 0 {
		t.Fatalf("%d placeholder heads left behind (err %v)", placeholders, err)
	}
	mustIntact(t, s)
}

// An append whose id another transaction is inserting, uncommitted, passes
// the checks in Go and then breaks the group's INSERT: the group is rolled
// back and every append runs again alone, each getting its own outcome.
func TestGroupFallsBackAlone(t *testing.T) {
	t.Parallel()
	s := MustOpen(t, pgtest.MustDatabase(t), WithCommitters(1))
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()

	x := newEvents(1)
	held, _, err := s.beginAppend(ctx, storetest.NewStream("held"), domain.NoStream(), x)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback(ctx)

	p := mustPlug(t, s)
	plugged := p.block(t, s)
	ok := mustEnqueue(t, s, storetest.NewStream("ok"), domain.NoStream(), newEvents(2))
	dup := mustEnqueue(t, s, storetest.NewStream("dup"), domain.NoStream(), x)
	mustQueued(t, s, 2)
	p.release(t)
	if _, err := plugged.Await(ctx); err != nil {
		t.Fatal(err)
	}
	mustTaken(t, dup)
	mustLockWait(t, s) // the group's INSERT waits for the held id
	if err := held.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := ok.Await(ctx); err != nil || res.Version != 2 {
		t.Fatalf("sound append of the failed group: %+v, %v; want version 2", res, err)
	}
	if _, err := dup.Await(ctx); !errors.Is(err, domain.ErrDuplicateEvent) {
		t.Fatalf("append of the id committed meanwhile: %v, want ErrDuplicateEvent", err)
	}
	mustIntact(t, s)
}

// A queued append whose context ends is withdrawn and writes nothing; one
// whose group is already running reports the real outcome.
func TestGroupCancel(t *testing.T) {
	t.Parallel()
	s := MustOpen(t, pgtest.MustDatabase(t), WithCommitters(1))
	t.Cleanup(func() { s.Close() })

	p := mustPlug(t, s)
	runningCtx, cancelRunning := context.WithCancel(context.Background())
	running := make(chan error, 1)
	go func() {
		_, err := s.Append(runningCtx, p.stream, domain.Exact(1), newEvents(1))
		running <- err
	}()
	mustLockWait(t, s) // taken by the committer, stuck on the plug

	queuedCtx, cancelQueued := context.WithCancel(context.Background())
	queuedStream := storetest.NewStream("withdrawn")
	queued := make(chan error, 1)
	go func() {
		_, err := s.Append(queuedCtx, queuedStream, domain.NoStream(), newEvents(1))
		queued <- err
	}()
	mustQueued(t, s, 1)
	cancelQueued()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued append after cancel: %v, want context.Canceled", err)
	}
	cancelRunning()
	select {
	case err := <-running:
		t.Fatalf("append in a running group returned %v before its commit", err)
	case <-time.After(time.Second):
	}
	p.release(t)
	if err := <-running; err != nil {
		t.Fatalf("append in a running group whose caller gave up: %v, want its real outcome (stored)", err)
	}
	storetest.MustStreamLen(t, s, p.stream, 2)
	storetest.MustStreamLen(t, s, queuedStream, 0)
}

// Many concurrent appends with mixed outcomes: each gets its own, what was
// stored is exactly what succeeded, and the chains verify.
func TestGroupConcurrentMix(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	ctx := context.Background()
	const writers = 64
	contested := storetest.NewStream("contested")
	seedStream := storetest.NewStream("seed")
	seed := newEvents(2)
	seedRes := mustAppend(t, s, seedStream, domain.NoStream(), seed)

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	won := make(chan []domain.Envelope, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				own := fmt.Sprintf("%s-w%d", contested, w)
				first := newEvents(1 + w%3)
				res, err := s.Append(ctx, own, domain.NoStream(), first)
				if err != nil || res.Version != uint64(len(first)) {
					return fmt.Errorf("own stream: %+v, %v", res, err)
				}
				if _, err := s.Append(ctx, own, domain.Exact(99), newEvents(1)); !errors.Is(err, domain.ErrVersionConflict) {
					return fmt.Errorf("stale expected version: %v, want a conflict", err)
				}
				if _, err := s.Append(ctx, own, domain.AnyVersion(), seed[1:]); !errors.Is(err, domain.ErrDuplicateEvent) {
					return fmt.Errorf("id of another stream: %v, want a duplicate", err)
				}
				if res, err := s.Append(ctx, seedStream, domain.NoStream(), seed); err != nil || res != seedRes {
					return fmt.Errorf("retry of the seed: %+v, %v; want %+v", res, err, seedRes)
				}
				again, err := s.Append(ctx, own, domain.NoStream(), first)
				if err != nil || again.Version != res.Version || again.Position != res.Position {
					return fmt.Errorf("retry of its own append: %+v, %v; want %+v", again, err, res)
				}
				mine := newEvents(1)
				switch _, err := s.Append(ctx, contested, domain.NoStream(), mine); {
				case err == nil:
					won <- mine
				case !errors.Is(err, domain.ErrVersionConflict):
					return fmt.Errorf("contested creation: %v", err)
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errs)
	close(won)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var winners [][]domain.Envelope
	for w := range won {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("%d writers created the contested stream, want 1", len(winners))
	}
	storetest.MustMatchEnvelopes(t, storetest.MustReadStream(t, s, contested, 0), contested, 1, winners[0])
	var events, streams int
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM streams)`).Scan(&events, &streams); err != nil {
		t.Fatal(err)
	}
	want := 2 + 1 // the seed, the contested stream
	for w := range writers {
		want += 1 + w%3
	}
	if events != want || streams != writers+2 {
		t.Fatalf("%d events in %d streams, want %d in %d", events, streams, want, writers+2)
	}
	mustIntact(t, s)
}

// mustLockWait waits until a session of the test's database waits for a
// lock: a group is then stuck where the test wants it.
func mustLockWait(t *testing.T, s *Store) {
	t.Helper()
	mustEventually(t, func() bool {
		var n int
		if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
WHERE NOT l.granted AND a.datname = current_database()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}, "no session waits for a lock")
}
