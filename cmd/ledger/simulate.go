package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schoollife/ledger/adapters/simulation"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// simulate writes the simulated history of the 2005-2007 experiment into
// the store: ledger simulate [--scale F] [--seed N] [--from DATE --to DATE]
// [--workers N] [--plan] [--store ...].
func (m *Main) simulate(ctx context.Context, args []string) error {
	var (
		cfg              Config
		scale            float64
		seed             int64
		from, to         string
		workers          int
		planOnly, months bool
	)
	err := m.parse(&cfg, "simulate", args, false, func(fs *flagSet) {
		fs.Float64Var(&scale, "scale", 1, "multiply every quota (1: the report's figures)")
		fs.Int64Var(&seed, "seed", 1, "random seed: the same seed writes the same history")
		fs.StringVar(&from, "from", simulation.DefaultFrom.String(), "first day simulated (YYYY-MM-DD)")
		fs.StringVar(&to, "to", simulation.DefaultTo.String(), "last day simulated (YYYY-MM-DD)")
		fs.IntVar(&workers, "workers", 0, "establishments simulated at once (default: the number of CPUs)")
		fs.BoolVar(&planOnly, "plan", false, "print the quotas per establishment and exit, writing nothing")
		fs.BoolVar(&months, "months", false, "with --plan, print the quotas of each month too")
	})
	if err != nil {
		return err
	}
	sc := simulation.Config{Scale: scale, Seed: seed, Workers: workers}
	if sc.From, err = dateFlag("simulate", "from", from); err != nil {
		return err
	}
	if sc.To, err = dateFlag("simulate", "to", to); err != nil {
		return err
	}
	if err := sc.Validate(); err != nil {
		return fmt.Errorf("ledger simulate: %w", err)
	}
	if planOnly {
		plan, err := simulation.NewPlan(sc)
		if err != nil {
			return err
		}
		printPlan(m.stdout, plan, months)
		return nil
	}

	log := cfg.logger(m.stderr)
	store, err := openSimulationStore(ctx, cfg.Store, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sealed, err := sealingFor(store, domain.NewRegistry(), log)
	if err != nil {
		return err
	}
	defer sealed.close()
	factory := func(now func() time.Time) (*commands.Handlers, error) {
		c := sealed.seal(cfg.commandsConfig(store, sealed.reg, log))
		c.Now = now
		return commands.New(c)
	}
	log.InfoContext(ctx, "simulating", "store", redact(cfg.Store), "scale", sc.Scale, "seed", sc.Seed,
		"from", sc.From.String(), "to", sc.To.String(), "workers", sc.Workers)
	prog := newProgress(m.stderr, "simulate", 0)
	done := 0
	sum, err := simulation.Run(ctx, factory, sc, func(p simulation.Progress) {
		done = p.Done
		prog.SetTotal(p.Total)
		if p.Phase == simulation.PhaseDone {
			prog.Done(p.Done)
			return
		}
		if p.Done > 0 {
			prog.Update(p.Done)
		}
	})
	if err != nil {
		prog.Done(done)
		return err
	}
	printSummary(m.stdout, sum)
	if sum.Failures > 0 {
		return fmt.Errorf("simulate: %d commands were refused (a bug of the simulator):\n  %s", sum.Failures, strings.Join(sum.FailureSamples, "\n  "))
	}
	return nil
}

// openSimulationStore opens the store; SQLite without a sync on every
// commit: a simulated history is replayed from its seed, not irreplaceable,
// and a million fsyncs would take most of the run.
func openSimulationStore(ctx context.Context, spec string, log *slog.Logger) (eventStore, error) {
	kind, loc, err := parseStore(spec)
	if err != nil {
		return nil, err
	}
	if kind == storeSQLite {
		s, err := sqlite.Open(ctx, loc, sqlite.WithSynchronous(sqlite.SyncNormal))
		if err != nil {
			return nil, fmt.Errorf("open sqlite store %s: %w", loc, err)
		}
		return s, nil
	}
	return openStore(ctx, spec, log)
}

// simCount writes n with comma separators.
func simCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// quotaRows names the lines of the quota tables.
var quotaRows = []struct {
	name string
	get  func(q simulation.Quotas) int
}{
	{"accounts opened", func(q simulation.Quotas) int { return q.Accounts }},
	{"user groups", func(q simulation.Quotas) int { return q.Groups }},
	{"connections", func(q simulation.Quotas) int { return q.Connections.Total() }},
	{"  students", func(q simulation.Quotas) int { return q.Connections.Student }},
	{"  teachers", func(q simulation.Quotas) int { return q.Connections.Teacher }},
	{"  relatives", func(q simulation.Quotas) int { return q.Connections.Relative }},
	{"  personnel", func(q simulation.Quotas) int { return q.Connections.Personnel }},
	{"  guests", func(q simulation.Quotas) int { return q.Connections.Guest }},
	{"school-life acts", func(q simulation.Quotas) int { return q.Acts.Total() }},
	{"  absences", func(q simulation.Quotas) int { return q.Acts.Absences }},
	{"  lateness", func(q simulation.Quotas) int { return q.Acts.Lateness }},
	{"  punishments", func(q simulation.Quotas) int { return q.Acts.Punishments }},
	{"  sanctions", func(q simulation.Quotas) int { return q.Acts.Sanctions }},
	{"  incidents", func(q simulation.Quotas) int { return q.Acts.Incidents }},
	{"messages", func(q simulation.Quotas) int { return q.Messages }},
	{"contributions", func(q simulation.Quotas) int { return q.Contributions }},
	{"homework", func(q simulation.Quotas) int { return q.Homework }},
	{"bookings", func(q simulation.Quotas) int { return q.Bookings }},
}

// simShare formats n as a count and its share of total.
func simShare(n, total int) string {
	if total == 0 {
		return simCount(n)
	}
	return fmt.Sprintf("%s (%.1f %%)", simCount(n), float64(n)*100/float64(total))
}

// printSummary prints the events per type and the quotas per product,
// planned and produced.
func printSummary(w io.Writer, sum simulation.Summary) {
	cfg := sum.Plan.Config
	rate := float64(sum.EventsTotal) / sum.Elapsed.Seconds()
	fmt.Fprintf(w, "Simulated %s to %s, scale %g, seed %d, %d workers: %s events (%s commands) in %s, %s events/s.\n",
		cfg.From, cfg.To, cfg.Scale, cfg.Seed, cfg.Workers, simCount(sum.EventsTotal), simCount(sum.Commands),
		sum.Elapsed.Round(time.Millisecond), simCount(int(rate)))
	if sum.Replayed > 0 {
		fmt.Fprintf(w, "%s commands were already in the store (same seed): nothing appended for them.\n", simCount(sum.Replayed))
	}
	fmt.Fprintf(w, "Failures: %d.\n\nEvents by type:\n", sum.Failures)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, typ := range sum.EventTypes() {
		fmt.Fprintf(tw, "  %s\t%s\t\n", typ, simCount(sum.Events[typ]))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nQuotas per product (planned / produced):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "  \t")
	for _, pp := range sum.Plan.Products {
		fmt.Fprintf(tw, "%s\t", pp.Product)
	}
	fmt.Fprintln(tw)
	produced := make(map[simulation.Product]simulation.Quotas)
	for _, pp := range sum.Produced {
		produced[pp.Product] = pp.Quotas
	}
	for _, row := range quotaRows {
		fmt.Fprintf(tw, "  %s\t", row.name)
		for _, pp := range sum.Plan.Products {
			plan, got := row.get(pp.Quotas), row.get(produced[pp.Product])
			cell := simCount(plan)
			if isConnectionRow(row.name) {
				cell = simShare(plan, pp.Quotas.Connections.Total())
			}
			if got != plan {
				cell += " / " + simCount(got)
			} else {
				cell += " / ="
			}
			fmt.Fprintf(tw, "%s\t", cell)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// isConnectionRow tells the per-profile connection rows, shown with their
// share.
func isConnectionRow(name string) bool {
	switch strings.TrimSpace(name) {
	case "students", "teachers", "relatives", "personnel", "guests":
		return true
	}
	return false
}

// printPlan prints the establishments and their quotas (and, with months,
// each month's).
func printPlan(w io.Writer, plan *simulation.Plan, months bool) {
	cfg := plan.Config
	fmt.Fprintf(w, "Plan of %s to %s, scale %g, seed %d.\n\n", cfg.From, cfg.To, cfg.Scale, cfg.Seed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  UAI\testablishment\tdép.\tproduct\tfrom\tstudents\trelatives\tteachers\tpersonnel\tguests\tclasses\tteaching groups\t")
	for _, e := range plan.Establishments {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", e.UAI, e.FullName(), e.Departement, e.Product, e.From,
			e.Students, e.Relatives, e.Teachers, e.Personnel, e.Guests, e.Classes, e.TeachingGroups)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nQuotas:")
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, pp := range plan.Products {
		fmt.Fprintf(tw, "%s\t", pp.Product)
	}
	for _, e := range plan.Establishments {
		fmt.Fprintf(tw, "%s\t", e.UAI)
	}
	fmt.Fprintln(tw)
	for _, row := range quotaRows {
		fmt.Fprintf(tw, "%s\t", strings.TrimSpace(row.name))
		for _, pp := range plan.Products {
			fmt.Fprintf(tw, "%s\t", simCount(row.get(pp.Quotas)))
		}
		for _, e := range plan.Establishments {
			fmt.Fprintf(tw, "%s\t", simCount(row.get(e.Quotas)))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if !months {
		return
	}
	for _, e := range plan.Establishments {
		fmt.Fprintf(w, "\n%s (%s), per month:\n", e.FullName(), e.UAI)
		tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "\t")
		for _, row := range quotaRows {
			fmt.Fprintf(tw, "%s\t", strings.TrimSpace(row.name))
		}
		fmt.Fprintln(tw)
		for i, mo := range plan.Months {
			fmt.Fprintf(tw, "%s\t", mo)
			for _, row := range quotaRows {
				fmt.Fprintf(tw, "%d\t", row.get(e.Monthly[i]))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
}
