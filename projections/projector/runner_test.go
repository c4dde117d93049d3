package projector_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// counter counts the events it applies; fail, when set, may refuse one.
type counter struct {
	name string
	fail atomic.Pointer[func(domain.Record) error]
}

func (c *counter) Name() string { return c.name }

func (c *counter) Apply(ctx context.Context, b *projections.Batch, rec domain.Record, _ domain.Event) error {
	if f := c.fail.Load(); f != nil {
		if err := (*f)(rec); err != nil {
			return err
		}
	}
	return b.Add(ctx, "counts", "total", "events", 1)
}

func (c *counter) failWith(f func(domain.Record) error) { c.fail.Store(&f) }

var errPoison = errors.New("cannot apply this one")

// failAt fails at the event at pos, every time.
func failAt(pos domain.Position) func(domain.Record) error {
	return func(rec domain.Record) error {
		if rec.Position == pos {
			return errPoison
		}
		return nil
	}
}

// syncBuffer is a log output written by several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	es          *memory.Store
	reg         *domain.Registry
	docs        *projections.MemoryDocs
	good, picky *counter
	log         *syncBuffer
}

func newFixture() *fixture {
	return &fixture{
		es: memory.New(), reg: domain.NewRegistry(), docs: projections.NewMemoryDocs(),
		good: &counter{name: "good.v1"}, picky: &counter{name: "picky.v1"}, log: &syncBuffer{},
	}
}

// MustAppend appends n events and returns their positions.
func (f *fixture) MustAppend(t *testing.T, n int) []domain.Position {
	t.Helper()
	ctx := context.Background()
	before, err := f.es.ReadAll(ctx, domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		typ, data, err := f.reg.Encode(domain.UserConnected{Account: uuid.New(), Profile: domain.ProfileStudent, Establishment: "0751234A", Method: domain.SignInPassword})
		if err != nil {
			t.Fatal(err)
		}
		env := domain.Envelope{ID: uuid.New(), Type: typ, Data: data, Metadata: domain.Metadata{Time: time.Now().UTC(), Command: "test"}}
		if _, err := f.es.Append(ctx, fmt.Sprintf("account-%d", i%3), domain.AnyVersion(), []domain.Envelope{env}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := f.es.ReadAll(ctx, domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.Position
	for _, rec := range all[len(before):] {
		out = append(out, rec.Position)
	}
	return out
}

func (f *fixture) MustRunner(t *testing.T) *projector.Runner {
	t.Helper()
	r, err := projector.NewRunner(projector.RunnerConfig{
		Log: f.es, Docs: f.docs, Gens: f.docs, Registry: f.reg, Reducers: []projections.Reducer{f.good, f.picky}, Locker: f.docs,
		// Small batches, so that the event that fails is inside one.
		BatchSize: 4, Linger: -1, GenerationsEvery: 10 * time.Millisecond,
		Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(f.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// MustRun runs r until the test ends, or until the returned stop.
func MustRun(t *testing.T, r *projector.Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	t.Cleanup(stop)
	return stop
}

// mustWaitFor waits until cond holds of r's statuses, which it returns by
// projection; the deadline is generous for a loaded machine.
func mustWaitFor(t *testing.T, r *projector.Runner, what string, cond func(map[string]projector.Status) bool) map[string]projector.Status {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		st, changed := r.Watch()
		m := make(map[string]projector.Status, len(st))
		for _, s := range st {
			m[s.Projection] = s
		}
		if cond(m) {
			return m
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("waiting for %s: %+v", what, st)
		}
	}
}

func (f *fixture) count(t *testing.T, red projections.Reducer) int64 {
	t.Helper()
	var c projections.Counts
	if _, err := projections.GetJSON(context.Background(), f.docs.Reader(projections.Namespace(red.Name(), 1)), "counts", "total", &c); err != nil {
		t.Fatal(err)
	}
	return c["events"]
}

// TestProjectionStopsAloneAndResumes: a projection that cannot apply an
// event stops at it after its attempts, is reported, and the others go on;
// once the fault is gone, Resume brings it to the head.
func TestProjectionStopsAloneAndResumes(t *testing.T) {
	t.Parallel()
	f := newFixture()
	first := f.MustAppend(t, 10)
	poison := first[5]
	f.picky.failWith(failAt(poison))
	r := f.MustRunner(t)
	MustRun(t, r)

	st := mustWaitFor(t, r, "picky.v1 to stop and good.v1 to reach the head", func(m map[string]projector.Status) bool {
		return m["picky.v1"].Stopped != nil && m["good.v1"].Position == first[9]
	})
	stop := st["picky.v1"].Stopped
	if stop.Position != poison || stop.Type != "user.connected.v1" || stop.Attempts != 3 || !errors.Is(stop.Err, errPoison) {
		t.Errorf("stopped %+v, want at %s after 3 attempts with the reducer's error", stop, poison)
	}
	// Readiness and metrics read the failing event and the failures so far.
	if got := st["picky.v1"]; got.Failing == nil || got.Failing.Position != poison || got.Errors != 3 || st["good.v1"].Errors != 0 {
		t.Errorf("picky.v1 failing at %+v with %d errors (good.v1: %d), want at %s with 3", got.Failing, got.Errors, st["good.v1"].Errors, poison)
	}
	// The events before it are applied: it stops at the event, not at the
	// batch that holds it.
	if got := st["picky.v1"].Position; got != first[4] {
		t.Errorf("picky.v1 at %s, want %s, the event before the one it cannot apply", got, first[4])
	}
	if got := f.count(t, f.picky); got != 5 {
		t.Errorf("picky.v1 applied %d events, want 5", got)
	}
	logged := f.log.String()
	var line string
	for _, l := range strings.Split(logged, "\n") {
		if strings.Contains(l, "level=ERROR") {
			line = l
		}
	}
	for _, want := range []string{"projection=picky.v1", "position=" + poison.String(), "type=user.connected.v1", errPoison.Error()} {
		if !strings.Contains(line, want) {
			t.Errorf("error log %q does not name %q", line, want)
		}
	}

	// The others go on.
	more := f.MustAppend(t, 3)
	head := more[2]
	mustWaitFor(t, r, "good.v1 to apply new events", func(m map[string]projector.Status) bool { return m["good.v1"].Position == head })
	if got := r.Status()[1]; got.Stopped == nil || got.Position != first[4] {
		t.Errorf("picky.v1 moved while stopped: %+v", got)
	}

	if err := r.Resume("nosuch.v1"); err == nil {
		t.Error("resuming an unknown projection succeeded")
	}
	f.picky.failWith(func(domain.Record) error { return nil })
	if err := r.Resume("picky.v1"); err != nil {
		t.Fatal(err)
	}
	resumed := mustWaitFor(t, r, "picky.v1 to resume and reach the head", func(m map[string]projector.Status) bool {
		return m["picky.v1"].Stopped == nil && m["picky.v1"].Position == head
	})
	if got := resumed["picky.v1"]; got.Failing != nil || got.Failures != 0 || got.Errors != 3 {
		t.Errorf("picky.v1 resumed: failing %+v, %d failures, %d errors; want none failing, the 3 errors still counted", got.Failing, got.Failures, got.Errors)
	}
	if got, want := f.count(t, f.picky), int64(13); got != want {
		t.Errorf("picky.v1 applied %d events after resuming, want %d", got, want)
	}
	if got, want := f.count(t, f.good), int64(13); got != want {
		t.Errorf("good.v1 applied %d events, want %d", got, want)
	}
}

// TestStoppedProjectionRetriesOnRestart: a new runner (the process
// restarted after a fix) tries the event again.
func TestStoppedProjectionRetriesOnRestart(t *testing.T) {
	t.Parallel()
	f := newFixture()
	pos := f.MustAppend(t, 6)
	f.picky.failWith(failAt(pos[2]))
	r := f.MustRunner(t)
	stop := MustRun(t, r)
	mustWaitFor(t, r, "picky.v1 to stop", func(m map[string]projector.Status) bool { return m["picky.v1"].Stopped != nil })
	stop()

	f.picky.failWith(func(domain.Record) error { return nil })
	r = f.MustRunner(t)
	MustRun(t, r)
	mustWaitFor(t, r, "picky.v1 to reach the head", func(m map[string]projector.Status) bool {
		return m["picky.v1"].Stopped == nil && m["picky.v1"].Position == pos[5]
	})
	if got := f.count(t, f.picky); got != 6 {
		t.Errorf("picky.v1 applied %d events, want 6", got)
	}
}

// TestTransientFailureRetried: an event that fails fewer times than the
// attempts allow is applied; nothing stops.
func TestTransientFailureRetried(t *testing.T) {
	t.Parallel()
	f := newFixture()
	pos := f.MustAppend(t, 6)
	var failures atomic.Int32
	f.picky.failWith(func(rec domain.Record) error {
		if rec.Position == pos[3] && failures.Add(1) <= 2 {
			return errors.New("transient")
		}
		return nil
	})
	r := f.MustRunner(t)
	MustRun(t, r)
	mustWaitFor(t, r, "picky.v1 to reach the head", func(m map[string]projector.Status) bool { return m["picky.v1"].Position == pos[5] })
	if got := r.Status()[1]; got.Stopped != nil || got.Failures != 0 {
		t.Errorf("picky.v1 %+v, want running without failures", got)
	}
	if got := f.count(t, f.picky); got != 6 {
		t.Errorf("picky.v1 applied %d events, want 6", got)
	}
}

// TestStoppedProjectionRebuilt: `ledger rebuild` (another runner on the
// same store) rebuilds a stopped projection once the fault is fixed, and
// the stopped runner swaps the new generation in and goes on.
func TestStoppedProjectionRebuilt(t *testing.T) {
	t.Parallel()
	f := newFixture()
	pos := f.MustAppend(t, 6)
	f.picky.failWith(failAt(pos[2]))
	r := f.MustRunner(t)
	MustRun(t, r)
	mustWaitFor(t, r, "picky.v1 to stop", func(m map[string]projector.Status) bool { return m["picky.v1"].Stopped != nil })

	f.picky.failWith(func(domain.Record) error { return nil })
	if err := f.MustRunner(t).Rebuild(context.Background(), "picky.v1", nil); err != nil {
		t.Fatal(err)
	}
	more := f.MustAppend(t, 2)
	mustWaitFor(t, r, "picky.v1 to go on in its new generation", func(m map[string]projector.Status) bool {
		return m["picky.v1"].Stopped == nil && m["picky.v1"].Position == more[1]
	})
	g, err := f.docs.Generations(context.Background(), "picky.v1")
	if err != nil || g.Live != 2 {
		t.Fatalf("generations %+v, %v; want 2 live", g, err)
	}
	var c projections.Counts
	if _, err := projections.GetJSON(context.Background(), f.docs.Reader(projections.Namespace("picky.v1", 2)), "counts", "total", &c); err != nil || c["events"] != 8 {
		t.Errorf("rebuilt picky.v1 applied %d events, %v; want 8", c["events"], err)
	}
}

// TestOutageIsNotTheEvents: a store out of reach or full fails every
// attempt at an event, far more than Attempts; the projection does not
// stop at that sound event, and goes on once the store is back.
func TestOutageIsNotTheEvents(t *testing.T) {
	t.Parallel()
	f := newFixture()
	pos := f.MustAppend(t, 6)
	var failures atomic.Int32
	f.picky.failWith(func(rec domain.Record) error {
		if rec.Position == pos[3] && failures.Add(1) <= 10 {
			return fmt.Errorf("apply: %w", domain.Outage(domain.ErrStoreFull, errors.New("database or disk is full (13)")))
		}
		return nil
	})
	r, err := projector.NewRunner(projector.RunnerConfig{
		Log: f.es, Docs: f.docs, Gens: f.docs, Registry: f.reg, Reducers: []projections.Reducer{f.good, f.picky}, Locker: f.docs,
		BatchSize: 4, Linger: -1, GenerationsEvery: 10 * time.Millisecond, RetryEvery: time.Millisecond,
		Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(f.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	MustRun(t, r)
	mustWaitFor(t, r, "picky.v1 to reach the head, or stop", func(m map[string]projector.Status) bool {
		return m["picky.v1"].Position == pos[5] || m["picky.v1"].Stopped != nil
	})
	if got := r.Status()[1]; got.Stopped != nil || got.Position != pos[5] {
		t.Fatalf("picky.v1 %+v, want it at the head, not stopped", got)
	}
	if n := failures.Load(); n <= 10 {
		t.Errorf("%d attempts, want the 10 failed ones and a good one", n)
	}
	if got := f.count(t, f.picky); got != 6 {
		t.Errorf("picky.v1 applied %d events, want 6", got)
	}
}
