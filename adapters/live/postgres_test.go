package live_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/bus/bustest"
	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/domain"
)

// pgNode is one node's view of a shared Postgres: its own pool, event
// store, read-model store (advisory locks held on its own connection) and
// bus.
type pgNode struct {
	log  *postgres.Store
	docs *readstore.Store
	bus  *bus.Bus
}

func mustPGNode(t *testing.T, dsn string) *pgNode {
	t.Helper()
	ctx := context.Background()
	es, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := es.Migrate(ctx); err != nil {
		es.Close()
		t.Fatal(err)
	}
	docs := readstore.NewPostgres(es.Pool())
	t.Cleanup(func() {
		if err := errors.Join(docs.Close(), es.Close()); err != nil {
			t.Error(err)
		}
	})
	return &pgNode{log: es, docs: docs, bus: bustest.MustOpen(t, bus.Config{Kind: bus.Postgres, PostgresDSN: dsn, PollInterval: 20 * time.Millisecond})}
}

// TestForwarderTakeoverOnPostgres: two nodes on one Postgres, each running
// a forwarder elected by an advisory lock and publishing on the Postgres
// bus. Node A forwards; it goes away; node B takes over from A's
// checkpoint. A third node's subscription receives every event once, in
// log order.
func TestForwarderTakeoverOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.MustDatabase(t)
	a, b, watcher := mustPGNode(t, dsn), mustPGNode(t, dsn), mustPGNode(t, dsn)
	reg := domain.NewRegistry()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ch, err := watcher.bus.Subscriber.Subscribe(ctx, live.Topic)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan live.Event, 1000)
	go func() {
		for m := range ch {
			ev, err := live.DecodeEvent(m.Payload)
			if err != nil {
				t.Error(err)
			}
			m.Ack()
			got <- ev
		}
	}()
	forwarder := func(n *pgNode) *live.Forwarder {
		f, err := live.NewForwarder(live.ForwarderConfig{
			Log: n.log, Registry: reg, Publisher: n.bus.Publisher, Locker: n.docs,
			Checkpoints: live.DocCheckpoints{Docs: n.docs}, BatchSize: 8, RetryEvery: 50 * time.Millisecond, Logger: testLogger(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	appendSome := func(n int) []domain.Position {
		var out []domain.Position
		for i := range n {
			typ, data, err := reg.Encode(domain.AbsenceRecorded{Absence: uuid.New(), Student: alice, Group: classA, Subject: "maths"})
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.log.Append(ctx, domain.LessonStream(uuid.New()), domain.NoStream(), []domain.Envelope{{
				ID: uuid.New(), Type: typ, Data: data, Metadata: domain.Metadata{Establishment: uai, Time: time.Now(), Command: "test"},
			}})
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
			out = append(out, res.Position)
		}
		return out
	}
	// receive checks that the events come in order without a gap. A
	// batch published but not checkpointed when A stops is published
	// again by B (at least once): repeats are skipped, as hubs do.
	var last domain.Position
	receive := func(want []domain.Position) {
		t.Helper()
		for i := 0; i < len(want); {
			select {
			case ev := <-got:
				if !last.Less(ev.Position) {
					continue
				}
				if ev.Position != want[i] {
					t.Fatalf("event %d at %s, want %s", i, ev.Position, want[i])
				}
				last = ev.Position
				i++
			case <-ctx.Done():
				t.Fatalf("received %d of %d events", i, len(want))
			}
		}
	}

	ctxA, stopA := context.WithCancel(ctx)
	doneA := make(chan error, 1)
	go func() { doneA <- forwarder(a).Run(ctxA) }()
	// A holds the lock before B starts.
	first := appendSome(20)
	receive(first)
	run(t, forwarder(b).Run)
	second := appendSome(20)
	receive(second)
	stopA()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	third := appendSome(20)
	receive(third)
	// One more, received next: a forwarder publishes in log order, so a
	// repeat of the above would have come before it.
	marker := appendSome(1)
	select {
	case ev := <-got:
		if ev.Position != marker[0] {
			t.Fatalf("unexpected event %s after the takeover, want %s", ev.Position, marker[0])
		}
	case <-ctx.Done():
		t.Fatal("the last event did not come")
	}
	mustWait(t, func() bool {
		cp, err := live.DocCheckpoints{Docs: b.docs}.Checkpoint(ctx)
		return err == nil && cp == marker[0]
	}, func() string { return "the forwarder's checkpoint did not reach the last event" })
}
