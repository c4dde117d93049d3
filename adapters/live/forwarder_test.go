package live_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/bus/bustest"
	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/domain"
)

// appendNow appends n absences to stream, stamped with the current time,
// each in its own append. It is safe for concurrent use.
func appendNow(t testing.TB, w *world, stream string, n int) {
	for i := range n {
		typ, data, err := w.reg.Encode(domain.AbsenceRecorded{Absence: uuid.New(), Student: alice, Group: classA, Subject: fmt.Sprint(i)})
		if err != nil {
			t.Error(err)
			return
		}
		env := domain.Envelope{ID: uuid.New(), Type: typ, Data: data, Metadata: domain.Metadata{Establishment: uai, Time: time.Now()}}
		if _, err := w.log.Append(context.Background(), stream, domain.AnyVersion(), []domain.Envelope{env}); err != nil {
			t.Error(err)
			return
		}
	}
}

// collector records what the bus delivers on Topic.
type collector struct {
	mu  sync.Mutex
	got []live.Event
}

func mustCollect(t *testing.T, b *bus.Bus) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := b.Subscriber.Subscribe(ctx, live.Topic)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	go func() {
		for m := range ch {
			ev, err := live.DecodeEvent(m.Payload)
			if err != nil {
				t.Error(err)
			}
			c.mu.Lock()
			c.got = append(c.got, ev)
			c.mu.Unlock()
			m.Ack()
		}
	}()
	return c
}

// wait returns what was collected once it holds n events.
func (c *collector) wait(t *testing.T, n int) []live.Event {
	t.Helper()
	var got []live.Event
	mustWait(t, func() bool {
		c.mu.Lock()
		got = append(got[:0], c.got...)
		c.mu.Unlock()
		return len(got) >= n
	}, func() string { return fmt.Sprintf("collected %d of %d events", len(got), n) })
	return got
}

// mustOnce appends one more event and waits for it: a forwarder publishes
// in log order, so any repeat of what came before would have come before
// it. It then checks the bus carried the whole log once, in order.
func (c *collector) mustOnce(t *testing.T, w *world) []live.Event {
	t.Helper()
	appendNow(t, w, "ledger.lesson-last", 1)
	all := mustLogPositions(t, w)
	got := c.wait(t, len(all))
	mustSamePositions(t, got, all)
	return got
}

// mustLogPositions returns the positions of the whole log.
func mustLogPositions(t *testing.T, w *world) []domain.Position {
	t.Helper()
	recs, err := w.log.ReadAll(context.Background(), domain.Start, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]domain.Position, len(recs))
	for i, r := range recs {
		out[i] = r.Position
	}
	return out
}

// mustSamePositions checks that got lists exactly the positions want, in
// order.
func mustSamePositions(t *testing.T, got []live.Event, want []domain.Position) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Position != want[i] {
			t.Fatalf("event %d is at %s, want %s", i, got[i].Position, want[i])
		}
	}
}

func newForwarder(t *testing.T, w *world, b *bus.Bus, cp live.Checkpoints) *live.Forwarder {
	t.Helper()
	if cp == nil {
		cp = live.DocCheckpoints{Docs: w.docs}
	}
	f, err := live.NewForwarder(live.ForwarderConfig{
		Log: w.log, Registry: w.reg, Publisher: b.Publisher, Locker: w.docs, Checkpoints: cp,
		BatchSize: 16, RetryEvery: 10 * time.Millisecond, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestForwarderPublishesInOrderOnce: three nodes run a forwarder while
// five writers append; the bus carries every event once, in log order
// (one forwarder holds the lock).
func TestForwarderPublishesInOrderOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	c := mustCollect(t, b)
	for range 3 {
		run(t, newForwarder(t, w, b, nil).Run)
	}
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() { appendNow(t, w, fmt.Sprint("ledger.lesson-", i), 100) })
	}
	wg.Wait()
	c.wait(t, 500)
	for _, ev := range c.mustOnce(t, w) {
		if len(ev.Subjects) != 2 || ev.Subjects[0] != alice || ev.Subjects[1] != classA || ev.Type != "absence.recorded.v1" {
			t.Fatalf("event %s: subjects %v, type %s", ev.Position, ev.Subjects, ev.Type)
		}
	}
}

// TestForwarderTakeover: when the forwarding node goes away, another takes
// over from its checkpoint: nothing lost, nothing repeated.
func TestForwarderTakeover(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	c := mustCollect(t, b)
	ctxA, stopA := context.WithCancel(context.Background())
	doneA := make(chan error, 1)
	go func() { doneA <- newForwarder(t, w, b, nil).Run(ctxA) }()
	appendNow(t, w, "ledger.lesson-a", 100)
	c.wait(t, 100)
	stopA()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	cp, err := live.DocCheckpoints{Docs: w.docs}.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if all := mustLogPositions(t, w); cp != all[len(all)-1] {
		t.Fatalf("checkpoint %s after stopping, want %s", cp, all[len(all)-1])
	}
	appendNow(t, w, "ledger.lesson-b", 100)
	run(t, newForwarder(t, w, b, nil).Run)
	c.wait(t, 200)
	c.mustOnce(t, w)
}

// failingCheckpoints fails one SetCheckpoint once armed (the second call
// after arm), as a node dying between publishing a batch and checkpointing
// it.
type failingCheckpoints struct {
	live.Checkpoints
	mu    sync.Mutex
	armed bool
	calls int
}

func (f *failingCheckpoints) arm() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = true
}

func (f *failingCheckpoints) SetCheckpoint(ctx context.Context, pos domain.Position) error {
	f.mu.Lock()
	if f.armed {
		f.calls++
	}
	fail := f.calls == 2
	f.mu.Unlock()
	if fail {
		return errors.New("node died")
	}
	return f.Checkpoints.SetCheckpoint(ctx, pos)
}

// distinct returns how many positions events cover.
func distinct(events []live.Event) int {
	seen := map[domain.Position]bool{}
	for _, ev := range events {
		seen[ev.Position] = true
	}
	return len(seen)
}

// TestForwarderAtLeastOnce: a batch published but not checkpointed is
// published again; a hub delivers it once.
func TestForwarderAtLeastOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(t, b, nil)
	c := mustCollect(t, b)
	sock := mustDial(t, n, parentA, "")
	cp := &failingCheckpoints{Checkpoints: live.DocCheckpoints{Docs: w.docs}}
	run(t, newForwarder(t, w, b, cp).Run)
	w.mustForwarded(t)
	cp.arm()
	appendNow(t, w, "ledger.lesson-a", 48)
	all := mustLogPositions(t, w)
	want := all[len(all)-48:]
	deadline := time.Now().Add(patience)
	var got []live.Event
	for got = c.wait(t, 48); distinct(got) < 48; got = c.wait(t, len(got)+1) {
		if time.Now().After(deadline) {
			t.Fatalf("bus carried %d positions of 48", distinct(got))
		}
	}
	if len(got) == 48 {
		t.Fatal("no batch was published twice: the test did not exercise the failure")
	}
	frames := sock.mustFrames(48)
	for i, f := range frames {
		if f.Position != want[i] {
			t.Fatalf("frame %d at %s, want %s", i, f.Position, want[i])
		}
	}
	sock.mustNext(w.marker(parentA))
}
