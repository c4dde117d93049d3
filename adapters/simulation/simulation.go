// Package simulation writes a realistic history of the 2005-2007 ENT
// experiment of the académie d'Aix-Marseille (the PRO.V.E.N.C.E report)
// through the command handlers, so that every rule of the ledger holds: ten
// establishments, their directory, timetables, roll calls, justifications,
// punishments and sanctions, homework, messages, bookings, news and
// sign-ins at realistic hours. At scale 1 the usage indicators replayed from
// the log are the report's figures exactly (see ReportQuotas and
// docs/simulation.md).
//
// A run plans everything first (NewPlan): the directory of each
// establishment and its quotas per month, as exact integers. It then plays
// each establishment's history in time order, drawing who does what and
// when from one random generator per establishment, seeded from
// Config.Seed; ids, idempotency keys and correlation ids derive from the
// seed too. The same seed gives the same events (ids, payloads, metadata
// times); with one worker the global order of the log is the same too.
package simulation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Factory builds command handlers whose server clock is now. The caller
// provides the store: each worker gets its own handlers, with its own
// simulated clock.
type Factory func(now func() time.Time) (*commands.Handlers, error)

// Progress tells how far a run is. Done counts the events appended; Total
// is an estimate until the end, when it equals Done.
type Progress struct {
	Done, Total int
	Phase       string
}

// Phases of a run.
const (
	PhasePlan     = "plan"
	PhaseSetup    = "setup"
	PhaseSimulate = "simulate"
	PhaseDone     = "done"
)

// Summary is what a run did.
type Summary struct {
	Plan *Plan
	// Events counts the events appended, by type.
	Events      map[string]int
	EventsTotal int
	// Commands is the commands issued; Replayed those an earlier run had
	// already recorded (same store, same seed: idempotency keys match).
	Commands int
	Replayed int
	// Failures is the commands a rule refused: always a bug of the
	// simulator, which issues only valid commands. FailureSamples holds the
	// first few.
	Failures       int
	FailureSamples []string
	// Produced is the quota-driven events appended per product (equal to
	// the plan's quotas when nothing failed and nothing was replayed).
	Produced []ProductPlan
	Elapsed  time.Duration
}

// Run plays the simulation configured by cfg on the handlers h builds.
// progress, when not nil, is called regularly (from one goroutine at a
// time).
func Run(ctx context.Context, h Factory, cfg Config, progress func(Progress)) (Summary, error) {
	began := time.Now()
	rep := &reporter{fn: progress}
	rep.set(PhasePlan, 0)
	plan, err := NewPlan(cfg)
	if err != nil {
		return Summary{}, err
	}
	cfg = plan.Config
	sims := make([]*estSim, len(plan.ests))
	total := 3
	for i, e := range plan.ests {
		sims[i] = newEstSim(e)
		total += e.estimate()
	}
	rep.set(PhaseSetup, total)

	if err := setup(ctx, h, plan, rep); err != nil {
		return Summary{}, err
	}

	// Establishments to workers: largest first, each to the least loaded.
	order := slices.Clone(sims)
	slices.SortStableFunc(order, func(a, b *estSim) int { return b.estimate() - a.estimate() })
	assigned := make([][]*estSim, cfg.Workers)
	load := make([]int, cfg.Workers)
	for _, s := range order {
		w := slices.Index(load, slices.Min(load))
		assigned[w] = append(assigned[w], s)
		load[w] += s.estimate()
	}

	rep.set(PhaseSimulate, total)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, cfg.Workers)
	var wg sync.WaitGroup
	for wi, mine := range assigned {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(ctx, h, rep, mine); err != nil {
				errs[wi] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	// The first worker to fail cancels the others: report its error.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return Summary{}, fmt.Errorf("simulation: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}

	sum := Summary{Plan: plan, Events: make(map[string]int)}
	produced := make(map[Product]*Quotas)
	for _, s := range sims {
		for typ, n := range s.stats.events {
			sum.Events[typ] += n
			sum.EventsTotal += n
		}
		sum.Commands += s.stats.commands
		sum.Replayed += s.stats.replayed
		sum.Failures += s.stats.failures
		sum.FailureSamples = append(sum.FailureSamples, s.stats.samples...)
		if produced[s.Product] == nil {
			produced[s.Product] = &Quotas{}
		}
		produced[s.Product].Add(s.stats.produced)
	}
	for typ, n := range rep.setupEvents {
		sum.Events[typ] += n
		sum.EventsTotal += n
	}
	for _, p := range Products {
		if q := produced[p]; q != nil {
			sum.Produced = append(sum.Produced, ProductPlan{Product: p, Quotas: *q})
		}
	}
	if len(sum.FailureSamples) > maxSamples {
		sum.FailureSamples = sum.FailureSamples[:maxSamples]
	}
	sum.Elapsed = time.Since(began)
	rep.finish(sum.EventsTotal)
	return sum, nil
}

// work plays a worker's establishments, interleaved in time order: with
// one worker, the whole log is in the order of the simulated clock.
func work(ctx context.Context, factory Factory, rep *reporter, sims []*estSim) error {
	w := &worker{rep: rep}
	h, err := factory(func() time.Time { return w.now })
	if err != nil {
		return err
	}
	w.h = h
	for _, s := range sims {
		s.w = w
		s.start()
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var next *estSim
		var at time.Time
		for _, s := range sims {
			if t, ok := s.next(); ok && (next == nil || t.Before(at)) {
				next, at = s, t
			}
		}
		if next == nil {
			return nil
		}
		if err := next.step(ctx); err != nil {
			return err
		}
	}
}

// setup opens the ledger roles of the experiment: an inspector (IA-IPR)
// habilitated for the ten establishments and an evaluator of the
// rectorat. They belong to no establishment, so no indicator counts them.
func setup(ctx context.Context, factory Factory, plan *Plan, rep *reporter) error {
	t := time.Date(plan.Config.From.Year, plan.Config.From.Month, plan.Config.From.Day, 4, 0, 0, 0, plan.loc)
	h, err := factory(func() time.Time { return t })
	if err != nil {
		return err
	}
	seed := fmt.Sprint(plan.Config.Seed)
	inspector := domain.DeterministicID("sim", seed, "inspector")
	evaluator := domain.DeterministicID("sim", seed, "evaluator")
	var uais []string
	for _, e := range Establishments() {
		uais = append(uais, e.UAI)
	}
	n := 0
	req := func() commands.Request {
		n++
		return commands.Request{
			System: true, IdempotencyKey: fmt.Sprintf("sim/%s/setup/%d", seed, n),
			CorrelationID: domain.DeterministicID("sim", seed, "setup"),
		}
	}
	steps := []struct {
		typ string
		do  func() (commands.Result, error)
	}{
		{evOpened, func() (commands.Result, error) {
			return h.OpenAccount(ctx, req(), domain.OpenAccount{Account: inspector, Profile: domain.ProfileInspector, DisplayName: "M. l'IA-IPR, établissements et vie scolaire"})
		}},
		{evHabilitated, func() (commands.Result, error) {
			return h.HabilitateInspector(ctx, req(), domain.HabilitateInspector{Account: inspector, Establishments: uais})
		}},
		{evOpened, func() (commands.Result, error) {
			return h.OpenAccount(ctx, req(), domain.OpenAccount{Account: evaluator, Profile: domain.ProfileEvaluator, DisplayName: "Mission TICE du rectorat, évaluation ENT"})
		}},
	}
	for _, st := range steps {
		t = t.Add(time.Second)
		res, err := st.do()
		if err != nil {
			return fmt.Errorf("simulation: setup: %w", err)
		}
		if !res.Replayed {
			rep.setupEvents[st.typ]++
			rep.add(1)
		}
	}
	return nil
}

// reporter counts the events appended and calls the progress callback
// every progressStep events.
type reporter struct {
	fn          func(Progress)
	mu          sync.Mutex
	done        atomic.Int64
	total       int
	phase       string
	setupEvents map[string]int
}

const progressStep = 1000

func (r *reporter) set(phase string, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.setupEvents == nil {
		r.setupEvents = make(map[string]int)
	}
	r.phase, r.total = phase, total
	r.call()
}

func (r *reporter) add(n int) {
	d := r.done.Add(int64(n))
	if r.fn != nil && d/progressStep != (d-int64(n))/progressStep {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.call()
	}
}

func (r *reporter) finish(done int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phase, r.total = PhaseDone, done
	r.done.Store(int64(done))
	r.call()
}

// call reports; r.mu is held.
func (r *reporter) call() {
	if r.fn == nil {
		return
	}
	d := int(r.done.Load())
	r.fn(Progress{Done: d, Total: max(r.total, d), Phase: r.phase})
}

// estimate is about how many events the establishment will append.
func (e *estPlan) estimate() int {
	n := 1 + len(e.accounts) + len(e.groups) + len(e.resources)
	for _, a := range e.accounts {
		n += len(a.children)
		if !a.closeAt.IsZero() {
			n++
		}
	}
	for _, g := range e.groups {
		n += len(g.students) + len(g.teachers) + 1 + len(g.entries)
	}
	q := e.quotas
	n += q.Connections.Total() + len(e.accounts)*6/10
	n += q.Acts.Total() + q.Acts.Absences*10/27 + q.Acts.Absences*45/100
	n += q.Messages*23/10 + q.Homework*44/10 + q.Contributions*111/100 + q.Bookings*2
	return n
}

// EventTypes lists the types counted in s, sorted.
func (s Summary) EventTypes() []string { return slices.Sorted(maps.Keys(s.Events)) }
