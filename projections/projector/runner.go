// Package projector keeps the read models up to date with the log: the
// runner that tails the global log per projection, with a checkpoint
// written in the same transaction as the documents; catch-up and rebuild
// beside the live generation; one runner per projection across processes,
// elected by a Locker. The reducers it runs and the queries over what it
// writes are package projections'.
package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Locker elects one runner per projection across processes.
type Locker interface {
	// TryAcquire takes the lock named name if it is free. The returned
	// context ends if the lock is lost; release frees it.
	TryAcquire(ctx context.Context, name string) (held context.Context, release func(), ok bool, err error)
}

// MemoryDocs elects within one process, for replays and tests.
var _ Locker = (*projections.MemoryDocs)(nil)

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	Log      projections.Log
	Docs     projections.DocStore
	Gens     projections.GenerationStore
	Registry *domain.Registry
	Reducers []projections.Reducer
	Locker   Locker
	// BatchSize bounds the events a following projection applies per
	// transaction (default 512). On SQLite the transaction holds the
	// file's one writer, which appends wait for.
	BatchSize int
	// CatchUpBatch bounds the events applied per transaction by CatchUp
	// and Rebuild (DefaultCatchUpBatch): larger batches write each busy
	// document (a counter, a group's members) once for more events, and
	// commit less often (docs/performance.md, "Replay").
	CatchUpBatch int
	// RetryEvery is how often a runner that does not hold a projection's
	// lock tries again (default 2 s).
	RetryEvery time.Duration
	// Linger is how long a projection at the head of the log lets new
	// events gather after being woken, before it reads them
	// (DefaultLinger; negative: none). At 8 a.m., when every class calls the roll,
	// it turns a transaction per commit into one per few dozen; live
	// updates do not wait for it (the forwarder reads the log itself).
	Linger time.Duration
	// GenerationsEvery is how often a running projection looks for a
	// rebuilt generation ready to be swapped in (default 1 s).
	GenerationsEvery time.Duration
	// Attempts bounds the attempts at applying one event: after that many
	// failures in a row at the same position the projection stops there
	// (DefaultAttempts), and the others go on.
	Attempts int
	// Backoff is the wait after a projection's second failure in a row at
	// an event (the first is retried at once), doubled after each further
	// one up to MaxBackoff (DefaultBackoff, DefaultMaxBackoff). With the
	// defaults an event is tried for a minute and a half, which a database
	// restart should not outlast: while the store is down, reading the
	// checkpoint fails first, which is not the event's failure.
	Backoff, MaxBackoff time.Duration
	Logger              *slog.Logger
}

// Defaults of RunnerConfig's attempts at a failing event.
const (
	DefaultAttempts   = 10
	DefaultBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// DefaultLinger is RunnerConfig.Linger's default.
const DefaultLinger = 50 * time.Millisecond

// DefaultCatchUpBatch is RunnerConfig.CatchUpBatch's default.
const DefaultCatchUpBatch = 4096

// Validate checks the configuration and fills defaults.
func (c *RunnerConfig) Validate() error {
	switch {
	case c.Log == nil:
		return errors.New("projector: Log is required")
	case c.Docs == nil:
		return errors.New("projector: Docs is required")
	case c.Gens == nil:
		return errors.New("projector: Gens is required")
	case c.Registry == nil:
		return errors.New("projector: Registry is required")
	case c.Locker == nil:
		return errors.New("projector: Locker is required")
	}
	seen := map[string]bool{}
	for _, r := range c.Reducers {
		if seen[r.Name()] {
			return fmt.Errorf("projector: %s registered twice", r.Name())
		}
		seen[r.Name()] = true
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 512
	}
	if c.CatchUpBatch <= 0 {
		c.CatchUpBatch = DefaultCatchUpBatch
	}
	if c.RetryEvery <= 0 {
		c.RetryEvery = 2 * time.Second
	}
	if c.Linger == 0 {
		c.Linger = DefaultLinger
	}
	if c.GenerationsEvery <= 0 {
		c.GenerationsEvery = time.Second
	}
	if c.Attempts <= 0 {
		c.Attempts = DefaultAttempts
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Runner keeps projections up to date with the log. Each projection has
// its own checkpoint, stored in the same transaction as its documents: a
// crash between two batches neither skips nor applies an event twice.
//
// A projection that cannot apply an event stops at it after
// RunnerConfig.Attempts tries, alone: Status reports it, and it is tried
// again after Resume, when a rebuilt generation is swapped in (ledger
// rebuild), or when the process restarts.
type Runner struct {
	cfg RunnerConfig

	mu      sync.Mutex
	states  map[string]*state
	changed chan struct{} // closed at the next change of a state
}

// state is where one projection stands in this runner. Guarded by Runner.mu.
type state struct {
	running  bool
	position domain.Position
	failures int
	failing  *Stop // the event being retried, while failures > 0
	errors   int64
	stop     *Stop
	resume   chan struct{} // buffered: a Resume waiting to be seen
}

// NewRunner returns a runner.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, states: make(map[string]*state, len(cfg.Reducers)), changed: make(chan struct{})}
	for _, red := range cfg.Reducers {
		r.states[red.Name()] = &state{resume: make(chan struct{}, 1)}
	}
	return r, nil
}

// Status is where a projection stands in this runner.
type Status struct {
	Projection string
	// Running is set while this runner holds the projection's lock and
	// follows the log (another process may run it instead).
	Running bool
	// Position is the live generation's checkpoint as this runner last saw
	// it.
	Position domain.Position
	// Failures counts the failed attempts in a row at the next event; the
	// projection is retrying it (with backoff) until Stopped.
	Failures int
	// Failing is that event while Failures is not 0: where, what, the
	// last error, the attempts so far.
	Failing *Stop
	// Errors counts every failed attempt at an event since the runner
	// started, for metrics (a store's outage is no attempt).
	Errors int64
	// Stopped is set while the projection is stopped at an event.
	Stopped *Stop
}

// Stop says where and why a projection stopped.
type Stop struct {
	Position domain.Position // of the event it cannot apply
	Type     string          // the event's type
	Err      error           // the last attempt's
	Attempts int
	At       time.Time
}

// EventError is an event a projection failed to apply.
type EventError struct {
	Projection string
	Position   domain.Position
	Type       string
	Err        error
}

func (e *EventError) Error() string {
	return fmt.Sprintf("projection %s: event %s at %s: %v", e.Projection, e.Type, e.Position, e.Err)
}

func (e *EventError) Unwrap() error { return e.Err }

// Status returns where each projection stands, in the order of the
// reducers.
func (r *Runner) Status() []Status {
	st, _ := r.Watch()
	return st
}

// Watch returns where each projection stands, and a channel closed at the
// next change: readiness checks, metrics and tests wait on it instead of
// polling.
func (r *Runner) Watch() ([]Status, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.cfg.Reducers))
	for _, red := range r.cfg.Reducers {
		s := r.states[red.Name()]
		st := Status{Projection: red.Name(), Running: s.running, Position: s.position, Failures: s.failures, Errors: s.errors}
		if s.stop != nil {
			stop := *s.stop
			st.Stopped = &stop
		}
		if s.failing != nil && s.failures > 0 {
			failing := *s.failing
			st.Failing = &failing
		}
		out = append(out, st)
	}
	return out, r.changed
}

// Resume makes a stopped projection try its event again, once its fault
// is fixed (a reducer or a store that could not take a document); it does
// nothing to a projection that is not stopped.
func (r *Runner) Resume(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.states[name]
	if !ok {
		return fmt.Errorf("resume: no projection named %q", name)
	}
	if s.stop != nil {
		select {
		case s.resume <- struct{}{}:
		default: // one is already waiting
		}
	}
	return nil
}

// update changes name's state and wakes the watchers.
func (r *Runner) update(name string, fn func(*state)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.states[name])
	close(r.changed)
	r.changed = make(chan struct{})
}

// Reducer returns the reducer named name.
func (r *Runner) Reducer(name string) (projections.Reducer, bool) {
	for _, red := range r.cfg.Reducers {
		if red.Name() == name {
			return red, true
		}
	}
	return nil, false
}

// Run runs every projection until ctx ends. Where several processes share
// a store, each projection runs in the one process that holds its lock; the
// others wait and take over if it goes away.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, len(r.cfg.Reducers))
	for _, red := range r.cfg.Reducers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.runElected(ctx, red); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("projection %s: %w", red.Name(), err)
			}
		}()
	}
	wg.Wait()
	close(errc)
	return errors.Join(collect(errc)...)
}

func collect(errc <-chan error) []error {
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errs
}

// LockName is the election lock of a projection.
func LockName(projection string) string { return "projection:" + projection }

func (r *Runner) runElected(ctx context.Context, red projections.Reducer) error {
	log := r.cfg.Logger.With("projection", red.Name())
	for {
		held, release, ok, err := r.cfg.Locker.TryAcquire(ctx, LockName(red.Name()))
		if err != nil {
			log.WarnContext(ctx, "projection lock", "err", err)
		}
		if ok {
			log.InfoContext(ctx, "running projection")
			r.update(red.Name(), func(s *state) { s.running = true })
			err = r.follow(held, red)
			r.update(red.Name(), func(s *state) { s.running, s.failures, s.failing, s.stop = false, 0, nil, nil })
			release()
			if ctx.Err() != nil {
				return nil
			}
			log.WarnContext(ctx, "projection stopped, will retry", "err", err)
		}
		if sleep(ctx, r.cfg.RetryEvery) != nil {
			return nil
		}
	}
}

// follow applies new events to the live generation while ctx lasts, and
// swaps in a rebuilt generation once it is ready. An error it returns is
// not an event's (the store, the log): runElected tries again. An event
// that cannot be applied is tried Attempts times, then the projection
// stops at it until resumed.
func (r *Runner) follow(ctx context.Context, red projections.Reducer) error {
	var (
		gen     projections.Generations
		checked time.Time // when gen was last read
		f       failing
	)
	for {
		if checked.IsZero() || time.Since(checked) >= r.cfg.GenerationsEvery {
			var err error
			if gen, err = r.ensureLive(ctx, red.Name()); err != nil {
				return err
			}
			checked = time.Now()
			if gen.Building != 0 && gen.Ready {
				if err := r.swap(ctx, red, gen); err != nil {
					return err
				}
				checked, f = time.Time{}, failing{}
				r.update(red.Name(), func(s *state) { s.failures, s.failing, s.stop = 0, nil, nil })
				continue
			}
		}
		limit := r.cfg.BatchSize
		if f.narrowing {
			limit = 1
		}
		recs, last, err := r.step(ctx, red, projections.Namespace(red.Name(), gen.Live), limit)
		if err == nil {
			f.applied(last)
		}
		if err == nil || len(recs) > 0 {
			r.update(red.Name(), func(s *state) {
				s.position, s.failures = last, f.attempts
				if f.attempts == 0 {
					s.failing = nil
				}
			})
		}
		switch {
		case err == nil:
		case ctx.Err() != nil || len(recs) == 0 || domain.IsUnavailable(err):
			// Not the events' fault: an outage of a store is no attempt at
			// them (it would stop the projection at a sound event);
			// runElected tries again.
			return err
		case len(recs) > 1:
			// Which event? Apply them one by one, up to this batch's end.
			f.narrow(recs[len(recs)-1].Position)
			continue
		default:
			resumed, err := r.failed(ctx, red, &f, recs[0], err)
			if err != nil {
				return err
			}
			if !resumed { // a rebuilt generation is ready
				checked = time.Time{}
			}
			continue
		}
		if len(recs) == limit {
			continue // more behind
		}
		// At the head as this step read it: Wait returns at once if more
		// has become readable since.
		if err := r.cfg.Log.Wait(ctx, last); err != nil {
			return err
		}
		if err := sleep(ctx, r.cfg.Linger); err != nil {
			return err
		}
	}
}

// failing is a projection's attempts at one event.
type failing struct {
	at        domain.Position // the event
	attempts  int
	narrowing bool            // applying one event at a time...
	until     domain.Position // ...up to the end of the batch that failed
}

func (f *failing) narrow(until domain.Position) {
	f.narrowing = true
	if f.until.Less(until) {
		f.until = until
	}
}

// applied records a successful step up to last.
func (f *failing) applied(last domain.Position) {
	if f.at.Less(last) {
		f.attempts = 0
	}
	if !last.Less(f.until) {
		f.narrowing = false
	}
}

// failed handles a failure to apply rec: it waits (with backoff) before
// the next attempt, or, after the last one, stops the projection and waits
// until it is resumed (true) or a rebuilt generation is ready to be
// swapped in (false).
func (r *Runner) failed(ctx context.Context, red projections.Reducer, f *failing, rec domain.Record, cause error) (bool, error) {
	if f.attempts == 0 || f.at != rec.Position {
		f.at, f.attempts = rec.Position, 0
	}
	f.attempts++
	name := red.Name()
	log := r.cfg.Logger.With("projection", name, "position", rec.Position.String(), "type", rec.Type, "err", cause)
	at := &Stop{Position: rec.Position, Type: rec.Type, Err: cause, Attempts: f.attempts, At: time.Now()}
	if f.attempts < r.cfg.Attempts {
		wait := r.backoff(f.attempts)
		log.WarnContext(ctx, "projection cannot apply event, will retry", "attempt", f.attempts, "retry_in", wait)
		r.update(name, func(s *state) { s.failures, s.failing = f.attempts, at; s.errors++ })
		return true, sleep(ctx, wait)
	}
	// Logged first: whoever sees the stop in Status finds it in the log.
	log.ErrorContext(ctx, "projection stopped at an event it cannot apply; the others go on. Fix the cause, then resume it, restart, or rebuild it",
		"attempts", f.attempts)
	stop := at
	r.update(name, func(s *state) {
		s.failures, s.failing, s.stop = f.attempts, at, stop
		s.errors++
		select { // a Resume from before the stop is not for it
		case <-s.resume:
		default:
		}
	})
	r.mu.Lock()
	resume := r.states[name].resume
	r.mu.Unlock()
	tick := time.NewTicker(r.cfg.GenerationsEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-resume:
			log.InfoContext(ctx, "projection resumed")
			*f = failing{}
			r.update(name, func(s *state) { s.failures, s.failing, s.stop = 0, nil, nil })
			return true, nil
		case <-tick.C:
			gen, err := r.cfg.Gens.Generations(ctx, name)
			if err != nil {
				log.WarnContext(ctx, "read generations", "err", err)
				continue
			}
			if gen.Building != 0 && gen.Ready {
				log.InfoContext(ctx, "projection stopped, swapping in its rebuilt generation")
				*f = failing{}
				return false, nil
			}
		}
	}
}

// backoff is the wait after the attempts-th failure at an event. The
// first retry is at once: a lost race (a stale checkpoint, a serialization
// failure) is usually gone by then, and must not slow a projection down.
func (r *Runner) backoff(attempts int) time.Duration {
	if attempts <= 1 {
		return 0
	}
	d := r.cfg.Backoff
	for i := 2; i < attempts && d < r.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.cfg.MaxBackoff)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (r *Runner) ensureLive(ctx context.Context, name string) (projections.Generations, error) {
	gen, err := r.cfg.Gens.Generations(ctx, name)
	if err != nil {
		return gen, err
	}
	if gen.Live == 0 {
		gen.Live = 1
		if err := r.cfg.Gens.SetGenerations(ctx, name, gen); err != nil {
			return gen, err
		}
	}
	return gen, nil
}

// swap catches the rebuilt generation up to the head, makes it live and
// drops the old one. Only the lock holder calls it.
func (r *Runner) swap(ctx context.Context, red projections.Reducer, gen projections.Generations) error {
	if _, err := r.CatchUp(ctx, red, projections.Namespace(red.Name(), gen.Building), nil); err != nil {
		return err
	}
	old := gen.Live
	if err := r.cfg.Gens.SetGenerations(ctx, red.Name(), projections.Generations{Live: gen.Building}); err != nil {
		return err
	}
	r.cfg.Logger.InfoContext(ctx, "rebuilt generation swapped in", "projection", red.Name(), "live", gen.Building, "dropped", old)
	return r.cfg.Gens.DropNamespace(ctx, projections.Namespace(red.Name(), old))
}

// Step applies the next batch of events after ns's checkpoint to ns, in one
// transaction with the new checkpoint. It returns how many events it
// applied and the checkpoint after them. An event of a one-event batch
// that cannot be decoded or applied is an *EventError.
func (r *Runner) Step(ctx context.Context, red projections.Reducer, ns string) (int, domain.Position, error) {
	recs, last, err := r.step(ctx, red, ns, r.cfg.BatchSize)
	if err != nil {
		return 0, last, err
	}
	return len(recs), last, nil
}

// step applies at most limit events after ns's checkpoint. It returns the
// records it read, even when applying them failed (the store or the log
// failed when it returns none), and the checkpoint after them (before
// them when it fails).
func (r *Runner) step(ctx context.Context, red projections.Reducer, ns string, limit int) ([]domain.Record, domain.Position, error) {
	from, err := r.cfg.Docs.Checkpoint(ctx, ns)
	if err != nil {
		return nil, from, err
	}
	recs, err := r.cfg.Log.ReadAll(ctx, from, limit)
	if err != nil || len(recs) == 0 {
		return nil, from, err
	}
	events, err := projections.DecodeAll(r.cfg.Registry, recs)
	if err == nil {
		_, err = r.apply(ctx, red, ns, recs, events)
	}
	if err != nil {
		if len(recs) == 1 {
			err = &EventError{Projection: red.Name(), Position: recs[0].Position, Type: recs[0].Type, Err: err}
		}
		return recs, from, err
	}
	return recs, recs[len(recs)-1].Position, nil
}

// apply applies recs (decoded: events) to namespace ns in one transaction
// that also moves its checkpoint to the last of them.
func (r *Runner) apply(ctx context.Context, red projections.Reducer, ns string, recs []domain.Record, events []domain.Event) (domain.Position, error) {
	last := recs[len(recs)-1].Position
	err := r.cfg.Docs.Update(ctx, ns, func(tx projections.DocTx) error {
		docs, err := changes(ctx, red, tx, recs, events)
		if err != nil {
			return err
		}
		return write(ctx, tx, docs, last)
	})
	if err != nil {
		return last, fmt.Errorf("apply up to %s: %w", last, err)
	}
	return last, nil
}

// changes applies recs (decoded: events) to a batch over r and returns
// the documents it changed.
func changes(ctx context.Context, red projections.Reducer, r projections.DocReader, recs []domain.Record, events []domain.Event) ([]projections.Doc, error) {
	b := projections.NewBatch(r)
	if err := projections.ApplyDecoded(ctx, red, b, recs, events); err != nil {
		return nil, err
	}
	return b.Changes()
}

// write writes docs and moves the checkpoint to last, in tx.
func write(ctx context.Context, tx projections.DocTx, docs []projections.Doc, last domain.Position) error {
	if err := tx.Put(ctx, docs); err != nil {
		return err
	}
	return tx.SetCheckpoint(ctx, last)
}

// Progress reports a catch-up's advance: events done so far.
type Progress func(done int)

// CatchUp steps ns until it has applied every event readable now.
func (r *Runner) CatchUp(ctx context.Context, red projections.Reducer, ns string, progress Progress) (int, error) {
	from, err := r.cfg.Docs.Checkpoint(ctx, ns)
	if err != nil {
		return 0, err
	}
	// The next batch is read and decoded while this one is applied:
	// reading and decoding the log is about a quarter of a replay's time.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type batch struct {
		recs   []domain.Record
		events []domain.Event
		err    error
	}
	batches := make(chan batch, 1)
	go func() {
		defer close(batches)
		for pos := from; ; {
			recs, err := r.cfg.Log.ReadAll(ctx, pos, r.cfg.CatchUpBatch)
			var events []domain.Event
			if err == nil {
				events, err = projections.DecodeAll(r.cfg.Registry, recs)
			}
			select {
			case batches <- batch{recs, events, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(recs) == 0 {
				return
			}
			pos = recs[len(recs)-1].Position
		}
	}()
	// Each batch is applied while the one before it commits, through a
	// reader that sees that batch's documents over the namespace as
	// committed; a batch's commit starts once the one before it has
	// committed, so checkpoints move in order. Writing the documents is
	// about half of a replay's time on SQLite.
	var (
		total     int
		inflight  *pendingCommit
		committed = func() error {
			if inflight == nil {
				return nil
			}
			err := <-inflight.done
			if err == nil {
				total += inflight.events
				if progress != nil {
					progress(total)
				}
			}
			inflight = nil
			return err
		}
	)
	// Nothing is left writing to ns once CatchUp returns.
	defer func() { _ = committed() }()
	for b := range batches {
		if b.err != nil {
			return total, errors.Join(b.err, committed())
		}
		if len(b.recs) == 0 {
			return total, committed()
		}
		var rd projections.DocReader = r.cfg.Docs.Reader(ns)
		if inflight != nil {
			rd = newPending(rd, inflight.docs)
		}
		last := b.recs[len(b.recs)-1].Position
		docs, err := changes(ctx, red, rd, b.recs, b.events)
		if err != nil {
			return total, errors.Join(fmt.Errorf("apply up to %s: %w", last, err), committed())
		}
		if err := committed(); err != nil {
			return total, err
		}
		inflight = r.commit(ctx, ns, docs, last, len(b.recs))
	}
	if err := committed(); err != nil {
		return total, err
	}
	return total, ctx.Err()
}

// pendingCommit is a batch's documents being written with its checkpoint.
type pendingCommit struct {
	docs   []projections.Doc
	events int
	done   chan error // receives the outcome, once
}

// commit writes docs and moves ns's checkpoint to last in one transaction,
// in a goroutine of its own.
func (r *Runner) commit(ctx context.Context, ns string, docs []projections.Doc, last domain.Position, events int) *pendingCommit {
	c := &pendingCommit{docs: docs, events: events, done: make(chan error, 1)}
	go func() {
		err := r.cfg.Docs.Update(ctx, ns, func(tx projections.DocTx) error { return write(ctx, tx, docs, last) })
		if err != nil {
			err = fmt.Errorf("apply up to %s: %w", last, err)
		}
		c.done <- err
	}()
	return c
}

// Rebuild builds a new generation of a projection from the start of the
// log beside the live one, then marks it ready. If no other process holds
// the projection's lock, it swaps it in itself; otherwise the lock holder
// swaps it in at its next step, and Rebuild waits for that.
func (r *Runner) Rebuild(ctx context.Context, name string, progress Progress) error {
	red, ok := r.Reducer(name)
	if !ok {
		return fmt.Errorf("rebuild: no projection named %q", name)
	}
	gen, err := r.ensureLive(ctx, name)
	if err != nil {
		return err
	}
	if gen.Building == 0 {
		gen.Building, gen.Ready = gen.Live+1, false
		if err := r.cfg.Gens.DropNamespace(ctx, projections.Namespace(name, gen.Building)); err != nil {
			return err
		}
		if err := r.cfg.Gens.SetGenerations(ctx, name, gen); err != nil {
			return err
		}
	}
	if _, err := r.CatchUp(ctx, red, projections.Namespace(name, gen.Building), progress); err != nil {
		return err
	}
	gen.Ready = true
	if err := r.cfg.Gens.SetGenerations(ctx, name, gen); err != nil {
		return err
	}
	held, release, ok, err := r.cfg.Locker.TryAcquire(ctx, LockName(name))
	if err != nil {
		return err
	}
	if ok {
		defer release()
		return r.swap(held, red, gen)
	}
	for {
		now, err := r.cfg.Gens.Generations(ctx, name)
		if err != nil {
			return err
		}
		if now.Live == gen.Building {
			return nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// Reducers returns the runner's reducers.
func (r *Runner) Reducers() []projections.Reducer { return r.cfg.Reducers }
