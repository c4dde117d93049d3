package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/simulation"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// demoApp is an app on a fresh SQLite store, with cheap password hashes.
type demoApp struct {
	*app
	cfg   Config
	creds *auth.Service
}

func newDemoApp(t *testing.T) *demoApp {
	t.Helper()
	ctx := context.Background()
	cfg := Config{Store: "sqlite:" + filepath.Join(t.TempDir(), "ledger.db"), ActWindow: domain.DefaultActsWindow, PlanWindow: domain.DefaultPlansWindow}
	a, err := openApp(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	creds, closeAuth, err := openAuth(ctx, &cfg, a.store, auth.Config{Params: auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAuth() })
	return &demoApp{app: a, cfg: cfg, creds: creds}
}

func (d *demoApp) deps() demoDeps {
	return demoDeps{handlersAt: d.handlersAt, creds: d.creds, log: d.store, plans: d.cfg.PlanWindow}
}

// seed seeds the demo as serve does on now, and returns how long it took.
func (d *demoApp) seed(t *testing.T, now time.Time) time.Duration {
	t.Helper()
	began := time.Now()
	if err := seedDemo(context.Background(), d.deps(), now, io.Discard); err != nil {
		t.Fatal(err)
	}
	return time.Since(began)
}

// records reads the whole log.
func (d *demoApp) records(t *testing.T) []domain.Record {
	t.Helper()
	recs, err := d.store.ReadAll(context.Background(), domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// rebuild builds every projection from the log.
func (d *demoApp) rebuild(t *testing.T) {
	t.Helper()
	for _, r := range d.runner.Reducers() {
		if err := d.runner.Rebuild(context.Background(), r.Name(), func(int) {}); err != nil {
			t.Fatal(err)
		}
	}
}

func parisTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", s, domain.Paris())
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestDemoHistory: the demo has weeks of school days behind it, each act
// at its date, which the inspector's file as of a past day and the
// indicators of past months show.
func TestDemoHistory(t *testing.T) {
	for _, c := range []struct {
		name, now string
		// month is a past month of lessons: the one before now, or in
		// September the last of the previous school year.
		month string
	}{
		// Seven weeks back cross the Toussaint holidays.
		{"december", "2026-12-07 12:00", "2026-11"},
		// Early September: the history goes back over the summer into the
		// previous school year.
		{"september", "2027-09-08 10:00", "2027-06"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			d := newDemoApp(t)
			now := parisTime(t, c.now)
			took := d.seed(t, now)
			t.Logf("demo seeded in %s", took)
			recs := d.records(t)
			today := domain.DateOf(now.In(domain.Paris()))
			first := demoHistoryStart(today)

			// Every event is stamped in the history or now; roll calls are
			// on school days before today, in the lessons' hours, each as
			// it is taken.
			reg := domain.NewRegistry()
			days := map[domain.Date]bool{}
			for _, rec := range recs {
				at := rec.Metadata.Time.In(domain.Paris())
				if rec.Metadata.Time.After(now) || domain.DateOf(at).Before(first) {
					t.Fatalf("%s stamped %s, outside %s to %s", rec.Type, at, first, now)
				}
				e, err := reg.DecodeRecord(rec)
				if err != nil {
					t.Fatal(err)
				}
				rc, ok := e.(domain.RollCallCompleted)
				if !ok {
					continue
				}
				days[rc.Date] = true
				if !simulation.LessonDay(rc.Date, domain.KindCollege) || !rc.Date.Before(today) {
					t.Errorf("roll call on %s (%s), not a school day before %s", rc.Date, rc.Date.Weekday(), today)
				}
				start := rc.Slot.StartOn(rc.Date, domain.Paris())
				if at.Before(start) || at.After(start.Add(15*time.Minute)) {
					t.Errorf("roll call of %s %s taken at %s", rc.Date, rc.Slot, at)
				}
			}
			if len(days) != demoSchoolDays {
				t.Errorf("roll calls on %d days, want %d", len(days), demoSchoolDays)
			}

			d.rebuild(t)
			// The inspector's view of Léa's file two weeks ago: what had
			// been recorded by then.
			lea := demoStudentID(0)
			asOf := now.AddDate(0, 0, -14)
			file, err := d.queries.StudentFileAsOf(ctx, lea, asOf, domain.Date{})
			if err != nil {
				t.Fatal(err)
			}
			if len(file.Absences) == 0 {
				t.Fatalf("Léa's file as of %s has no absence", asOf)
			}
			for _, a := range file.Absences {
				if a.Date.After(domain.DateOf(asOf.In(domain.Paris()))) {
					t.Errorf("the file as of %s shows an absence of %s", asOf, a.Date)
				}
			}
			if now, err := d.queries.StudentFile(ctx, lea, domain.Date{}, domain.Date{}); err != nil {
				t.Fatal(err)
			} else if len(now.Absences) <= len(file.Absences) {
				t.Errorf("Léa has %d absences now, %d two weeks ago: the last ones are missing", len(now.Absences), len(file.Absences))
			}

			// The indicators of a past month.
			month, err := time.ParseInLocation("2006-01", c.month, domain.Paris())
			if err != nil {
				t.Fatal(err)
			}
			q := projections.IndicatorQuery{
				From: domain.DateOf(month), To: domain.DateOf(month.AddDate(0, 1, -1)),
				Establishment: DemoUAI, Granularity: projections.Granularity("month"),
			}
			rows, err := d.queries.Indicators(ctx, q, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows.Items) != 1 {
				t.Fatalf("indicators of %s: %d rows", c.month, len(rows.Items))
			}
			got := rows.Items[0].IndicatorCounts
			t.Logf("indicators of %s: %+v", c.month, got)
			for name, n := range map[string]int64{
				"connections": got.Connections, "absences": got.Absences, "lateness": got.Lateness, "homework": got.Homework,
				"messages": got.Messages, "student connections": got.ConnectionsStudent, "relative connections": got.ConnectionsRelative,
			} {
				if n == 0 {
					t.Errorf("no %s in %s", name, c.month)
				}
			}

			// A restart, the same day or later, appends nothing.
			for _, again := range []time.Time{now, now.Add(26 * time.Hour)} {
				d.seed(t, again)
				if n := len(d.records(t)); n != len(recs) {
					t.Fatalf("a second seed on %s appended %d events", again, n-len(recs))
				}
			}
		})
	}
}

// failingLog refuses every append after the first n.
type failingLog struct {
	commands.EventStore
	n int
}

var errStopped = errors.New("stopped")

func (f *failingLog) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	if f.n == 0 {
		return domain.AppendResult{}, errStopped
	}
	f.n--
	return f.EventStore.Append(ctx, stream, expected, events)
}

// TestDemoResumed: a seed stopped midway is completed by the next run,
// the next day, with the same history.
func TestDemoResumed(t *testing.T) {
	now := parisTime(t, "2026-12-07 12:00")
	whole := newDemoApp(t)
	whole.seed(t, now)
	want := whole.records(t)

	d := newDemoApp(t)
	stopped := d.deps()
	stopped.handlersAt = func(clock func() time.Time) (*commands.Handlers, error) {
		cc := d.commandsConfig
		cc.Now, cc.Store = clock, &failingLog{EventStore: d.store, n: len(want) / 3}
		return commands.New(cc)
	}
	if err := seedDemo(context.Background(), stopped, now, io.Discard); !errors.Is(err, errStopped) {
		t.Fatalf("the stopped seed returned %v", err)
	}
	if n := len(d.records(t)); n == 0 || n >= len(want) {
		t.Fatalf("the stopped seed wrote %d events of %d", n, len(want))
	}
	d.seed(t, now.Add(24*time.Hour))
	got := d.records(t)
	if len(got) != len(want) {
		t.Fatalf("the resumed demo has %d events, a whole one %d", len(got), len(want))
	}
	for i := range want {
		// The same events, in the same streams; only what happens now is
		// stamped a day later.
		if got[i].ID != want[i].ID || got[i].Stream != want[i].Stream {
			t.Fatalf("event %d: %s in %s, a whole demo has %s in %s", i, got[i].ID, got[i].Stream, want[i].ID, want[i].Stream)
		}
	}
	if _, err := d.creds.Authenticate(context.Background(), "eleve.24", DemoPassword, "127.0.0.1"); err != nil {
		t.Errorf("the last student opened cannot sign in: %v", err)
	}
}

// TestDemoEarlierLayout: a demo seeded before demos had a history is kept
// as it is; only the administrator is added.
func TestDemoEarlierLayout(t *testing.T) {
	ctx := context.Background()
	d := newDemoApp(t)
	_, err := d.commands.RegisterEstablishment(ctx, commands.Request{System: true, IdempotencyKey: "demo:establishment"}, domain.RegisterEstablishment{
		UAI: DemoUAI, Name: "Collège de démonstration", Kind: domain.KindCollege, Departement: "13",
	})
	if err != nil {
		t.Fatal(err)
	}
	d.seed(t, time.Now())
	var types []string
	for _, rec := range d.records(t) {
		types = append(types, rec.Type)
	}
	if want := []string{domain.EstablishmentRegistered{}.EventType(), domain.AccountOpened{}.EventType()}; !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
}

// TestDemoPlanDeterministic: the same days plan the same commands, with
// keys used once.
func TestDemoPlanDeterministic(t *testing.T) {
	days := demoHistoryDays(demoHistoryStart(domain.MustDate("2026-12-07")))
	now := parisTime(t, "2026-12-07 12:00")
	keys := func() []string {
		p, err := planDemo(days, domain.DefaultPlansWindow, now)
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for i, s := range p.steps {
			if i > 0 && s.at.Before(p.steps[i-1].at) {
				t.Fatalf("step %s at %s before the one above it", s.key, s.at)
			}
			ks = append(ks, s.key+"@"+s.at.String())
		}
		return ks
	}
	a, b := keys(), keys()
	if !slices.Equal(a, b) {
		t.Fatal("two plans of the same days differ")
	}
	t.Logf("%d commands", len(a))
}
