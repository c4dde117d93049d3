package projector_test

import (
	"context"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections/projector"
)

// readCounter counts by reading the log: the memory store has no count of
// its own.
type readCounter struct{ es *memory.Store }

func (c readCounter) CountAfter(ctx context.Context, after domain.Position, limit int) (int64, error) {
	recs, err := c.es.ReadAll(ctx, after, limit)
	return int64(len(recs)), err
}

// TestLagRisesAndFalls: while no runner holds a projection (its lock is
// held elsewhere), its lag grows with each event appended: the count, the
// next event and its age; once the runner takes it, the lag falls to
// nothing.
func TestLagRisesAndFalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture()
	_, release, ok, err := f.docs.TryAcquire(ctx, projector.LockName("picky.v1"))
	if err != nil || !ok {
		t.Fatalf("hold picky.v1's lock: %v %v", ok, err)
	}
	r := f.MustRunner(t)
	count := readCounter{f.es}
	if l, err := r.Lag(ctx, "picky.v1", count); err != nil || l.Behind || l.Events != 0 || l.Seconds(time.Now()) != 0 {
		t.Fatalf("empty log: lag %+v, %v; want none", l, err)
	}
	MustRun(t, r)
	first := f.MustAppend(t, 3)
	l, err := r.Lag(ctx, "picky.v1", count)
	if err != nil || !l.Behind || l.Events != 3 || l.Next != first[0] || !l.Position.IsZero() {
		t.Fatalf("3 events appended: lag %+v, %v; want 3 behind, next at %s", l, err, first[0])
	}
	if age := l.Seconds(l.Oldest.Add(90 * time.Second)); age != 90 {
		t.Errorf("age at 90 s past the oldest event: %g", age)
	}
	f.MustAppend(t, 2)
	if l, err = r.Lag(ctx, "picky.v1", count); err != nil || l.Events != 5 || l.Next != first[0] {
		t.Fatalf("5 events appended: lag %+v, %v; want 5 behind, next still at %s", l, err, first[0])
	}
	// The other projection runs: no lag.
	head := mustWaitFor(t, r, "good.v1 to reach the head", func(m map[string]projector.Status) bool {
		return m["good.v1"].Position.Seq == 5
	})["good.v1"].Position
	if l, err := r.Lag(ctx, "good.v1", nil); err != nil || l.Behind || l.Events != -1 || l.Position != head {
		t.Errorf("good.v1 at the head, not counted: lag %+v, %v", l, err)
	}

	release()
	mustWaitFor(t, r, "picky.v1 to run and reach the head", func(m map[string]projector.Status) bool {
		return m["picky.v1"].Position == head
	})
	if l, err := r.Lag(ctx, "picky.v1", count); err != nil || l.Behind || l.Events != 0 || l.Position != head {
		t.Errorf("picky.v1 caught up: lag %+v, %v; want none at %s", l, err, head)
	}
}
