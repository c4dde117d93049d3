package erasure_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/erasure"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// scrubs is a scrub the test lets run, one call at a time, and can make
// fail.
type scrubs struct {
	t       *testing.T
	w       *webtest.World
	started chan struct{}
	finish  chan error
	mu      sync.Mutex
	calls   int
}

func newScrubs(t *testing.T, w *webtest.World) *scrubs {
	return &scrubs{t: t, w: w, started: make(chan struct{}), finish: make(chan error)}
}

func (s *scrubs) Scrub(ctx context.Context, progress func(erasure.Progress)) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	// The jobs hold the scrub's lock while it runs.
	if _, release, ok, err := s.w.Docs.TryAcquire(ctx, erasure.LockName); err != nil || ok {
		if ok {
			release()
		}
		s.t.Errorf("the scrub runs without holding its lock (%v)", err)
	}
	progress(erasure.Progress{Step: "rebuild", Projection: "studentfile.v1", Index: 2, Projections: 12, Events: 10, Total: 100})
	s.started <- struct{}{}
	return <-s.finish
}

func (s *scrubs) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// TestJobs: an erasure is recorded at once and scrubbed in the
// background; erasures that arrive during a scrub wait and one scrub
// covers them; a second erasure is refused while the first is scrubbed or
// once it is, resumed when its scrub failed; only an administrator of the
// person's establishment erases and reads erasures; a node that starts
// resumes the erasures the log records with no scrub.
func TestJobs(t *testing.T) {
	w := webtest.NewWorld(t)
	ctx := context.Background()
	people := make([]uuid.UUID, 5)
	for i := range people {
		people[i] = uuid.New()
		w.Must(w.H.OpenAccount(ctx, commands.Request{System: true}, domain.OpenAccount{
			Account: people[i], Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: "Élève"}))
	}
	w.CatchUp()
	admin := mustActor(t, w, webtest.AsAdmin)
	s := newScrubs(t, w)
	jobs := mustJobs(t, w, s, nil)
	erase := func(who uuid.UUID) (*erasure.Erasure, error) {
		return jobs.Erase(ctx, commands.Request{Actor: admin.Account}, admin, domain.EraseSubject{Subject: who, Reason: "demande", Basis: "RGPD art. 17"})
	}
	a, b, c, d, e := people[0], people[1], people[2], people[3], people[4]

	if _, err := erase(a); err != nil {
		t.Fatal(err)
	}
	<-s.started
	st := mustStatus(t, jobs, admin, a, erasure.StateRunning)
	if st.Progress == nil || st.Progress.Projection != "studentfile.v1" || st.Reason != "demande" || st.By != admin.Account {
		t.Errorf("a running erasure: %+v", st)
	}
	// During the scrub: two more wait; the first again is refused.
	for _, p := range []uuid.UUID{b, c} {
		if got, err := erase(p); err != nil || got.State != erasure.StatePending {
			t.Fatalf("an erasure during a scrub: %+v, %v", got, err)
		}
	}
	if _, err := erase(a); !errors.Is(err, domain.ErrErasureExists) {
		t.Errorf("a second erasure during its scrub: %v", err)
	}
	s.finish <- nil
	// One scrub covers both.
	<-s.started
	mustStatus(t, jobs, admin, a, erasure.StateDone)
	mustStatus(t, jobs, admin, b, erasure.StateRunning)
	mustStatus(t, jobs, admin, c, erasure.StateRunning)
	s.finish <- nil
	mustEventually(t, func() bool { return status(t, jobs, admin, c).State == erasure.StateDone })
	mustStatus(t, jobs, admin, b, erasure.StateDone)
	if n := s.count(); n != 2 {
		t.Errorf("%d scrubs for three erasures, two of them during the first", n)
	}
	if _, err := erase(a); !errors.Is(err, domain.ErrErasureExists) {
		t.Errorf("a second erasure once scrubbed: %v", err)
	}

	// A scrub that fails; the erasure again resumes it.
	if _, err := erase(d); err != nil {
		t.Fatal(err)
	}
	<-s.started
	s.finish <- errors.New("disk full")
	mustEventually(t, func() bool { return status(t, jobs, admin, d).State == erasure.StateFailed })
	if st := status(t, jobs, admin, d); st.Error != "disk full" || st.Failed.IsZero() {
		t.Errorf("a failed scrub: %+v", st)
	}
	if got, err := erase(d); err != nil || (got.State != erasure.StatePending && got.State != erasure.StateRunning) {
		t.Fatalf("the erasure again after a failed scrub: %+v, %v", got, err)
	}
	<-s.started
	s.finish <- nil
	mustEventually(t, func() bool { return status(t, jobs, admin, d).State == erasure.StateDone })

	// The log records the scrubs; the read model, once caught up, lists
	// them, newest first.
	w.CatchUp()
	scrubbed := map[uuid.UUID]bool{}
	for _, r := range w.Records(w.Store) {
		if ev, err := w.Reg.DecodeRecord(r); err == nil {
			if sc, ok := ev.(domain.SubjectScrubbed); ok {
				scrubbed[sc.Subject] = true
			}
		}
	}
	for _, p := range []uuid.UUID{a, b, c, d} {
		if !scrubbed[p] {
			t.Errorf("no privacy.subject_scrubbed.v1 for %s", p)
		}
	}
	list, err := jobs.List(ctx, admin, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 {
		t.Errorf("the erasures listed: %+v", list)
	}
	for _, l := range list {
		if l.State != erasure.StateDone || l.Scrubbed.IsZero() {
			t.Errorf("listed: %+v", l)
		}
	}

	// Who may.
	head := mustActor(t, w, webtest.AsHead)
	if _, err := jobs.Erase(ctx, commands.Request{Actor: head.Account}, head, domain.EraseSubject{Subject: e, Reason: "demande", Basis: "RGPD art. 17"}); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("the head erased: %v", err)
	}
	if _, err := jobs.Status(ctx, head, a); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("the head read an erasure: %v", err)
	}
	if _, err := jobs.List(ctx, head, 0); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("the head listed the erasures: %v", err)
	}
	if _, err := jobs.Status(ctx, admin, e); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("the erasure of a person not erased: %v", err)
	}

	// A node that starts resumes an erasure recorded with no scrub.
	w.Must(w.H.EraseSubject(ctx, commands.Request{System: true}, domain.EraseSubject{Subject: e, Reason: "demande", Basis: "RGPD art. 17"}))
	w.CatchUp()
	s2 := newScrubs(t, w)
	other := mustJobs(t, w, s2, func(ctx context.Context) (bool, error) { return true, nil })
	<-s2.started
	mustStatus(t, other, admin, e, erasure.StateRunning)
	s2.finish <- nil
	mustEventually(t, func() bool { return status(t, other, admin, e).State == erasure.StateDone })
	if n := s2.count(); n != 1 {
		t.Errorf("the starting node scrubbed %d times", n)
	}
}

func mustJobs(t *testing.T, w *webtest.World, s erasure.Scrubber, caughtUp erasure.CaughtUp) *erasure.Jobs {
	t.Helper()
	jobs, err := erasure.New(erasure.Config{Handlers: w.H, Records: w.Queries, Scrubber: s, Locker: w.Docs, CaughtUp: caughtUp,
		Retry: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		jobs.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return jobs
}

func mustActor(t *testing.T, w *webtest.World, profile string) domain.Actor {
	t.Helper()
	acc, err := w.Queries.Account(context.Background(), w.Accounts[profile])
	if err != nil {
		t.Fatal(err)
	}
	return domain.Actor{Account: acc.ID, Profile: acc.Profile, Function: acc.Function, Establishment: acc.Establishment}
}

func status(t *testing.T, jobs *erasure.Jobs, viewer domain.Actor, who uuid.UUID) *erasure.Erasure {
	t.Helper()
	e, err := jobs.Status(context.Background(), viewer, who)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustStatus(t *testing.T, jobs *erasure.Jobs, viewer domain.Actor, who uuid.UUID, want erasure.State) *erasure.Erasure {
	t.Helper()
	e := status(t, jobs, viewer, who)
	if e.State != want {
		t.Fatalf("erasure of %s: %s, want %s (%+v)", who, e.State, want, e)
	}
	return e
}

// mustEventually waits for cond, which the jobs' goroutine makes true.
func mustEventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the condition never held")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
