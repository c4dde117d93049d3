package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/groupcommit"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

func mustStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// plug holds the writer in a WithTx until release, so that the committer
// waits for it while the test queues the next group.
type plug struct {
	release func()
	done    chan error
}

func mustPlug(t *testing.T, s *Store) *plug {
	t.Helper()
	held, release := make(chan struct{}), make(chan struct{})
	p := &plug{done: make(chan error, 1)}
	var once sync.Once
	p.release = func() { once.Do(func() { close(release) }) }
	t.Cleanup(p.release)
	go func() {
		p.done <- s.WithTx(context.Background(), func(*sql.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	return p
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

// mustIntact checks the hash chains and seals of the whole file.
func mustIntact(t *testing.T, s *Store) {
	t.Helper()
	r, err := s.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("Verify found %d problems, first %+v", r.Found, r.First())
	}
}

// One group holding successes, version conflicts, duplicates and retries:
// each append gets the outcome it would get alone after the ones queued
// before it, the failed ones write nothing, and the chains verify.
func TestGroupMixedOutcomes(t *testing.T) {
	t.Parallel()
	s := mustStore(t)
	ctx := context.Background()
	a, b, c, d, e, f := storetest.NewStream("a"), storetest.NewStream("b"), storetest.NewStream("c"), storetest.NewStream("d"), storetest.NewStream("e"), storetest.NewStream("f")
	seed := storetest.NewEvents(1)
	seedRes := storetest.MustAppend(t, s, a, domain.NoStream(), seed)
	x := storetest.NewEvents(1)

	p := mustPlug(t, s)
	plugged := mustEnqueue(t, s, storetest.NewStream("plugged"), domain.NoStream(), storetest.NewEvents(1))
	mustTaken(t, plugged) // the committer now waits for the writer
	steps := []struct {
		name     string
		stream   string
		expected domain.ExpectedVersion
		events   []domain.Envelope
		version  uint64        // on success
		err      *domain.Error // or this
	}{
		{"Appends", a, domain.Exact(1), storetest.NewEvents(1), 2, nil},
		{"SeesTheFirst", a, domain.Exact(1), storetest.NewEvents(1), 0, domain.ErrVersionConflict},
		{"ChainsOnTheFirst", a, domain.Exact(2), storetest.NewEvents(2), 4, nil},
		{"Creates", b, domain.NoStream(), x, 1, nil},
		{"IDWrittenInGroup", c, domain.NoStream(), x, 0, domain.ErrDuplicateEvent},
		{"RetryInGroup", b, domain.NoStream(), x, 1, nil},
		{"IDStoredBefore", d, domain.NoStream(), seed, 0, domain.ErrDuplicateEvent},
		{"RetryOfStored", a, domain.NoStream(), seed, 1, nil},
		{"ExactOnMissing", e, domain.Exact(5), storetest.NewEvents(1), 0, domain.ErrVersionConflict},
		{"Batch", f, domain.NoStream(), storetest.NewEvents(3), 3, nil},
		{"AfterAll", a, domain.Exact(4), storetest.NewEvents(1), 5, nil},
		// Matches any head, so the insert itself meets the stored id.
		{"RetryOfStoredAnyVersion", a, domain.AnyVersion(), seed, 1, nil},
	}
	reqs := make([]*groupcommit.Request, len(steps))
	for i, st := range steps {
		reqs[i] = mustEnqueue(t, s, st.stream, st.expected, st.events)
	}
	mustQueued(t, s, len(steps))
	p.release()
	if err := <-p.done; err != nil {
		t.Fatal(err)
	}
	if _, err := plugged.Await(ctx); err != nil {
		t.Fatalf("plugged append: %v", err)
	}

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
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for _, i := range []int{7, 11} {
		if results[i] != seedRes {
			t.Errorf("%s: retry of a stored append returned %+v, want the original %+v", steps[i].name, results[i], seedRes)
		}
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
	mustIntact(t, s)
}

// A queued append whose context ends is withdrawn and writes nothing; one
// whose group is already running reports the real outcome.
func TestGroupCancel(t *testing.T) {
	t.Parallel()
	s := mustStore(t)
	ctx := context.Background()
	p := mustPlug(t, s)

	runningCtx, cancelRunning := context.WithCancel(ctx)
	runningStream := storetest.NewStream("running")
	running := mustEnqueue(t, s, runningStream, domain.NoStream(), storetest.NewEvents(1))
	mustTaken(t, running)

	queuedCtx, cancelQueued := context.WithCancel(ctx)
	queuedStream := storetest.NewStream("withdrawn")
	queued := make(chan error, 1)
	go func() {
		_, err := s.Append(queuedCtx, queuedStream, domain.NoStream(), storetest.NewEvents(1))
		queued <- err
	}()
	mustQueued(t, s, 1)
	cancelQueued()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued append after cancel: %v, want context.Canceled", err)
	}
	cancelRunning()
	got := make(chan error, 1)
	go func() {
		_, err := running.Await(runningCtx)
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("append in a running group returned %v before its commit", err)
	case <-time.After(time.Second):
	}
	p.release()
	if err := <-got; err != nil {
		t.Fatalf("append in a running group whose caller gave up: %v, want its real outcome (stored)", err)
	}
	storetest.MustStreamLen(t, s, runningStream, 1)
	storetest.MustStreamLen(t, s, queuedStream, 0)
}

// Many concurrent appends with mixed outcomes: each gets its own, what was
// stored is exactly what succeeded, and the chains verify.
func TestGroupConcurrentMix(t *testing.T) {
	t.Parallel()
	s := mustStore(t)
	ctx := context.Background()
	const writers = 64
	contested := storetest.NewStream("contested")
	seedStream := storetest.NewStream("seed")
	seed := storetest.NewEvents(2)
	seedRes := storetest.MustAppend(t, s, seedStream, domain.NoStream(), seed)

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	won := make(chan []domain.Envelope, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				own := fmt.Sprintf("%s-w%d", contested, w)
				first := storetest.NewEvents(1 + w%3)
				res, err := s.Append(ctx, own, domain.NoStream(), first)
				if err != nil || res.Version != uint64(len(first)) {
					return fmt.Errorf("own stream: %+v, %v", res, err)
				}
				if _, err := s.Append(ctx, own, domain.Exact(99), storetest.NewEvents(1)); !errors.Is(err, domain.ErrVersionConflict) {
					return fmt.Errorf("stale expected version: %v, want a conflict", err)
				}
				if _, err := s.Append(ctx, own, domain.AnyVersion(), seed[1:]); !errors.Is(err, domain.ErrDuplicateEvent) {
					return fmt.Errorf("id of another stream: %v, want a duplicate", err)
				}
				if res, err := s.Append(ctx, seedStream, domain.NoStream(), seed); err != nil || res != seedRes {
					return fmt.Errorf("retry of the seed: %+v, %v; want %+v", res, err, seedRes)
				}
				if again, err := s.Append(ctx, own, domain.NoStream(), first); err != nil || again != res {
					return fmt.Errorf("retry of its own append: %+v, %v; want %+v", again, err, res)
				}
				mine := storetest.NewEvents(1)
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
	if err := s.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM streams)`).Scan(&events, &streams); err != nil {
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
