package delivery_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/notify/delivery"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// channel records what it is given and answers what it is told to.
type channel struct {
	mu     sync.Mutex
	got    []sent
	answer func(to uuid.UUID, m delivery.Message) delivery.Result
}

type sent struct {
	to uuid.UUID
	m  delivery.Message
}

func (c *channel) Deliver(_ context.Context, to uuid.UUID, m delivery.Message) delivery.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, sent{to, m})
	if c.answer != nil {
		return c.answer(to, m)
	}
	return delivery.Result{Verdict: delivery.Done}
}

func (c *channel) sent() []sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// names reads display names from the directory.
type names struct{ q *projections.Queries }

func (n names) DisplayName(ctx context.Context, id uuid.UUID) (string, error) {
	a, err := n.q.Account(ctx, id)
	if err != nil {
		return "", err
	}
	return a.DisplayName, nil
}

// fixture is the test school with its delivery plan caught up, a delivery
// store on SQLite and two channels.
type fixture struct {
	w           *webtest.World
	store       *delivery.Store
	push, email *channel
	now         time.Time
	mu          sync.Mutex
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w := webtest.NewWorld(t)
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	f := &fixture{w: w, store: delivery.NewSQLiteStore(s.DB(), s.WithTx), push: &channel{}, email: &channel{}, now: w.Now}
	f.catchUp(t)
	return f
}

// catchUp brings the plan up to the end of the log.
func (f *fixture) catchUp(t *testing.T) {
	t.Helper()
	red := projections.NewNotifyPlan()
	run, err := projector.NewRunner(projector.RunnerConfig{
		Log: f.w.Store, Docs: f.w.Docs, Gens: f.w.Docs, Registry: f.w.Reg, Reducers: []projections.Reducer{red}, Locker: f.w.Docs,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.CatchUp(f.w.Ctx, red, projections.Namespace(red.Name(), 1), nil); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) process(t *testing.T, change func(*delivery.Config)) *delivery.Process {
	t.Helper()
	cfg := delivery.Config{
		Store: f.store, Plan: f.w.Queries, Record: f.w.H, Names: names{f.w.Queries},
		Channels: map[delivery.Channel]delivery.Deliverer{delivery.Push: f.push, delivery.Email: f.email},
		Now:      f.clock, Attempts: 3, Backoff: time.Minute, MaxBackoff: 10 * time.Minute,
		Jitter: func(d time.Duration) time.Duration { return d },
	}
	if change != nil {
		change(&cfg)
	}
	p, err := delivery.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustStep steps until nothing is left to do now.
func mustStep(t *testing.T, p *delivery.Process) {
	t.Helper()
	for range 20 {
		n, err := p.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the process never rested")
}

// outcomes returns the outcome events in the log.
func (f *fixture) outcomes(t *testing.T) []domain.Event {
	t.Helper()
	var out []domain.Event
	for _, r := range f.w.Records(f.w.Store) {
		if !strings.HasPrefix(r.Type, "notification.") || r.Type == (domain.NotificationPreferencesSet{}).EventType() {
			continue
		}
		e, err := f.w.Reg.Decode(r.Type, r.Data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func titles(ss []sent, to uuid.UUID) []string {
	var out []string
	for _, s := range ss {
		if s.to == to {
			out = append(out, s.m.Title+" | "+s.m.Body)
		}
	}
	slices.Sort(out)
	return out
}

// TestDeliveryProcess: the school's acts reach the parent and the student
// by each channel once, at once or in the evening's digest; each outcome
// is an event about the student; a second process (another node, a
// restart) sends nothing again.
func TestDeliveryProcess(t *testing.T) {
	f := newFixture(t)
	p := f.process(t, nil)
	mustStep(t, p)
	parent, student := f.w.Accounts[webtest.AsRelative], f.w.Accounts[webtest.AsStudent]
	// At 10:00: the absence, the sanction and the message, not the
	// homework (digest).
	want := []string{
		"Absence de Léa | 08:00 Mathématiques",
		"Nouveau message | À lire sur l'ENT",
		"Sanction pour Léa | 13/03/2006",
	}
	if got := titles(f.push.sent(), parent); !slices.Equal(got, want) {
		t.Fatalf("parent's pushes:\n%q\nwant\n%q", got, want)
	}
	if got := titles(f.email.sent(), parent); !slices.Equal(got, want) {
		t.Fatalf("parent's e-mails: %q", got)
	}
	for _, s := range f.push.sent() {
		want := delivery.OpenPath(s.m.Key.Notification, delivery.Push, "/students/"+student.String()+"/absences/"+f.w.Lesson.String()+"/reason")
		if s.m.Title == "Absence de Léa" && s.m.Path != want {
			t.Errorf("the absence opens %s, want %s", s.m.Path, want)
		}
	}
	before := len(f.push.sent()) + len(f.email.sent())

	// Another node, and this one again: nothing is sent twice.
	other := f.process(t, func(c *delivery.Config) { c.Owner = "other" })
	mustStep(t, other)
	mustStep(t, p)
	if n := len(f.push.sent()) + len(f.email.sent()); n != before {
		t.Fatalf("%d messages after a second process, %d before", n, before)
	}

	// At 18:00 the digest: the homework, in one message per person and
	// channel.
	f.set(time.Date(2006, 3, 14, 18, 0, 0, 0, domain.Paris()))
	mustStep(t, p)
	var digests []string
	for _, s := range f.push.sent()[before/2:] {
		if s.to == parent {
			digests = append(digests, s.m.Title+" | "+s.m.Items[0].Title+" | "+s.m.Items[0].Body)
		}
	}
	if !slices.Equal(digests, []string{"Résumé du jour : 1 nouveauté | Nouveau devoir | Mathématiques, pour le 16/03/2006"}) {
		t.Fatalf("digests %q", digests)
	}

	// Every outcome is in the log, on the student's file.
	var sentToParent int
	for _, e := range f.outcomes(t) {
		s, ok := e.(domain.NotificationSent)
		if !ok {
			t.Fatalf("outcome %#v", e)
		}
		if s.Recipient == parent {
			sentToParent++
			if !slices.Contains(domain.Subjects(s), student) && s.Category != domain.NotifyMessages {
				t.Errorf("%s to the parent is not on Léa's file: %v", s.Act, domain.Subjects(s))
			}
		}
	}
	if sentToParent != 8 { // 4 acts by 2 channels
		t.Fatalf("%d outcomes to the parent, want 8", sentToParent)
	}
}

// TestPreferences: a category off sends nothing; quiet hours delay; a
// channel left out is not used; the language is the person's.
func TestPreferences(t *testing.T) {
	f := newFixture(t)
	parent, student := f.w.Accounts[webtest.AsRelative], f.w.Accounts[webtest.AsStudent]
	p := f.process(t, nil)
	// What was planned before the preferences leaves by the evening.
	f.set(time.Date(2006, 3, 14, 18, 0, 0, 0, domain.Paris()))
	mustStep(t, p)
	pushes, mails := len(f.push.sent()), len(f.email.sent())

	prefs := domain.DefaultNotificationPreferences()
	prefs.Modes = map[domain.NotifyCategory]domain.NotifyMode{domain.NotifyDiscipline: domain.NotifyOff, domain.NotifyMessages: domain.NotifyOff}
	prefs.Channels = []domain.NotifyChannel{domain.ChannelPush}
	prefs.QuietFrom, prefs.QuietTo = "21:00", "07:30"
	prefs.Lang = domain.LangEnglish
	f.w.Must(f.w.H.SetNotificationPreferences(f.w.Ctx, webtest.As(parent), domain.SetNotificationPreferences{Account: parent, Preferences: prefs}))
	// At 22:00 (a boarding school's evening study): an absence, a
	// sanction, a message.
	f.w.Now = time.Date(2006, 3, 14, 22, 0, 0, 0, domain.Paris())
	f.w.Must(f.w.H.RecordRollCall(f.w.Ctx, webtest.As(f.w.Accounts[webtest.AsCPE]), domain.RecordRollCall{
		Group: f.w.Class, Date: f.w.LessonDate, Slot: domain.Slot{Start: "21:00", End: "22:00"}, Subject: "Étude", Absent: []uuid.UUID{student},
	}))
	f.w.Must(f.w.H.PronounceSanction(f.w.Ctx, webtest.As(f.w.Accounts[webtest.AsHead]), domain.PronounceSanction{
		Sanction: uuid.New(), Student: student, Kind: domain.SanctionWarning, Date: f.w.LessonDate, Reason: "Retards répétés",
	}))
	f.w.Must(f.w.H.SendMessage(f.w.Ctx, webtest.As(f.w.Accounts[webtest.AsTeacher]), domain.SendMessage{
		Message: uuid.New(), ToAccounts: []uuid.UUID{parent}, Subject: "Rendez-vous", Body: "Jeudi ?",
	}))
	f.catchUp(t)
	f.set(f.w.Now)
	mustStep(t, p)
	if got := titles(f.push.sent()[pushes:], parent); len(got) != 0 {
		t.Fatalf("in the quiet hours the parent got %q", got)
	}
	f.set(time.Date(2006, 3, 15, 7, 29, 0, 0, domain.Paris()))
	mustStep(t, p)
	if got := titles(f.push.sent()[pushes:], parent); len(got) != 0 {
		t.Fatalf("still in the quiet hours the parent got %q", got)
	}
	f.set(time.Date(2006, 3, 15, 7, 30, 0, 0, domain.Paris()))
	mustStep(t, p)
	got := titles(f.push.sent()[pushes:], parent)
	if !slices.Equal(got, []string{"Léa is absent | 21:00 Étude"}) {
		t.Fatalf("after the quiet hours the parent got %q (nothing of a category off)", got)
	}
	if n := len(titles(f.email.sent()[mails:], parent)); n != 0 {
		t.Fatalf("%d e-mails to a parent who chose push only", n)
	}
	// The student, who chose nothing, was told at once, in French.
	if got := titles(f.push.sent()[pushes:], student); !slices.Contains(got, "Sanction pour Léa | 14/03/2006") {
		t.Fatalf("the student got %q", got)
	}
}

// TestRetriesDeadLetterResend: a failing channel is retried with a
// growing wait, its delivery becomes a dead letter after the last attempt,
// recorded as failed; the office resends it and it is sent.
func TestRetriesDeadLetterResend(t *testing.T) {
	f := newFixture(t)
	parent := f.w.Accounts[webtest.AsRelative]
	down := true
	f.email.answer = func(to uuid.UUID, m delivery.Message) delivery.Result {
		if down && to == parent {
			return delivery.Result{Verdict: delivery.Again, Detail: "451 try later"}
		}
		return delivery.Result{Verdict: delivery.Done}
	}
	f.push.answer = func(uuid.UUID, delivery.Message) delivery.Result {
		return delivery.Result{Verdict: delivery.Never, Reason: domain.FailNoAddress, Detail: "no push subscription"}
	}
	p := f.process(t, nil)
	mustStep(t, p)
	tries := func() int { return len(titles(f.email.sent(), parent)) }
	if tries() != 3 {
		t.Fatalf("%d first tries", tries())
	}
	// Backoff 1 min, then 2 min: nothing before.
	f.set(f.w.Now.Add(59 * time.Second))
	mustStep(t, p)
	if tries() != 3 {
		t.Fatalf("retried before its time: %d", tries())
	}
	f.set(f.w.Now.Add(time.Minute))
	mustStep(t, p)
	if tries() != 6 {
		t.Fatalf("%d tries after a minute", tries())
	}
	f.set(f.w.Now.Add(3 * time.Minute))
	mustStep(t, p)
	if tries() != 9 {
		t.Fatalf("%d tries after three minutes", tries())
	}
	dead, err := f.store.List(f.w.Ctx, delivery.Dead, 100)
	if err != nil || len(dead) != 3 {
		t.Fatalf("dead letters %d: %v", len(dead), err)
	}
	var failed []domain.NotificationFailed
	for _, e := range f.outcomes(t) {
		if e, ok := e.(domain.NotificationFailed); ok {
			failed = append(failed, e)
		}
	}
	exhausted := slices.IndexFunc(failed, func(e domain.NotificationFailed) bool {
		return e.Reason == domain.FailExhausted && e.Recipient == parent && e.Channel == domain.ChannelEmail && e.Attempts == 3
	})
	noPush := slices.IndexFunc(failed, func(e domain.NotificationFailed) bool { return e.Reason == domain.FailNoAddress })
	if exhausted < 0 || noPush < 0 {
		t.Fatalf("failures recorded: %+v", failed)
	}
	// The office resends one: sent, and recorded as sent.
	down = false
	if ok, err := f.store.Resend(f.w.Ctx, dead[0].Key, f.clock()); err != nil || !ok {
		t.Fatal(ok, err)
	}
	mustStep(t, p)
	if tries() != 10 {
		t.Fatalf("%d tries after the resend", tries())
	}
	d, _, err := f.store.Get(f.w.Ctx, dead[0].Key)
	if err != nil || d.State != delivery.Sent {
		t.Fatalf("resent: %+v %v", d, err)
	}
	var resent bool
	for _, e := range f.outcomes(t) {
		if e, ok := e.(domain.NotificationSent); ok && e.Notification == dead[0].Notification && e.Recipient == parent && e.Channel == domain.ChannelEmail {
			resent = true
		}
	}
	if !resent {
		t.Fatal("the resent delivery's outcome is not in the log")
	}
}
