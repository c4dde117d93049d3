package live_test

// The harness: an in-memory log (adapters/memory) with a small school in
// it, the directory read model projected into projections.MemoryDocs, and
// nodes made of a bus (adapters/bus), a hub, the websocket handler behind
// an httptest.Server and, where a test wants it, a forwarder. Clients are
// gorilla's. A request names its viewer in the X-Test-Account header (the
// HTTP layer authenticates for real).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// id returns a stable id named after s.
func id(s string) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceOID, []byte(s)) }

// uai is the test school's establishment.
const uai = "0750001A"

// Accounts and groups of the test school: alice and bob are classmates in
// 6A, carol is in 6B; each has one parent; the teacher teaches 6A.
var (
	classA, classB               = id("6A"), id("6B")
	alice, bob, carol            = id("alice"), id("bob"), id("carol")
	parentA, parentB, parentC    = id("parent of alice"), id("parent of bob"), id("parent of carol")
	teacher, staff, inspector    = id("teacher"), id("cpe"), id("inspector")
	teacherB, otherStaff, nobody = id("teacher of 6B"), id("cpe elsewhere"), id("nobody")
)

// world is a log being written by a test.
type world struct {
	t    testing.TB
	log  *memory.Store
	reg  *domain.Registry
	docs *projections.MemoryDocs
	n    int
	now  time.Time
	// seed makes event ids unique to the world: NATS drops an id it has
	// seen within its duplicate window, across test runs too.
	seed string
}

func newWorld(t testing.TB) *world {
	return &world{
		t: t, log: memory.New(), reg: domain.NewRegistry(), docs: projections.NewMemoryDocs(),
		now: time.Date(2006, 3, 1, 7, 0, 0, 0, time.UTC), seed: uuid.NewString(),
	}
}

// emit appends events to stream as actor, in the establishment, and
// returns their positions.
func (w *world) emit(actor uuid.UUID, stream string, events ...domain.Event) domain.Position {
	w.t.Helper()
	envs := make([]domain.Envelope, len(events))
	for i, e := range events {
		typ, data, err := w.reg.Encode(e)
		if err != nil {
			w.t.Fatalf("encode %T: %v", e, err)
		}
		w.n++
		c := domain.DeterministicID("test-correlation", fmt.Sprint(w.n))
		envs[i] = domain.Envelope{
			ID: domain.DeterministicID("test-event", w.seed, fmt.Sprint(w.n)), Type: typ, Data: data,
			Metadata: domain.Metadata{Actor: actor, Establishment: uai, CorrelationID: c, CausationID: c, Command: "test", Time: w.now},
		}
	}
	res, err := w.log.Append(context.Background(), stream, domain.AnyVersion(), envs)
	if err != nil {
		w.t.Fatalf("append to %s: %v", stream, err)
	}
	w.now = w.now.Add(time.Minute)
	return res.Position
}

// mustSchool writes the test school and projects the directory.
func (w *world) mustSchool() {
	w.t.Helper()
	sys := uuid.Nil
	w.emit(sys, domain.EstablishmentStream(uai), domain.EstablishmentRegistered{UAI: uai, Name: "Collège Test", Kind: domain.KindCollege, Departement: "75"})
	open := func(a uuid.UUID, p domain.Profile, name string) {
		w.emit(sys, domain.AccountStream(a), domain.AccountOpened{Account: a, Establishment: uai, Profile: p, DisplayName: name})
	}
	for a, name := range map[uuid.UUID]string{alice: "Alice", bob: "Bob", carol: "Carol"} {
		open(a, domain.ProfileStudent, name)
	}
	for a, name := range map[uuid.UUID]string{parentA: "Parent A", parentB: "Parent B", parentC: "Parent C"} {
		open(a, domain.ProfileRelative, name)
	}
	open(teacher, domain.ProfileTeacher, "Teacher")
	open(teacherB, domain.ProfileTeacher, "Teacher B")
	open(staff, domain.ProfilePersonnel, "CPE")
	open(inspector, domain.ProfileInspector, "Inspector")
	w.emit(sys, domain.AccountStream(otherStaff), domain.AccountOpened{Account: otherStaff, Establishment: "0750002B", Profile: domain.ProfilePersonnel, DisplayName: "CPE B"})
	for child, parent := range map[uuid.UUID]uuid.UUID{alice: parentA, bob: parentB, carol: parentC} {
		w.emit(sys, domain.AccountStream(child), domain.RelativeLinked{Student: child, Relative: parent, LegalGuardian: true})
	}
	for g, name := range map[uuid.UUID]string{classA: "6A", classB: "6B"} {
		w.emit(sys, domain.GroupStream(g), domain.GroupCreated{Group: g, Establishment: uai, Kind: domain.GroupClass, Name: name})
	}
	w.emit(sys, domain.GroupStream(classA),
		domain.MemberJoined{Group: classA, Account: alice, Role: domain.RoleStudent},
		domain.MemberJoined{Group: classA, Account: bob, Role: domain.RoleStudent},
		domain.MemberJoined{Group: classA, Account: teacher, Role: domain.RoleTeacher, Subject: "maths"})
	w.emit(sys, domain.GroupStream(classB),
		domain.MemberJoined{Group: classB, Account: carol, Role: domain.RoleStudent},
		domain.MemberJoined{Group: classB, Account: teacherB, Role: domain.RoleTeacher, Subject: "maths"})
	w.mustProjectDirectory()
}

// mustProjectDirectory catches the directory read model up with the log.
func (w *world) mustProjectDirectory() {
	w.t.Helper()
	r, err := projector.NewRunner(projector.RunnerConfig{
		Log: w.log, Docs: w.docs, Gens: w.docs, Registry: w.reg, Locker: w.docs,
		Reducers: []projections.Reducer{projections.NewDirectory()},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	red, _ := r.Reducer(projections.ProjectionDirectory)
	if _, err := r.CatchUp(context.Background(), red, projections.Namespace(projections.ProjectionDirectory, 1), nil); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) queries() *projections.Queries {
	return projections.NewQueries(w.docs, w.docs, w.log, w.reg, time.UTC)
}

// absence records an absence of student in group.
func (w *world) absence(student, group uuid.UUID) domain.Position {
	w.n++
	return w.emit(teacher, domain.LessonStream(id(fmt.Sprint("lesson", w.n))), domain.AbsenceRecorded{
		Absence: id(fmt.Sprint("absence", w.n)), Lesson: id(fmt.Sprint("lesson", w.n)), Student: student, Group: group,
		Date: domain.MustDate("2006-03-13"), Slot: domain.Slot{Start: "08:00", End: "09:00"}, Subject: "maths",
	})
}

// homework assigns homework to group.
func (w *world) homework(group uuid.UUID) domain.Position {
	w.n++
	h := id(fmt.Sprint("homework", w.n))
	return w.emit(teacher, domain.HomeworkStream(h), domain.HomeworkAssigned{
		Homework: h, Group: group, Subject: "maths", Given: domain.MustDate("2006-03-13"), Due: domain.MustDate("2006-03-20"), Instructions: "p. 12",
	})
}

// run runs fn in the background until the test ends.
func run(t testing.TB, fn func(ctx context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("background: %v", err)
		}
	})
}

// mustForward runs a forwarder of w's log to pub until the test ends.
func (w *world) mustForward(t testing.TB, pub message.Publisher) *live.Forwarder {
	t.Helper()
	f, err := live.NewForwarder(live.ForwarderConfig{
		Log: w.log, Registry: w.reg, Publisher: pub, Locker: w.docs,
		Checkpoints: live.DocCheckpoints{Docs: w.docs}, RetryEvery: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	run(t, f.Run)
	w.mustForwarded(t)
	return f
}

// mustForwarded waits until the forwarder's checkpoint is at the end of
// the log. On the in-process bus, Publish returns once the hubs have
// dispatched: they have then dispatched everything too.
func (w *world) mustForwarded(t testing.TB) {
	t.Helper()
	if err := w.forwarded(); err != nil {
		t.Fatal(err)
	}
}

func (w *world) forwarded() error {
	recs, err := w.log.ReadAll(context.Background(), domain.Start, 1<<20)
	if err != nil || len(recs) == 0 {
		return fmt.Errorf("log: %d events, %v", len(recs), err)
	}
	end := recs[len(recs)-1].Position
	var pos domain.Position
	return waitFor(func() (bool, error) {
		pos, err = live.DocCheckpoints{Docs: w.docs}.Checkpoint(context.Background())
		return pos == end, err
	}, func() string { return fmt.Sprintf("forwarder at %s, log ends at %s", pos, end) })
}

// patience bounds every wait of the tests: generous, so that a loaded
// machine passes; a wait ends as soon as its condition holds.
const patience = 20 * time.Second

// waitFor checks cond until it holds, fails or patience runs out (then the
// error says what).
func waitFor(cond func() (bool, error), what func() string) error {
	deadline := time.Now().Add(patience)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New(what())
		}
		<-tick.C
	}
}

// mustWait is waitFor for a test.
func mustWait(t testing.TB, cond func() bool, what func() string) {
	t.Helper()
	if err := waitFor(func() (bool, error) { return cond(), nil }, what); err != nil {
		t.Fatal(err)
	}
}

// marker sends a message to accounts: each of their sockets receives it,
// after whatever was recorded before it. A socket whose next frame is the
// marker received nothing in between (see mustNext).
func (w *world) marker(accounts ...uuid.UUID) domain.Position {
	w.n++
	m := id(fmt.Sprint("marker", w.n))
	return w.emit(staff, domain.MessageStream(m), domain.MessageSent{Message: m, From: staff, ToAccounts: accounts, Subject: "marker", Body: "-"})
}

// node is one server: a hub on a bus and the websocket endpoint.
type node struct {
	hub *live.Hub
	srv *httptest.Server
}

// mustNode starts a hub on b and serves the endpoint; cfg edits the
// handler's configuration.
func (w *world) mustNode(t testing.TB, b *bus.Bus, cfg func(*live.HandlerConfig)) *node {
	t.Helper()
	return w.mustNodeWith(t, live.HubConfig{Subscriber: b.Subscriber}, cfg)
}

// mustNodeWith starts a hub configured by hc (the world's directory and
// the test's logger added) and serves the endpoint over it.
func (w *world) mustNodeWith(t testing.TB, hc live.HubConfig, cfg func(*live.HandlerConfig)) *node {
	t.Helper()
	hc.Directory = w.queries()
	hc.Progress = live.ProjectionProgress{Docs: w.docs, Gens: w.docs}
	hc.Logger = testLogger(t)
	hub, err := live.NewHub(hc)
	if err != nil {
		t.Fatal(err)
	}
	run(t, hub.Run)
	select {
	case <-hub.Ready():
	case <-time.After(patience):
		t.Fatal("hub did not subscribe")
	}
	return w.mustServe(t, hub, cfg)
}

// mustServe serves the endpoint over hub.
func (w *world) mustServe(t testing.TB, hub *live.Hub, cfg func(*live.HandlerConfig)) *node {
	t.Helper()
	hc := live.HandlerConfig{
		Hub: hub, Log: w.log, Registry: w.reg, Directory: w.queries(), Logger: testLogger(t),
		Viewer: func(r *http.Request) (live.Viewer, error) {
			a, err := uuid.Parse(r.Header.Get("X-Test-Account"))
			if err != nil {
				return live.Viewer{}, errors.New("no account")
			}
			return live.Viewer{Account: a}, nil
		},
		Session: func(r *http.Request) (live.Session, bool) {
			s := r.Header.Get("X-Test-Session")
			return live.Session{ID: s}, s != ""
		},
	}
	if cfg != nil {
		cfg(&hc)
	}
	h, err := live.NewHandler(hc)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/live", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		h.Close()
		srv.CloseClientConnections()
		srv.Close()
	})
	return &node{hub: hub, srv: srv}
}

// clock is a clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2006, 3, 13, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testLogger logs warnings and errors to the test.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// client is a gorilla websocket client; a goroutine reads its frames.
type client struct {
	t      testing.TB
	ws     *websocket.Conn
	frames chan live.Frame // closed when the socket fails; err says why
	err    error
	pings  atomic.Int64 // pings received (and answered)
}

// errTimeout is next's error when nothing came.
var errTimeout = errors.New("no frame")

// mustDial opens a socket on n as account; query is appended to the URL
// ("?after=12").
func mustDial(t testing.TB, n *node, account uuid.UUID, query string) *client {
	t.Helper()
	return mustDialWith(t, n, account, query, nil)
}

// mustDialSession opens a socket on n as account, signed in with session.
func mustDialSession(t testing.TB, n *node, account uuid.UUID, session string) *client {
	t.Helper()
	return mustDialWith(t, n, account, "", http.Header{"X-Test-Session": {session}})
}

func mustDialWith(t testing.TB, n *node, account uuid.UUID, query string, header http.Header) *client {
	t.Helper()
	ws, resp, err := dial(n, account, query, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial as %s: %v (status %d)", account, err, status)
	}
	c := &client{t: t, ws: ws, frames: make(chan live.Frame, 10000)}
	ws.SetPingHandler(func(data string) error {
		c.pings.Add(1)
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(patience))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	go func() {
		defer close(c.frames)
		for {
			var f live.Frame
			if err := ws.ReadJSON(&f); err != nil {
				c.err = err
				return
			}
			c.frames <- f
		}
	}()
	t.Cleanup(func() { ws.Close() })
	return c
}

func dial(n *node, account uuid.UUID, query string, header http.Header) (*websocket.Conn, *http.Response, error) {
	if header == nil {
		header = http.Header{}
	}
	header.Set("X-Test-Account", account.String())
	url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/api/v1/live" + query
	return websocket.DefaultDialer.Dial(url, header)
}

// next returns the next frame, waiting at most d.
func (c *client) next(d time.Duration) (live.Frame, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case f, ok := <-c.frames:
		if !ok {
			return f, c.err
		}
		return f, nil
	case <-t.C:
		return live.Frame{}, errTimeout
	}
}

// mustFrames reads n frames.
func (c *client) mustFrames(n int) []live.Frame {
	c.t.Helper()
	var out []live.Frame
	for len(out) < n {
		f, err := c.next(patience)
		if err != nil {
			c.t.Fatalf("after %d of %d frames: %v", len(out), n, err)
		}
		out = append(out, f)
	}
	return out
}

// mustNext checks that the next frame is the event at pos: frames come in
// log order, so nothing recorded before pos was received in between.
func (c *client) mustNext(pos domain.Position) {
	c.t.Helper()
	f, err := c.next(patience)
	if err != nil {
		c.t.Fatalf("waiting for the frame at %s: %v", pos, err)
	}
	if f.Position != pos {
		c.t.Fatalf("unexpected frame %s %s %s before the one at %s", f.Position, f.Type, f.Data, pos)
	}
}

// mustClosed checks that the socket is closed with code, without a frame
// before.
func (c *client) mustClosed(code int) {
	c.t.Helper()
	f, err := c.next(patience)
	if err == nil {
		c.t.Fatalf("unexpected frame %s %s %s before the close", f.Position, f.Type, f.Data)
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != code {
		c.t.Fatalf("socket ended with %v, want close %d", err, code)
	}
}
