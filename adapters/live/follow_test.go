package live_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/bus/bustest"
	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/domain"
)

// Sockets follow the directory and their session while they are open.
// Each test changes the directory through the log, as the directory
// commands do, then projects it: the hub re-filters once the read model
// has applied the change, before it dispatches what comes after.

// mustLiveNode returns a world with the test school and one node whose
// forwarder runs.
func mustLiveNode(t *testing.T) (*world, *node) {
	t.Helper()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(t, b, nil)
	w.mustForward(t, b.Publisher)
	return w, n
}

// TestSignOutClosesSocket: a sign-out closes the sockets opened with the
// session, and only those.
func TestSignOutClosesSocket(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(t, b, nil)
	w.mustForward(t, b.Publisher)
	phone, laptop := mustDialSession(t, n, parentA, "phone"), mustDialSession(t, n, parentA, "laptop")
	waitConnections(t, n.hub, 2)
	if err := (live.SignOuts{Publisher: b.Publisher}).SignedOut(t.Context(), "phone"); err != nil {
		t.Fatal(err)
	}
	phone.mustClosed(live.CloseSessionEnded)
	laptop.mustNext(w.absence(alice, classA))
	waitConnections(t, n.hub, 1)
}

// TestUnlinkRefiltersSocket: a relative unlinked from one of their
// children stops receiving that child's acts at once; their socket stays
// open for the other child.
func TestUnlinkRefiltersSocket(t *testing.T) {
	t.Parallel()
	w, n := mustLiveNode(t)
	w.emit(uuid.Nil, domain.AccountStream(carol), domain.RelativeLinked{Student: carol, Relative: parentA})
	w.mustProjectDirectory()
	w.mustForwarded(t)
	c := mustDial(t, n, parentA, "")
	before := w.absence(alice, classA)
	c.mustNext(before)

	w.emit(uuid.Nil, domain.AccountStream(alice), domain.RelativeUnlinked{Student: alice, Relative: parentA})
	w.mustProjectDirectory()
	w.absence(alice, classA)
	w.homework(classA)
	c.mustNext(w.absence(carol, classB))
	if r := n.hub.Stats().Refilters.Load(); r != 1 {
		t.Fatalf("%d sockets re-filtered, want 1", r)
	}
}

// TestGroupChangeRefiltersSockets: a student leaving a class stops its
// cahier de textes reaching them and their relative; joining another
// starts that one's.
func TestGroupChangeRefiltersSockets(t *testing.T) {
	t.Parallel()
	w, n := mustLiveNode(t)
	student, parent := mustDial(t, n, alice, ""), mustDial(t, n, parentA, "")
	waitConnections(t, n.hub, 2)
	w.emit(uuid.Nil, domain.GroupStream(classA), domain.MemberLeft{Group: classA, Account: alice, Role: domain.RoleStudent})
	w.emit(uuid.Nil, domain.GroupStream(classB), domain.MemberJoined{Group: classB, Account: alice, Role: domain.RoleStudent})
	w.mustProjectDirectory()
	w.homework(classA)
	pos := w.homework(classB)
	student.mustNext(pos)
	parent.mustNext(pos)
}

// TestAccountClosedClosesSocket: closing an account closes its sockets.
func TestAccountClosedClosesSocket(t *testing.T) {
	t.Parallel()
	w, n := mustLiveNode(t)
	c, other := mustDial(t, n, parentA, ""), mustDial(t, n, parentB, "")
	waitConnections(t, n.hub, 2)
	w.emit(uuid.Nil, domain.AccountStream(parentA), domain.AccountClosed{Account: parentA, Reason: "left the school"})
	w.mustProjectDirectory()
	c.mustClosed(live.CloseSessionEnded)
	other.mustNext(w.absence(bob, classA))
}

// TestSessionExpiryClosesSocket: a socket closes when its session expires,
// on the hub's clock.
func TestSessionExpiryClosesSocket(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	clock := newClock()
	n := w.mustNodeWith(t, live.HubConfig{Subscriber: b.Subscriber, Now: clock.Now}, func(c *live.HandlerConfig) {
		c.Lifetime = -1
		c.Session = func(r *http.Request) (live.Session, bool) {
			d, err := time.ParseDuration(r.Header.Get("X-Test-Expires-In"))
			return live.Session{ID: "s", Expires: clock.Now().Add(d)}, err == nil
		}
	})
	w.mustForward(t, b.Publisher)
	soon := mustDialWith(t, n, parentA, "", http.Header{"X-Test-Expires-In": {"1h"}})
	later := mustDialWith(t, n, parentA, "", http.Header{"X-Test-Expires-In": {"2h"}})
	waitConnections(t, n.hub, 2)
	clock.Add(time.Hour)
	soon.mustClosed(live.CloseSessionEnded)
	later.mustNext(w.absence(alice, classA))
}

// TestFollowAcrossNodes: on each transport, two nodes share the bus; a
// link removed re-filters the relative's sockets on both, and a sign-out
// through node A closes the session's socket on node B.
func TestFollowAcrossNodes(t *testing.T) {
	t.Parallel()
	for _, tr := range bustest.Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.mustSchool()
			w.emit(uuid.Nil, domain.AccountStream(carol), domain.RelativeLinked{Student: carol, Relative: parentA})
			w.mustProjectDirectory()
			nodes := tr.Nodes(t)
			busA, busB := nodes(), nodes()
			topic := bustest.Topic(t)
			a := w.mustNodeWith(t, live.HubConfig{Subscriber: busA.Subscriber, Topic: topic}, nil)
			bn := w.mustNodeWith(t, live.HubConfig{Subscriber: busB.Subscriber, Topic: topic}, nil)
			f, err := live.NewForwarder(live.ForwarderConfig{
				Log: w.log, Registry: w.reg, Publisher: busA.Publisher, Locker: w.docs,
				Checkpoints: live.DocCheckpoints{Docs: w.docs}, Topic: topic, RetryEvery: 20 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			run(t, f.Run)
			w.mustForwarded(t)
			ca, cb := mustDialSession(t, a, parentA, "on A"), mustDialSession(t, bn, parentA, "on B")
			waitConnections(t, a.hub, 1)
			waitConnections(t, bn.hub, 1)

			w.emit(uuid.Nil, domain.AccountStream(alice), domain.RelativeUnlinked{Student: alice, Relative: parentA})
			w.mustProjectDirectory()
			w.absence(alice, classA)
			pos := w.absence(carol, classB)
			ca.mustNext(pos)
			cb.mustNext(pos)

			ctx, cancel := context.WithTimeout(t.Context(), patience)
			defer cancel()
			if err := (live.SignOuts{Publisher: busA.Publisher, Topic: topic}).SignedOut(ctx, "on B"); err != nil {
				t.Fatal(err)
			}
			cb.mustClosed(live.CloseSessionEnded)
			ca.mustNext(w.absence(carol, classB))
		})
	}
}
