package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Growth: the log is filled to each level with realistic events (roll
// calls with their absences and lateness, sign-ins) of many students; one
// student, the one whose file is queried, has a fixed history written
// first, so that a query that stays flat shows in the figures.
const (
	growthGroups    = 700 // classes of the filler
	growthClassSize = 29
	trackedAbsences = 20
	trackedLateness = 5
)

// growthCase names a level.
func growthCase(level int) string { return fmt.Sprintf("events=%s", countName(level)) }

func countName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000_000 && n%100_000 == 0:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func (e *env) growthScenario(ctx context.Context) error {
	e.rep.Set("growth_levels", fmt.Sprint(e.cfg.GrowthLevels))
	for _, kind := range e.storesFor() {
		if err := e.growthOn(ctx, kind); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
	}
	return nil
}

// filler writes the growth events; safe for concurrent use.
type filler struct {
	e        *env
	groups   [][]uuid.UUID // students of each filler class
	teachers []uuid.UUID
	next     atomic.Int64 // lessons handed out
	start    domain.Date
}

func newFiller(e *env) *filler {
	f := &filler{e: e, start: domain.Date{Year: 2005, Month: time.September, Day: 5}}
	for range growthGroups {
		students := make([]uuid.UUID, growthClassSize)
		for i := range students {
			students[i] = uuid.New()
		}
		f.groups = append(f.groups, students)
		f.teachers = append(f.teachers, uuid.New())
	}
	return f
}

// batch returns the next append: a lesson's roll call (its absences and
// lateness) mostly, sometimes a day of sign-ins of a teacher.
func (f *filler) batch(r *rand.Rand) (string, domain.ExpectedVersion, []domain.Envelope) {
	n := f.next.Add(1) - 1
	g := int(n % growthGroups)
	slot := int(n/growthGroups) % len(slots)
	day := f.start.AddDays(int(n / growthGroups / int64(len(slots))))
	teacher := f.teachers[g]
	at := day.In(f.e.loc).Add(8 * time.Hour)
	if r.IntN(8) == 0 {
		envs := make([]domain.Envelope, 4+r.IntN(12))
		for i := range envs {
			envs[i] = f.e.envelope(domain.UserConnected{Account: teacher, Profile: domain.ProfileTeacher, Establishment: benchUAI, Method: domain.SignInPassword},
				teacher, domain.ProfileTeacher, "RecordConnection", at.Add(time.Duration(i)*time.Minute))
		}
		// A teacher's sign-ins go on one stream, at any version.
		return domain.ConnectionsStream(teacher), domain.AnyVersion(), envs
	}
	stream, envs := f.rollCall(r, f.groupID(g), teacher, f.groups[g], day, slot, r.IntN(4), r.IntN(2), at)
	return stream, domain.NoStream(), envs
}

func (f *filler) groupID(g int) uuid.UUID {
	return domain.DeterministicID("bench-growth-group", fmt.Sprint(g))
}

// rollCall is the append of one roll call: RollCallCompleted, then the
// absences and lateness of the first students of a shuffled class.
func (f *filler) rollCall(r *rand.Rand, group, teacher uuid.UUID, students []uuid.UUID, day domain.Date, slot, absent, late int, at time.Time) (string, []domain.Envelope) {
	s := slots[slot%len(slots)]
	subject := subjects[slot%len(subjects)]
	lesson := domain.LessonID(group, day, s)
	picked := make([]uuid.UUID, 0, absent+late)
	for _, i := range r.Perm(len(students))[:min(absent+late, len(students))] {
		picked = append(picked, students[i])
	}
	cmd := func(ev domain.Event) domain.Envelope {
		return f.e.envelope(ev, teacher, domain.ProfileTeacher, "RecordRollCall", at)
	}
	envs := []domain.Envelope{cmd(domain.RollCallCompleted{Lesson: lesson, Group: group, Date: day, Slot: s, Subject: subject, Teacher: teacher, Absent: absent, Late: late})}
	for i, st := range picked {
		if i < absent {
			envs = append(envs, cmd(domain.AbsenceRecorded{Absence: domain.AbsenceID(lesson, st), Lesson: lesson, Student: st, Group: group, Date: day, Slot: s, Subject: subject}))
		} else {
			envs = append(envs, cmd(domain.LatenessRecorded{Lesson: lesson, Student: st, Group: group, Date: day, Slot: s, Subject: subject, Minutes: 5 + r.IntN(20)}))
		}
	}
	return domain.LessonStream(lesson), envs
}

// fill appends until the log holds target events.
func (f *filler) fill(ctx context.Context, s eventStore, have, target int64, workers int) (int64, error) {
	p := startProgress(f.e.m.stderr, fmt.Sprintf("fill to %s", countName(int(target))), int(target))
	defer p.Done()
	p.Set(int(have))
	var (
		total   atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	total.Store(have)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for total.Load() < target && ctx.Err() == nil {
				stream, expected, envs := f.batch(r)
				if _, err := s.Append(ctx, stream, expected, envs); err != nil {
					errOnce.Do(func() { first = err; cancel() })
					return
				}
				p.Set(int(total.Add(int64(len(envs)))))
			}
		})
	}
	wg.Wait()
	return total.Load(), first
}

func (e *env) growthOn(ctx context.Context, kind string) error {
	// Filled with synchronous=NORMAL on SQLite, measured with FULL.
	b, err := e.freshStore(ctx, kind, "growth", sqlite.WithSynchronous(sqlite.SyncNormal))
	if err != nil {
		return err
	}
	defer b.Close()
	f := newFiller(e)
	tracked := uuid.New()
	trackedGroup := domain.DeterministicID("bench-growth-tracked-group")
	teacher := uuid.New()
	classmates := []uuid.UUID{tracked}
	r := rand.New(rand.NewPCG(1, 2))
	// The tracked student's history: trackedAbsences absences and
	// trackedLateness lateness, in the first weeks, never again.
	var have int64
	for i := range trackedAbsences + trackedLateness {
		day := f.start.AddDays(i / len(slots))
		absent, late := 1, 0
		if i >= trackedAbsences {
			absent, late = 0, 1
		}
		stream, envs := f.rollCall(r, trackedGroup, teacher, classmates, day, i, absent, late, day.In(e.loc).Add(8*time.Hour))
		if _, err := b.store().Append(ctx, stream, domain.NoStream(), envs); err != nil {
			return err
		}
		have += int64(len(envs))
	}

	workers := 8
	if kind == storeSQLite {
		workers = 2 // one writer anyway
	}
	queries := projections.NewQueries(b.docs, b.docs, b.store(), e.reg, e.loc)
	var prev int
	for li, level := range e.cfg.GrowthLevels {
		began := time.Now()
		if have, err = f.fill(ctx, b.store(), have, int64(level), workers); err != nil {
			return fmt.Errorf("fill to %d: %w", level, err)
		}
		e.logf("  %s: filled to %d events in %s", kind, have, time.Since(began).Round(time.Second))
		// The fill's writes are flushed before measuring, or the
		// checkpoints they trigger land in the append measure (seen on
		// Postgres at 5M: a WAL-triggered checkpoint every 13 s).
		if err := b.checkpoint(ctx); err != nil {
			e.rep.Note("growth: checkpoint after the fill to %s on %s: %v", countName(level), kind, err)
		}
		if kind == storeSQLite {
			if err := b.reopen(ctx); err != nil {
				return err
			}
			queries = projections.NewQueries(b.docs, b.docs, b.store(), e.reg, e.loc)
		}
		cas := growthCase(level)

		// Append latency at this size: 8 writers, single-event commands.
		versions := make([]uint64, 8)
		streams := make([]string, 8)
		for i := range streams {
			streams[i] = domain.LessonStream(uuid.New())
		}
		day := domain.DateOf(time.Now().In(e.loc))
		ar, err := runTimed(ctx, 8, max(e.cfg.Duration/2, 300*time.Millisecond), kind+" append at "+cas, e, func(ctx context.Context, w int) (int, error) {
			return appendCommand(ctx, b.store(), streams[w], &versions[w], e.absenceEnvelope(teacher, uuid.New(), trackedGroup, day, w))
		})
		if err != nil {
			return fmt.Errorf("append at %s: %w", cas, err)
		}
		n, err := countEvents(ctx, b)
		if err != nil {
			return err
		}
		have = n

		// Replay of the student file projection from the start, into a
		// fresh generation that then goes live for the queries.
		runner, err := e.runner(b)
		if err != nil {
			return err
		}
		red, _ := runner.Reducer(projections.ProjectionStudentFile)
		gen := 100 + li
		p := startProgress(e.m.stderr, kind+" replay "+red.Name()+" at "+cas, int(n))
		wrote := writtenBytes()
		rb := time.Now()
		done, err := runner.CatchUp(ctx, red, projections.Namespace(red.Name(), gen), func(d int) { p.Set(d) })
		replay := time.Since(rb)
		if wrote >= 0 {
			wrote = writtenBytes() - wrote
		}
		p.Done()
		if err != nil {
			return fmt.Errorf("replay at %s: %w", cas, err)
		}
		if err := b.docs.SetGenerations(ctx, red.Name(), projections.Generations{Live: gen}); err != nil {
			return err
		}
		if prev != 0 {
			if err := b.docs.DropNamespace(ctx, projections.Namespace(red.Name(), prev)); err != nil {
				return err
			}
		}
		prev = gen
		scan, err := e.rawScan(ctx, b, n)
		if err != nil {
			return err
		}

		// The tracked student's file, again and again.
		reps := 500
		if e.cfg.Quick {
			reps = 30
		}
		var ql latencies
		for range reps {
			t := time.Now()
			file, err := queries.StudentFile(ctx, tracked, domain.Date{}, domain.Date{})
			if err != nil {
				return fmt.Errorf("student file at %s: %w", cas, err)
			}
			ql.Add(time.Since(t))
			if file.Counts.Absences != trackedAbsences || file.Counts.Lateness != trackedLateness {
				return fmt.Errorf("student file at %s: %d absences and %d lateness, want %d and %d", cas, file.Counts.Absences, file.Counts.Lateness, trackedAbsences, trackedLateness)
			}
		}
		qs := ql.Summary()
		e.logf("  %s %s: append p50 %.2f p99 %.2f ms; query p50 %.2f p99 %.2f ms; replay %s (%.0f ev/s, %d events); raw scan %.0f ev/s",
			kind, cas, ar.lat.P50, ar.lat.P99, qs.P50, qs.P99, replay.Round(time.Millisecond), float64(done)/replay.Seconds(), done, scan)

		rows := []Row{
			{Scenario: scenarioGrowth, Store: kind, Case: cas, Metric: "events", Unit: "events", Value: float64(n)},
			{Scenario: scenarioGrowth, Store: kind, Case: cas, Metric: "append p50", Unit: "ms", Value: ar.lat.P50},
			{Scenario: scenarioGrowth, Store: kind, Case: cas, Metric: "append p99", Unit: "ms", Value: ar.lat.P99},
			{Scenario: scenarioGrowth, Store: kind, Case: cas, Metric: "query p50", Unit: "ms", Value: qs.P50},
			{Scenario: scenarioGrowth, Store: kind, Case: cas, Metric: "query p99", Unit: "ms", Value: qs.P99},
			{Scenario: scenarioGrowth, Store: kind, Case: cas, Metric: "replay", Unit: "s", Value: replay.Seconds()},
			{Scenario: scenarioGrowth, Store: kind, Case: cas, Metric: "replay events/s", Unit: "ev/s", Value: float64(done) / replay.Seconds(), Baseline: "raw scan", BaselineValue: scan},
		}
		// Against the first level: flat is a ratio of 1; linear replay
		// keeps the rate's ratio at 1 while its time grows with the log.
		if li > 0 {
			first := growthCase(e.cfg.GrowthLevels[0])
			for i := range rows {
				if rows[i].Baseline != "" || rows[i].Metric == "events" {
					continue
				}
				if base, ok := e.rep.Find(scenarioGrowth, kind, first, rows[i].Metric); ok {
					rows[i].Baseline, rows[i].BaselineValue = "at "+first, base.Value
				}
			}
		}
		// On SQLite the replay's writes are this process's: its WAL frames
		// (whole pages) and checkpoints. Postgres writes on its side.
		if kind == storeSQLite && wrote >= 0 && done > 0 {
			rows = append(rows, Row{Scenario: scenarioGrowth, Store: kind, Case: cas, Metric: "replay bytes written per event", Unit: "B/ev", Value: float64(wrote) / float64(done)})
		}
		e.rep.Add(rows...)
	}
	return nil
}
