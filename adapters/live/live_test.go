package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/bus/bustest"
	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// TestParentSeesOwnChildOnly: through the whole path (log, forwarder,
// in-process bus, hub, socket) a parent receives their child's absence;
// the parent of a classmate and the parent of a child of another class
// receive nothing; the class's teacher and the establishment's staff
// receive it, another class's teacher and another establishment's staff
// do not.
func TestParentSeesOwnChildOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(t, b, nil)
	w.mustForward(t, b.Publisher)

	sockets := map[uuid.UUID]*client{}
	for _, a := range []uuid.UUID{parentA, parentB, parentC, alice, bob, teacher, teacherB, staff, otherStaff} {
		sockets[a] = mustDial(t, n, a, "")
	}
	pos := w.absence(alice, classA)
	for _, a := range []uuid.UUID{parentA, alice, teacher, staff} {
		f := sockets[a].mustFrames(1)[0]
		if f.Position != pos || f.Type != "absence.recorded.v1" {
			t.Fatalf("%s got %s %s, want the absence at %s", a, f.Position, f.Type, pos)
		}
		var e domain.AbsenceRecorded
		if err := json.Unmarshal(f.Data, &e); err != nil || e.Student != alice {
			t.Fatalf("%s got data %s (%v)", a, f.Data, err)
		}
	}
	others := []uuid.UUID{parentB, parentC, bob, teacherB, otherStaff}
	m := w.marker(others...)
	for _, a := range others {
		sockets[a].mustNext(m)
	}
}

// TestFamiliesSeeTheirGroupsHomework: homework reaches the students of the
// group and their parents only.
func TestFamiliesSeeTheirGroupsHomework(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(t, b, nil)
	w.mustForward(t, b.Publisher)
	a, bb, c := mustDial(t, n, parentA, ""), mustDial(t, n, parentB, ""), mustDial(t, n, parentC, "")
	pos := w.homework(classA)
	for _, s := range []*client{a, bb} {
		if f := s.mustFrames(1)[0]; f.Position != pos {
			t.Fatalf("got %s, want the homework at %s", f.Position, pos)
		}
	}
	c.mustNext(w.marker(parentC))
}

// TestIncidentRedactedForFamilies: a parent sees the incident their child
// is a protagonist of, without its description or the other protagonists;
// staff see it whole.
func TestIncidentRedactedForFamilies(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(t, b, nil)
	w.mustForward(t, b.Publisher)
	pa, pb, st := mustDial(t, n, parentA, ""), mustDial(t, n, parentB, ""), mustDial(t, n, staff, "")
	inc := id("incident")
	w.emit(staff, domain.IncidentStream(inc), domain.IncidentReported{
		Incident: inc, Establishment: uai, OccurredAt: w.now, Place: "cour", Seriousness: domain.SeriousnessMinor,
		Description: "Carol pushed Alice", Protagonists: []domain.Protagonist{
			{Account: carol, Role: domain.ProtagonistAuthor}, {Account: alice, Role: domain.ProtagonistVictim},
		},
	})
	f := pa.mustFrames(1)[0]
	if strings.Contains(string(f.Data), "Carol") || strings.Contains(string(f.Data), carol.String()) || strings.Contains(string(f.Data), "description") {
		t.Fatalf("parent of the victim got %s", f.Data)
	}
	var e domain.IncidentReported
	if err := json.Unmarshal(f.Data, &e); err != nil || len(e.Protagonists) != 1 || e.Protagonists[0].Account != alice || e.Place != "cour" {
		t.Fatalf("parent of the victim got %s (%v)", f.Data, err)
	}
	if f := st.mustFrames(1)[0]; !strings.Contains(string(f.Data), "Carol pushed Alice") {
		t.Fatalf("staff got %s", f.Data)
	}
	pb.mustNext(w.marker(parentB))
}

// TestCatchUpNoGapNoDuplicate: a parent reconnecting with ?after= gets
// what they missed, then what comes live, each once and in order, while
// events keep being recorded during the catch-up: some are read by the
// catch-up and dispatched by the hub too, some only dispatched.
func TestCatchUpNoGapNoDuplicate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	hookLog := &duringCatchUp{Log: w.log}
	n := w.mustNode(t, b, func(c *live.HandlerConfig) { c.Log = hookLog })
	w.mustForward(t, b.Publisher)

	// The parent's socket saw everything up to `seen`; then they went
	// away while 300 more events were recorded, one in two about alice.
	seen := w.absence(alice, classA)
	for i := range 300 {
		if i%2 == 0 {
			w.absence(alice, classA)
		} else {
			w.absence(carol, classB)
		}
	}
	w.mustForwarded(t)
	// During the first catch-up read, 40 more are recorded (and
	// dispatched before the catch-up reads them); after the catch-up's
	// last read, 20 more (only the hub has them).
	hookLog.hooks(func() {
		for range 40 {
			w.absence(alice, classA)
		}
		if err := w.forwarded(); err != nil {
			t.Error(err)
		}
	}, func() {
		for range 20 {
			w.absence(alice, classA)
		}
	})
	c := mustDial(t, n, parentA, "?after="+seen.String())
	select {
	case <-hookLog.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the catch-up did not finish")
	}
	want := positionsAbout(t, w, alice, seen)
	if len(want) != 150+40+20 {
		t.Fatalf("the log has %d absences of alice after %s", len(want), seen)
	}
	got := c.mustFrames(len(want))
	for i, f := range got {
		if f.Position != want[i] {
			t.Fatalf("frame %d is %s, want %s", i, f.Position, want[i])
		}
	}
	c.mustNext(w.marker(parentA))
	if r := hookLog.readCount(); r < 3 {
		t.Fatalf("the catch-up read the log %d times: the test did not exercise it", r)
	}
}

// positionsAbout lists the positions after `after` of the absences of
// student, from the log.
func positionsAbout(t *testing.T, w *world, student uuid.UUID, after domain.Position) []domain.Position {
	t.Helper()
	recs, err := w.log.ReadAll(t.Context(), after, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.Position
	for _, r := range recs {
		var e domain.AbsenceRecorded
		if r.Type == "absence.recorded.v1" && json.Unmarshal(r.Data, &e) == nil && e.Student == student {
			out = append(out, r.Position)
		}
	}
	return out
}

// TestSlowConsumerDropped: a client that stops reading is closed once its
// queue is full, while another client receives every event and the hub
// never waits.
func TestSlowConsumerDropped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(t, b, func(c *live.HandlerConfig) { c.QueueSize = 16 })
	// The slow client: a socket nobody reads.
	slow, _, err := dial(n, staff, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast := mustDial(t, n, staff, "")
	waitConnections(t, n.hub, 2)

	// Big frames fill the slow client's TCP window quickly. The fast
	// client reads each frame before the next is dispatched.
	big, _ := json.Marshal(map[string]string{"pad": strings.Repeat("x", 64<<10)})
	const events = 400
	var slowest time.Duration
	for i := range events {
		start := time.Now()
		n.hub.Dispatch(&live.Event{
			Position: domain.Position{Seq: uint64(1000 + i)}, ID: uuid.New(), Type: "test.padding.v1",
			Time: time.Now(), Establishment: uai, Data: big,
		})
		slowest = max(slowest, time.Since(start))
		if f := fast.mustFrames(1)[0]; f.Position.Seq != uint64(1000+i) {
			t.Fatalf("fast client got %s, want %d", f.Position, 1000+i)
		}
	}
	// A hub that waited for the slow socket would wait for its write
	// deadline (WriteWait, 10 s).
	if slowest > 5*time.Second {
		t.Errorf("a dispatch took %s: the hub waited for a socket", slowest)
	}
	if d := n.hub.Stats().Dropped.Load(); d != 1 {
		t.Fatalf("dropped %d sockets, want the slow one", d)
	}
	waitConnections(t, n.hub, 1)
	// The slow client finds its socket closed after what was sent.
	_ = slow.SetReadDeadline(time.Now().Add(patience))
	for {
		if _, _, err := slow.ReadMessage(); err != nil {
			// The close frame is sent if the client's window has room;
			// otherwise the connection just closes.
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code != live.CloseTooSlow && ce.Code != websocket.CloseAbnormalClosure {
				t.Fatalf("slow client closed with %d, want %d", ce.Code, live.CloseTooSlow)
			}
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("slow client's socket is still open")
			}
			break
		}
	}
}

func waitConnections(t testing.TB, h *live.Hub, n int) {
	t.Helper()
	mustWait(t, func() bool { return h.Connections() == n },
		func() string { return fmt.Sprintf("hub has %d connections, want %d", h.Connections(), n) })
}

// TestRefusals: the endpoint refuses a foreign origin, an anonymous
// request, a malformed position and a viewer with nothing to receive,
// before upgrading.
func TestRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(t, b, nil)
	allowed := w.mustServe(t, n.hub, func(c *live.HandlerConfig) { c.AllowedOrigins = []string{"https://ent.example.fr"} })
	origin := func(o string) http.Header { return http.Header{"Origin": {o}} }
	tests := []struct {
		name    string
		node    *node
		account uuid.UUID
		query   string
		header  http.Header
		status  int
		typ     string
	}{
		{name: "foreign origin", node: n, account: parentA, header: origin("https://evil.example"), status: 403, typ: "origin-not-allowed"},
		{name: "same host", node: n, account: parentA, header: origin(n.srv.URL), status: 101},
		{name: "no origin", node: n, account: parentA, status: 101},
		{name: "configured origin", node: allowed, account: parentA, header: origin("https://ent.example.fr"), status: 101},
		{name: "same host not configured", node: allowed, account: parentA, header: origin(allowed.srv.URL), status: 403, typ: "origin-not-allowed"},
		{name: "anonymous", node: n, account: uuid.Nil, status: 401, typ: "unauthenticated"},
		{name: "malformed after", node: n, account: parentA, query: "?after=x.y", status: 400, typ: "invalid-query-parameter"},
		{name: "inspector", node: n, account: inspector, status: 403, typ: "no-live-updates"},
		{name: "unknown account", node: n, account: nobody, status: 403, typ: "no-live-updates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			var ws *websocket.Conn
			var resp *http.Response
			var err error
			if tt.account == uuid.Nil {
				url := "ws" + strings.TrimPrefix(tt.node.srv.URL, "http") + "/api/v1/live"
				ws, resp, err = websocket.DefaultDialer.Dial(url, h)
			} else {
				ws, resp, err = dial(tt.node, tt.account, tt.query, h)
			}
			if ws != nil {
				ws.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tt.status, err)
			}
			if tt.typ != "" {
				body, _ := io.ReadAll(resp.Body)
				var p struct{ Type string }
				if resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil || !strings.HasSuffix(p.Type, "/"+tt.typ) {
					t.Fatalf("body %s (%s), want a %s problem", body, resp.Header.Get("Content-Type"), tt.typ)
				}
			}
		})
	}
}

// TestHubDropsRepublished: what a forwarder re-publishes after a takeover
// reaches no socket twice.
func TestHubDropsRepublished(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(t, b, nil)
	c := mustDial(t, n, staff, "")
	waitConnections(t, n.hub, 1)
	ev := func(seq uint64) *live.Event {
		return &live.Event{Position: domain.Position{Seq: seq}, ID: uuid.New(), Type: "test.v1", Establishment: uai, Data: json.RawMessage(`{}`)}
	}
	for _, seq := range []uint64{1, 2, 3, 2, 3, 4, 1, 5} {
		n.hub.Dispatch(ev(seq))
	}
	var got []uint64
	for _, f := range c.mustFrames(5) {
		got = append(got, f.Position.Seq)
	}
	if !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("got %v", got)
	}
	n.hub.Dispatch(ev(6))
	c.mustNext(domain.Position{Seq: 6})
	if d := n.hub.Stats().Duplicates.Load(); d != 3 {
		t.Fatalf("%d duplicates counted, want 3", d)
	}
}

// TestTwoHubsOneBus: on each transport, two nodes' hubs both deliver an
// event published once, by the forwarder of one of them.
func TestTwoHubsOneBus(t *testing.T) {
	t.Parallel()
	for _, tr := range bustest.Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			w := newWorld(t)
			w.mustSchool()
			nodes := tr.Nodes(t)
			busA, busB := nodes(), nodes()
			// A topic of the test's own on shared servers: the forwarder and
			// the hubs are configured with it.
			topic := bustest.Topic(t)
			a := w.mustNodeOn(t, busA, topic)
			bn := w.mustNodeOn(t, busB, topic)
			f, err := live.NewForwarder(live.ForwarderConfig{
				Log: w.log, Registry: w.reg, Publisher: busA.Publisher, Locker: w.docs,
				Checkpoints: live.DocCheckpoints{Docs: w.docs}, Topic: topic, RetryEvery: 20 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			run(t, f.Run)
			w.mustForwarded(t)
			ca, cb := mustDial(t, a, parentA, ""), mustDial(t, bn, parentA, "")
			cc := mustDial(t, bn, parentC, "")
			waitConnections(t, a.hub, 1)
			waitConnections(t, bn.hub, 2)
			pos := w.absence(alice, classA)
			for name, c := range map[string]*client{"A": ca, "B": cb} {
				if f := c.mustFrames(1)[0]; f.Position != pos {
					t.Fatalf("node %s delivered %s, want %s", name, f.Position, pos)
				}
			}
			cc.mustNext(w.marker(parentC))
		})
	}
}

// mustNodeOn starts a node whose hub listens to topic.
func (w *world) mustNodeOn(t *testing.T, b *bus.Bus, topic string) *node {
	t.Helper()
	hub, err := live.NewHub(live.HubConfig{Subscriber: b.Subscriber, Topic: topic, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	run(t, hub.Run)
	<-hub.Ready()
	return w.mustServe(t, hub, nil)
}

// duringCatchUp runs hooks inside the catch-up's reads of the log: first
// during the first read, exhausted after the first read that finds
// nothing more.
type duringCatchUp struct {
	projections.Log
	mu               sync.Mutex
	reads            int
	first, exhausted func()
	done             chan struct{} // closed once both hooks ran
}

func (l *duringCatchUp) hooks(first, exhausted func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.first, l.exhausted, l.done = first, exhausted, make(chan struct{})
}

func (l *duringCatchUp) ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	recs, err := l.Log.ReadAll(ctx, after, limit)
	l.mu.Lock()
	l.reads++
	var hook func()
	last := false
	switch {
	case l.first != nil:
		hook, l.first = l.first, nil
	case len(recs) == 0 && l.exhausted != nil:
		hook, l.exhausted, last = l.exhausted, nil, true
	}
	l.mu.Unlock()
	if hook != nil {
		hook()
	}
	if last {
		close(l.done)
	}
	return recs, err
}

func (l *duringCatchUp) readCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads
}

// TestKeepAlive: the server pings; a client that answers (gorilla's reads
// do) stays connected, one that does not is closed after PongWait; every
// socket is closed with CloseGoingAway at the end of its lifetime (on the
// hub's clock).
func TestKeepAlive(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	// Periods of a second and more: a loaded machine answers a ping well
	// within them.
	n := w.mustNode(t, b, func(c *live.HandlerConfig) {
		c.PingEvery, c.PongWait = time.Second, 3*time.Second
		c.Lifetime = -1
	})
	mute, err := rawDial(n.srv.Listener.Addr().String(), staff)
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	alive := mustDial(t, n, staff, "")
	waitConnections(t, n.hub, 2)
	waitConnections(t, n.hub, 1) // the mute one is gone
	// Four pings answered: the answering client has lived past PongWait.
	mustWait(t, func() bool { return alive.pings.Load() >= 4 },
		func() string { return fmt.Sprintf("%d pings received", alive.pings.Load()) })
	event := func(seq uint64) *live.Event {
		return &live.Event{Position: domain.Position{Seq: seq}, ID: uuid.New(), Type: "test.v1", Establishment: uai, Data: json.RawMessage(`{}`)}
	}
	n.hub.Dispatch(event(1))
	alive.mustNext(domain.Position{Seq: 1})
	if n.hub.Connections() != 1 {
		t.Fatal("the answering client was closed")
	}

	clock := newClock()
	short := w.mustNodeWith(t, live.HubConfig{Subscriber: b.Subscriber, Now: clock.Now}, func(c *live.HandlerConfig) {
		c.Lifetime = time.Hour
	})
	c := mustDial(t, short, staff, "")
	waitConnections(t, short.hub, 1)
	clock.Add(time.Hour - time.Second)
	short.hub.Dispatch(event(1))
	c.mustNext(domain.Position{Seq: 1}) // still open a second before its end
	clock.Add(time.Second)
	c.mustClosed(live.CloseGoingAway)
}
