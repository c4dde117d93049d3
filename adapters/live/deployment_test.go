package live_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/bus/bustest"
	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/domain"
)

// deployment is one deployment of the ledger in a test: its own log and
// read models (a world), a bus of its own name on the shared server, a
// forwarder and a node.
type deployment struct {
	name string
	w    *world
	bus  *bus.Bus
	node *node
}

// mustDeployment starts a deployment named name on the shared server:
// the test school, a node whose hub takes the deployment's messages, and
// a forwarder stamping them.
func mustDeployment(t *testing.T, name string, open func(deployment string) *bus.Bus) *deployment {
	t.Helper()
	w := newWorld(t)
	w.mustSchool()
	b := open(name)
	n := w.mustNodeWith(t, live.HubConfig{Subscriber: b.Subscriber, Deployment: b.Deployment}, nil)
	f, err := live.NewForwarder(live.ForwarderConfig{
		Log: w.log, Registry: w.reg, Publisher: open(name).Publisher, Locker: w.docs, Deployment: b.Deployment,
		Checkpoints: live.DocCheckpoints{Docs: w.docs}, RetryEvery: 20 * time.Millisecond, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	run(t, f.Run)
	w.mustForwarded(t)
	return &deployment{name: name, w: w, bus: b, node: n}
}

// mustIDs returns the ids of the events of w's log at positions.
func mustIDs(t *testing.T, w *world, positions []domain.Position) []uuid.UUID {
	t.Helper()
	recs, err := w.log.ReadAll(context.Background(), domain.Start, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	byPos := map[domain.Position]uuid.UUID{}
	for _, r := range recs {
		byPos[r.Position] = r.ID
	}
	ids := make([]uuid.UUID, len(positions))
	for i, p := range positions {
		ids[i] = byPos[p]
	}
	return ids
}

// TestDeploymentsShareABus: two deployments share one NATS server, or one
// bus database on a Postgres cluster, as unrelated schools may. Their
// directories use the same ids (as the demo's do) and their logs the same
// positions. Each writes absences of the same child, interleaved; each
// parent's socket receives exactly their own deployment's, in order, and
// a sign-out in one deployment closes no socket of the other.
//
// On GoChannel both deployments are on one in-process bus that does not
// keep them apart: the hubs' check alone does.
func TestDeploymentsShareABus(t *testing.T) {
	t.Parallel()
	for _, tr := range bustest.Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			t.Parallel()
			open := tr.Deployments(t)
			deps := []*deployment{
				mustDeployment(t, bustest.Deployment(t), open),
				mustDeployment(t, bustest.Deployment(t), open),
			}
			socks := make([]*client, len(deps))
			for i, d := range deps {
				socks[i] = mustDialSession(t, d.node, parentA, "same session id")
				waitConnections(t, d.node.hub, 1)
			}

			const n = 20
			want := make([][]domain.Position, len(deps))
			for range n {
				for i, d := range deps {
					want[i] = append(want[i], d.w.absence(alice, classA))
				}
			}
			for i, d := range deps {
				want[i] = append(want[i], d.w.marker(parentA))
			}
			for i, d := range deps {
				ids := mustIDs(t, d.w, want[i])
				for j, f := range socks[i].mustFrames(len(ids)) {
					if f.ID != ids[j] || f.Position != want[i][j] {
						t.Fatalf("deployment %s: frame %d is %s at %s (%s), want its own %s at %s", d.name, j, f.ID, f.Position, f.Type, ids[j], want[i][j])
					}
				}
			}

			ctx, cancel := context.WithTimeout(t.Context(), patience)
			defer cancel()
			if err := (live.SignOuts{Publisher: deps[1].bus.Publisher, Deployment: deps[1].name}).SignedOut(ctx, "same session id"); err != nil {
				t.Fatal(err)
			}
			socks[1].mustClosed(live.CloseSessionEnded)
			socks[0].mustNext(deps[0].w.marker(parentA))

			for _, d := range deps {
				foreign := d.node.hub.Stats().Foreign.Load()
				if tr.Name == bus.GoChannel && foreign == 0 {
					t.Errorf("deployment %s: no foreign message reached the hub on a shared in-process bus: the check was not exercised", d.name)
				}
				if tr.Name != bus.GoChannel && foreign != 0 {
					t.Errorf("deployment %s: %d messages of the other deployment reached the hub through %s", d.name, foreign, tr.Name)
				}
			}
		})
	}
}

// TestHubDropsUnstampedMessages: a hub of a deployment drops a message
// without the stamp (a node of an older release, a hand-made publisher),
// and a hub without a deployment drops a stamped one.
func TestHubDropsUnstampedMessages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	named := w.mustNodeWith(t, live.HubConfig{Subscriber: b.Subscriber, Deployment: "school"}, nil)
	unnamed := w.mustNodeWith(t, live.HubConfig{Subscriber: b.Subscriber}, nil)
	w.mustForward(t, b.Publisher) // stamps nothing
	mustDial(t, named, parentA, "")
	cu := mustDial(t, unnamed, parentA, "")
	waitConnections(t, named.hub, 1)
	waitConnections(t, unnamed.hub, 1)
	// Publish returns once both hubs have handled the event (GoChannel).
	cu.mustNext(w.absence(alice, classA))
	if err := (live.SignOuts{Publisher: b.Publisher, Deployment: "school"}).SignedOut(t.Context(), "x"); err != nil {
		t.Fatal(err)
	}
	mustWait(t, func() bool { return unnamed.hub.Stats().Foreign.Load() == 1 }, func() string {
		return fmt.Sprintf("the hub without a deployment dropped %d stamped messages, want 1", unnamed.hub.Stats().Foreign.Load())
	})
	if got := named.hub.Stats().Events.Load(); got != 0 {
		t.Fatalf("the deployment's hub dispatched %d unstamped events", got)
	}
	if got := named.hub.Stats().Foreign.Load(); got == 0 {
		t.Fatal("the deployment's hub counted no foreign message")
	}
}
