package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/schoollife/ledger/domain"
)

// soakSlots are the lessons of a school day: each class has a roll call at
// each of them.
var soakSlots = []domain.Slot{
	{Start: "08:00", End: "08:55"}, {Start: "09:00", End: "09:55"}, {Start: "10:10", End: "11:05"}, {Start: "11:05", End: "12:00"},
	{Start: "13:30", End: "14:25"}, {Start: "14:30", End: "15:25"}, {Start: "15:40", End: "16:35"}, {Start: "16:35", End: "17:30"},
}

// soakReaders is how many clients share the reads.
const soakReaders = 4

// soakLoad is a school day's load, day after day: every class's roll call
// at every lesson, each sent within the first quarter of the lesson as at
// 8 a.m.; a message from the teacher to the parents of half the absent
// children, which they then read; parents connected on their live socket,
// a fifth of them dropping and coming back each day as phones do,
// resuming with ?after=; the parents' and teachers' pages and API reads;
// and two parents signing in and out in the first lesson of each day.
type soakLoad struct {
	api      *apiClient
	base     string
	w        peakWorld
	teachers []peakAccount
	parents  []*soakParent
	day      time.Duration
	reads    float64 // per second

	stats  soakStats
	notes  soakNotes
	unread chan soakMessage

	sockets sync.WaitGroup
}

// soakMessage is a message a parent has not read yet.
type soakMessage struct {
	id    uuid.UUID
	token string
}

func newSoakLoad(api *apiClient, base string, w peakWorld, teachers, parents []peakAccount, day time.Duration, reads float64) *soakLoad {
	l := &soakLoad{
		api: api, base: base, w: w, teachers: teachers, day: day, reads: reads,
		unread: make(chan soakMessage, 1024),
		stats:  soakStats{requests: map[string]int{}, failed: map[string]int{}},
		notes:  soakNotes{want: map[uuid.UUID]*soakNote{}},
	}
	for _, p := range parents {
		l.parents = append(l.parents, &soakParent{acc: p})
	}
	return l
}

// soakStats counts what the load did, by kind of request.
type soakStats struct {
	mu               sync.Mutex
	requests, failed map[string]int
	errs             firstErrors

	frames, reconnects, serverClosed atomic.Int64
}

// done counts a request of kind and its outcome: any error, a status
// outside 2xx included, is a failure (the load sends nothing the server
// should refuse).
func (s *soakStats) done(kind string, err error) {
	s.mu.Lock()
	s.requests[kind]++
	if err != nil {
		s.failed[kind]++
	}
	s.mu.Unlock()
	if err != nil {
		s.errs.Add(fmt.Errorf("%s: %w", kind, err))
	}
}

// count returns the requests of kind (all kinds when empty) and their
// failures.
func (s *soakStats) count(kind string) (requests, failed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, n := range s.requests {
		if kind == "" || k == kind {
			requests += n
			failed += s.failed[k]
		}
	}
	return requests, failed
}

// counters are the load's figures the sampler records beside the server's.
func (l *soakLoad) counters() []namedValue {
	req, failed := l.stats.count("")
	return []namedValue{
		{"requests", "requests", float64(req)},
		{"failed requests", "requests", float64(failed)},
		{"live frames", "frames", float64(l.stats.frames.Load())},
	}
}

// soakNotes are the absences whose parent must be told on their socket.
type soakNotes struct {
	mu   sync.Mutex
	want map[uuid.UUID]*soakNote // by absence
	noteCounts
}

// noteCounts count the notes: expected (their roll call succeeded), and
// received once on the right socket, on another, twice, or not expected.
type noteCounts struct {
	expected, got, misdelivered, duplicates, unexpected int
}

type soakNote struct {
	parent    uuid.UUID
	got, void bool
}

func (n *soakNotes) expect(absence, parent uuid.UUID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.want[absence] = &soakNote{parent: parent}
	n.expected++
}

// void forgets the notes of a roll call that failed.
func (n *soakNotes) void(absence uuid.UUID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if w, ok := n.want[absence]; ok && !w.void {
		w.void = true
		n.expected--
	}
}

func (n *soakNotes) receive(absence, parent uuid.UUID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	w, ok := n.want[absence]
	switch {
	case !ok || w.void:
		n.unexpected++
	case w.parent != parent:
		n.misdelivered++
	case w.got:
		n.duplicates++
	default:
		w.got = true
		n.got++
	}
}

func (n *soakNotes) counts() noteCounts {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.noteCounts
}

// pending returns how many expected notes have not arrived.
func (n *soakNotes) pending() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.expected - n.got
}

// soakParent is a parent's live socket.
type soakParent struct {
	acc peakAccount
	mu  sync.Mutex
	ws  *websocket.Conn
	// dropped: the client closed the socket on purpose.
	dropped bool
	// last is the position of the last frame received, the ?after= of
	// the next connection; only the parent's goroutine touches it, and
	// known tells the schedulers that it is set.
	last  string
	known atomic.Bool
}

// drop closes the socket on purpose (a phone put to sleep); it reports
// false when there is none to close.
func (p *soakParent) drop() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ws == nil || p.dropped {
		return false
	}
	p.dropped = true
	_ = p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = p.ws.Close()
	return true
}

// connect opens every parent's socket and keeps it open, coming back
// after each drop, until ctx ends; it returns once every socket opened
// once (or ctx ended), counting them on p.
func (l *soakLoad) connect(ctx context.Context, p *progress) error {
	opened := make(chan error, len(l.parents))
	for _, par := range l.parents {
		l.sockets.Go(func() { l.holdSocket(ctx, par, opened) })
	}
	for range l.parents {
		select {
		case err := <-opened:
			if err != nil {
				return err
			}
			p.Add(1)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// holdSocket is a parent's connection loop; opened receives the outcome
// of the first dial.
func (l *soakLoad) holdSocket(ctx context.Context, p *soakParent, opened chan<- error) {
	first := true
	for ctx.Err() == nil {
		ws, err := dialLiveAfter(ctx, l.base, p.acc.token, p.last)
		if ctx.Err() != nil {
			if ws != nil {
				ws.Close()
			}
			return
		}
		l.stats.done("live socket", err)
		if first {
			opened <- err
			first = false
		}
		if err != nil {
			sleepCtx(ctx, time.Second)
			continue
		}
		p.mu.Lock()
		p.ws, p.dropped = ws, false
		p.mu.Unlock()
		stop := context.AfterFunc(ctx, func() { ws.Close() })
		l.read(p, ws)
		stop()
		p.mu.Lock()
		p.ws = nil
		dropped := p.dropped
		p.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if !dropped {
			l.stats.serverClosed.Add(1)
			l.stats.errs.Add(fmt.Errorf("parent %s: socket closed by the server", p.acc.login))
		}
		// Back a little later, as a phone coming out of a pocket.
		sleepCtx(ctx, time.Duration(rand.Int64N(int64(max(time.Second, l.day/16)))))
	}
}

// read reads a parent's socket until it closes.
func (l *soakLoad) read(p *soakParent, ws *websocket.Conn) {
	for {
		_, raw, err := ws.ReadMessage()
		if err != nil {
			return
		}
		l.stats.frames.Add(1)
		var f liveFrame
		if json.Unmarshal(raw, &f) != nil {
			continue
		}
		if f.Position != "" {
			p.last = f.Position
			p.known.Store(true)
		}
		if f.Type != "absence.recorded.v1" {
			continue
		}
		var d struct {
			Absence uuid.UUID `json:"absence"`
		}
		if json.Unmarshal(f.Data, &d) == nil {
			l.notes.receive(d.Absence, p.acc.id)
		}
	}
}

// run plays school days, one date each, the first beginning at began and
// each the day's length after the one before, until ctx ends.
func (l *soakLoad) run(ctx context.Context, dates []domain.Date, began time.Time) error {
	var readers sync.WaitGroup
	for range soakReaders {
		readers.Go(func() { l.readLoop(ctx) })
	}
	defer readers.Wait()
	for d := 0; ctx.Err() == nil; d++ {
		if d == len(dates) {
			return fmt.Errorf("soak: no school day left after %d (a longer --soak-day spends fewer)", d)
		}
		l.schoolDay(ctx, dates[d], began.Add(time.Duration(d)*l.day))
	}
	return nil
}

// schoolDay plays one day from start: its lessons' roll calls and
// messages, and, beside them, its sockets' drops and its sign-ins.
func (l *soakLoad) schoolDay(ctx context.Context, date domain.Date, start time.Time) {
	var beside sync.WaitGroup
	beside.Go(func() { l.dayEvents(ctx, start) })
	lesson := l.day / time.Duration(len(soakSlots))
	for s, slot := range soakSlots {
		if !sleepUntil(ctx, start.Add(time.Duration(s)*lesson)) {
			break
		}
		l.lesson(ctx, date, slot, lesson/4)
	}
	sleepUntil(ctx, start.Add(l.day))
	beside.Wait()
}

// dayEvents drops a fifth of the parents' sockets (those that have a
// position to resume from) at random moments of the day, and signs two
// parents in and out during the first lesson.
func (l *soakLoad) dayEvents(ctx context.Context, start time.Time) {
	type event struct {
		at     time.Duration
		parent int
		signIn bool
	}
	var events []event
	for range max(1, len(l.parents)/5) {
		events = append(events, event{at: rand.N(l.day), parent: rand.IntN(len(l.parents))})
	}
	for range 2 {
		events = append(events, event{at: rand.N(l.day / time.Duration(len(soakSlots))), parent: rand.IntN(len(l.parents)), signIn: true})
	}
	slices.SortFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	for _, ev := range events {
		if !sleepUntil(ctx, start.Add(ev.at)) {
			return
		}
		p := l.parents[ev.parent]
		switch {
		case ev.signIn:
			l.signInOut(ctx, p.acc)
		case p.known.Load() && p.drop():
			l.stats.reconnects.Add(1)
		}
	}
}

// signInOut signs a parent in with their password (argon2id on the
// server), reads who they are with the new token, and signs out.
func (l *soakLoad) signInOut(ctx context.Context, p peakAccount) {
	rctx := context.WithoutCancel(ctx)
	tok, err := l.api.signIn(rctx, p.login, peakPassword)
	l.stats.done("sign-in", err)
	if err != nil {
		return
	}
	l.call(ctx, "sign-in", "GET", "/api/v1/me", tok, nil, nil)
	l.call(ctx, "sign-in", "DELETE", "/api/v1/session", tok, nil, nil)
}

// lesson sends every class's roll call for the lesson, spread evenly over
// window, each followed by its messages.
func (l *soakLoad) lesson(ctx context.Context, date domain.Date, slot domain.Slot, window time.Duration) {
	start := time.Now()
	var wg sync.WaitGroup
	for c := range l.w.classes {
		at := start.Add(window * time.Duration(c) / time.Duration(l.w.classes))
		wg.Go(func() {
			if sleepUntil(ctx, at) {
				l.rollCall(ctx, c, date, slot)
			}
		})
	}
	wg.Wait()
}

// rollCall records class c's roll call: up to three absent (most often a
// child whose parent is connected) and sometimes one late; then the
// teacher writes to the parents of half the absent children.
func (l *soakLoad) rollCall(ctx context.Context, c int, date domain.Date, slot domain.Slot) {
	cmd := domain.RecordRollCall{Group: l.w.group(c), Date: date, Slot: slot, Subject: "Mathématiques", Absent: []uuid.UUID{}, Late: []domain.Late{}}
	linked := 0
	for j := range l.w.size {
		if _, ok := l.w.parentOf(c, j); ok {
			linked++
		}
	}
	picked := map[int]bool{}
	n := []int{0, 0, 0, 1, 1, 1, 1, 2, 2, 3}[rand.IntN(10)]
	for len(picked) < n {
		if linked > 0 && rand.IntN(10) < 7 {
			picked[rand.IntN(linked)] = true
		} else {
			picked[rand.IntN(l.w.size)] = true
		}
	}
	type told struct {
		absence uuid.UUID
		parent  peakAccount
	}
	var tell []told
	for j := range l.w.size {
		if !picked[j] {
			continue
		}
		st := l.w.student(c, j)
		cmd.Absent = append(cmd.Absent, st)
		if q, ok := l.w.parentOf(c, j); ok {
			a := domain.AbsenceID(cmd.LessonID(), st)
			l.notes.expect(a, l.w.parent(q))
			tell = append(tell, told{a, l.parents[q].acc})
		}
	}
	if rand.IntN(3) == 0 {
		for j := range l.w.size {
			if !picked[j] {
				cmd.Late = append(cmd.Late, domain.Late{Student: l.w.student(c, j), Minutes: 5 + rand.IntN(20)})
				break
			}
		}
	}
	if err := l.call(ctx, "roll call", "POST", "/api/v1/rollcalls", l.teachers[c].token, cmd, nil); err != nil {
		for _, t := range tell {
			l.notes.void(t.absence)
		}
		return
	}
	for _, t := range tell {
		if rand.IntN(2) == 0 {
			l.message(ctx, c, t.parent, date, slot)
		}
	}
}

// message sends a teacher's message to a parent, which the parent reads
// later (readLoop).
func (l *soakLoad) message(ctx context.Context, c int, to peakAccount, date domain.Date, slot domain.Slot) {
	msg := domain.SendMessage{
		Message: uuid.New(), ToAccounts: []uuid.UUID{to.id},
		Subject: "Absence de votre enfant",
		Body:    fmt.Sprintf("Bonjour, votre enfant était absent le %s de %s à %s. Merci de nous en indiquer le motif.", date, slot.Start, slot.End),
	}
	if l.call(ctx, "message", "POST", "/api/v1/messages", l.teachers[c].token, msg, nil) == nil {
		select {
		case l.unread <- soakMessage{id: msg.Message, token: to.token}:
		default: // the readers are behind: this one stays unread
		}
	}
}

// readLoop is one reader: a message to read when one waits, else a page
// or an API read by a parent or a teacher, at its share of the rate.
func (l *soakLoad) readLoop(ctx context.Context) {
	every := time.Duration(float64(time.Second) * soakReaders / l.reads)
	next := time.Now()
	for {
		// A reader that fell behind (slow answers) starts again from
		// now rather than catching up in a burst.
		if next = next.Add(every); next.Before(time.Now().Add(-every)) {
			next = time.Now()
		}
		if !sleepUntil(ctx, next) {
			return
		}
		select {
		case m := <-l.unread:
			l.call(ctx, "message read", "POST", "/api/v1/messages/"+m.id.String()+"/read", m.token, nil, nil)
			continue
		default:
		}
		q, c := rand.IntN(len(l.parents)), rand.IntN(len(l.teachers))
		parent, teacher := l.parents[q].acc, l.teachers[c]
		cc, j := l.w.childOf(q)
		child, group := l.w.student(cc, j), l.w.group(c)
		switch rand.IntN(6) {
		case 0:
			l.call(ctx, "read", "GET", "/feed", parent.token, nil, nil) // the portal's page
		case 1:
			l.call(ctx, "read", "GET", "/api/v1/students/"+child.String()+"/view", parent.token, nil, nil)
		case 2:
			l.call(ctx, "read", "GET", "/api/v1/mailbox", parent.token, nil, nil)
		case 3:
			l.call(ctx, "read", "GET", "/groups/"+group.String()+"/textbook", teacher.token, nil, nil) // the portal's page
		case 4:
			l.call(ctx, "read", "GET", "/api/v1/groups/"+group.String(), teacher.token, nil, nil)
		case 5:
			l.call(ctx, "read", "GET", "/api/v1/mailbox/sent", teacher.token, nil, nil)
		}
	}
}

// call sends a request and counts it. Once ctx ends no request starts,
// but one under way finishes and counts.
func (l *soakLoad) call(ctx context.Context, kind, method, path, token string, in, out any) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	_, err := l.api.call(context.WithoutCancel(ctx), method, path, token, in, out)
	l.stats.done(kind, err)
	return err
}

// settle waits, up to within, for the notes still on their way.
func (l *soakLoad) settle(ctx context.Context, within time.Duration) {
	deadline := time.Now().Add(within)
	for l.notes.pending() > 0 && time.Now().Before(deadline) && sleepCtx(ctx, 100*time.Millisecond) {
	}
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	return sleepCtx(ctx, time.Until(t))
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}
