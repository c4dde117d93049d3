package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// expiry is what expires of one category of one establishment for one
// period (docs/privacy.md, "Retention").
type expiry struct {
	Establishment string // "" for the ledger-wide categories
	Category      domain.RetentionCategory
	// Period is the school year (school-life acts, messages, the year an
	// account closed) or, for what is deleted by age, the day before
	// which it was created or ended.
	Period string
	Keep   domain.Keep
	// Keys counts the keys destroyed (or accounts erased); -1 for rows
	// counted only as they are deleted.
	Keys int
	// Events counts the events whose texts the keys protect (periodic
	// categories), -1 when not counted.
	Events int

	periodKeys subjectkeys.PeriodKeys
	accounts   []uuid.UUID
	cutoff     time.Time
}

// retainer plans and applies retention over an app at a time.
type retainer struct {
	a  *app
	at time.Time
	// settings caches each establishment's retention.
	settings map[string]*domain.Retention
}

// keepFor returns how long an establishment keeps a category.
func (r *retainer) keepFor(ctx context.Context, uai string, c domain.RetentionCategory) (domain.Keep, error) {
	s, ok := r.settings[uai]
	if !ok {
		var err error
		if s, err = r.a.commands.RetentionOf(ctx, uai); err != nil {
			return "", fmt.Errorf("read the retention of %q: %w", uai, err)
		}
		r.settings[uai] = s
	}
	return s.KeepFor(c), nil
}

// logFacts is what one pass over the log tells retention: the events
// sealed under each category key's period, and the accounts closed and not
// erased, with when and where.
type logFacts struct {
	events map[subjectkeys.PeriodKeys]int
	closed map[uuid.UUID]closing
}

type closing struct {
	at            time.Time
	establishment string
}

// periodicTypes maps the event types with category-scoped fields to their
// category.
func periodicTypes() map[string]domain.RetentionCategory {
	return map[string]domain.RetentionCategory{
		domain.AbsenceCancelled{}.EventType():      domain.RetentionSchoolLife,
		domain.AbsenceReasonDeclared{}.EventType(): domain.RetentionSchoolLife,
		domain.JustificationAccepted{}.EventType(): domain.RetentionSchoolLife,
		domain.JustificationRefused{}.EventType():  domain.RetentionSchoolLife,
		domain.IncidentReported{}.EventType():      domain.RetentionSchoolLife,
		domain.PunishmentGiven{}.EventType():       domain.RetentionSchoolLife,
		domain.MessageSent{}.EventType():           domain.RetentionMessages,
	}
}

// scan reads the log once, its raw payloads (nothing is opened).
func (r *retainer) scan(ctx context.Context) (logFacts, error) {
	f := logFacts{events: map[subjectkeys.PeriodKeys]int{}, closed: map[uuid.UUID]closing{}}
	periodic := periodicTypes()
	closed, erased := domain.AccountClosed{}.EventType(), domain.SubjectErased{}.EventType()
	marker := []byte(`"` + subjectkeys.PrefixScoped)
	after := domain.Start
	for {
		recs, err := r.a.store.ReadAll(ctx, after, 1000)
		if err != nil {
			return f, fmt.Errorf("read the log: %w", err)
		}
		if len(recs) == 0 {
			return f, nil
		}
		for _, rec := range recs {
			md := rec.Metadata
			switch {
			case periodic[rec.Type] != "":
				if bytes.Contains(rec.Data, marker) {
					f.events[subjectkeys.PeriodKeys{Establishment: md.Establishment, Category: string(periodic[rec.Type]),
						Period: domain.PeriodOf(md.Time, r.a.loc)}]++
				}
			case rec.Type == closed:
				var e domain.AccountClosed
				if err := json.Unmarshal(rec.Data, &e); err == nil {
					f.closed[e.Account] = closing{at: md.Time, establishment: md.Establishment}
				}
			case rec.Type == erased:
				var e domain.SubjectErased
				if err := json.Unmarshal(rec.Data, &e); err == nil {
					delete(f.closed, e.Subject)
				}
			}
		}
		after = recs[len(recs)-1].Position
	}
}

// plan lists what expires at r.at, changing nothing.
func (r *retainer) plan(ctx context.Context) ([]expiry, error) {
	if r.a.cipher == nil {
		return nil, errors.New("retention: this event store keeps personal data unencrypted: nothing can expire (see docs/privacy.md)")
	}
	facts, err := r.scan(ctx)
	if err != nil {
		return nil, err
	}
	var out []expiry
	live, err := r.a.cipher.LivePeriods(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range live {
		c := domain.RetentionCategory(p.Category)
		keep, err := r.keepFor(ctx, p.Establishment, c)
		if err != nil {
			return nil, err
		}
		end, err := domain.PeriodEnd(p.Period, r.a.loc)
		if err != nil {
			return nil, err
		}
		if r.at.Before(keep.After(end)) {
			continue
		}
		count := p
		count.Keys = 0
		out = append(out, expiry{Establishment: p.Establishment, Category: c, Period: p.Period, Keep: keep,
			Keys: p.Keys, Events: facts.events[count], periodKeys: p})
	}
	// Directory entries of people who left: their person key (every key),
	// by the school year their account closed.
	left := map[[2]string]*expiry{}
	for acc, cl := range facts.closed {
		keep, err := r.keepFor(ctx, cl.establishment, domain.RetentionDirectory)
		if err != nil {
			return nil, err
		}
		if r.at.Before(keep.After(cl.at)) {
			continue
		}
		k := [2]string{cl.establishment, domain.PeriodOf(cl.at, r.a.loc)}
		e := left[k]
		if e == nil {
			e = &expiry{Establishment: k[0], Category: domain.RetentionDirectory, Period: k[1], Keep: keep, Events: -1}
			left[k] = e
		}
		e.accounts = append(e.accounts, acc)
		e.Keys++
	}
	for _, e := range left {
		sort.Slice(e.accounts, func(i, j int) bool { return e.accounts[i].String() < e.accounts[j].String() })
		out = append(out, *e)
	}
	// What is deleted by age, ledger-wide.
	for _, c := range []domain.RetentionCategory{domain.RetentionConnections, domain.RetentionImportReports, domain.RetentionBus} {
		keep, err := r.keepFor(ctx, "", c)
		if err != nil {
			return nil, err
		}
		cutoff := keep.Before(r.at)
		out = append(out, expiry{Category: c, Period: domain.DateOf(cutoff.In(r.a.loc)).String(), Keep: keep,
			Keys: -1, Events: -1, cutoff: cutoff})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Establishment != b.Establishment {
			return a.Establishment < b.Establishment
		}
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		return a.Period < b.Period
	})
	return out, nil
}

// apply expires what plan lists: for each establishment, category and
// period, it records the expiry (privacy.retention_applied.v1, once: its
// idempotency key names them), then destroys the keys (school-life acts,
// messages) or erases the people who left (privacy.subject_erased.v1
// each); it deletes the sign-in sessions, import reports and bus messages
// past their time, recording how many. It returns whether anything
// expired: the caller then scrubs the read models and files.
func (r *retainer) apply(ctx context.Context, w io.Writer) (bool, error) {
	plan, err := r.plan(ctx)
	if err != nil {
		return false, err
	}
	changed := false
	var errs []error
	for _, e := range plan {
		n, err := r.expire(ctx, e)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s %s: %w", establishmentName(e.Establishment), e.Category, e.Period, err))
			continue
		}
		if n > 0 {
			changed = true
			fmt.Fprintf(w, "%s\t%s\t%s\texpired: %d\n", establishmentName(e.Establishment), e.Category, e.Period, n)
		}
	}
	return changed, errors.Join(errs...)
}

// expire applies one expiry and returns how many keys, accounts or rows
// went.
func (r *retainer) expire(ctx context.Context, e expiry) (int, error) {
	switch e.Category {
	case domain.RetentionSchoolLife, domain.RetentionMessages:
		if err := r.record(ctx, e, e.Keys); err != nil {
			return 0, err
		}
		return r.a.cipher.DestroyPeriod(ctx, e.periodKeys)
	case domain.RetentionDirectory:
		if err := r.record(ctx, e, e.Keys); err != nil {
			return 0, err
		}
		n := 0
		for _, acc := range e.accounts {
			cmd := domain.EraseSubject{Subject: acc, Basis: domain.RetentionBasis,
				Reason: fmt.Sprintf("compte fermé en %s, conservé %s", e.Period, e.Keep)}
			_, err := r.a.commands.EraseSubject(ctx, commands.Request{System: true}, cmd)
			if err != nil && !errors.Is(err, domain.ErrSubjectErased) {
				return n, fmt.Errorf("erase %s: %w", acc, err)
			}
			n++
		}
		return n, nil
	}
	n, err := r.deleteRows(ctx, e)
	if err != nil || n == 0 {
		return n, err
	}
	return n, r.record(ctx, e, n)
}

// record appends the expiry, once: run again with the same establishment,
// category and period (an interrupted run), it is recorded already.
func (r *retainer) record(ctx context.Context, e expiry, n int) error {
	req := commands.Request{System: true, IdempotencyKey: fmt.Sprintf("retention-%s-%s-%s", establishmentName(e.Establishment), e.Category, e.Period)}
	_, err := r.a.commands.RecordRetentionApplied(ctx, req, domain.RecordRetentionApplied{
		Establishment: e.Establishment, Category: e.Category, Period: e.Period, Keys: n})
	if errors.Is(err, domain.ErrIdempotencyKey) {
		// Recorded by a run that counted otherwise before it stopped.
		return nil
	}
	return err
}

// deleteRows deletes what expires by age.
func (r *retainer) deleteRows(ctx context.Context, e expiry) (int, error) {
	switch e.Category {
	case domain.RetentionConnections:
		write, ok := r.writer()
		if !ok {
			return 0, nil
		}
		n, err := auth.DeleteSessionsEndedBefore(ctx, write, e.cutoff)
		return int(n), err
	case domain.RetentionImportReports:
		return directoryimport.NewDocJobs(r.a.docs).DeleteEndedBefore(ctx, e.cutoff)
	case domain.RetentionBus:
		// The bus tables are the Postgres bus's (watermill_*); on SQLite
		// the bus is in memory.
		if s, ok := r.a.store.(*postgres.Store); ok {
			n, err := s.PurgeBus(ctx, r.at.Sub(e.cutoff))
			return int(n), err
		}
	}
	return 0, nil
}

// writer returns a write transaction on the event store's database, which
// holds the sign-in tables.
func (r *retainer) writer() (func(ctx context.Context, fn func(*sql.Tx) error) error, bool) {
	switch s := r.a.store.(type) {
	case *sqlite.Store:
		return s.WithTx, true
	case *postgres.Store:
		db, write := postgres.SQLDB(s.Pool())
		return func(ctx context.Context, fn func(*sql.Tx) error) error {
			defer db.Close()
			return write(ctx, fn)
		}, true
	}
	return nil, false
}

// establishmentName is how the CLI names an establishment: its UAI, "all"
// for the ledger-wide settings.
func establishmentName(uai string) string {
	if uai == "" {
		return "all"
	}
	return uai
}

// retention runs `ledger retention VERB`.
func (m *Main) retention(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(m.stderr, retentionUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "set":
		return m.retentionSet(ctx, args[1:])
	case "plan":
		return m.retentionRun(ctx, "plan", args[1:])
	case "apply":
		return m.retentionRun(ctx, "apply", args[1:])
	}
	return usageErrorf("retention", "unknown command %q", args[0])
}

// retentionSet runs `ledger retention set`.
func (m *Main) retentionSet(ctx context.Context, args []string) error {
	var cfg Config
	var uai, category, keep string
	err := m.parse(&cfg, "retention set", args, false, func(fs *flagSet) {
		fs.StringVar(&uai, "establishment", "", "the establishment's UAI, or all for the ledger-wide setting (required)")
		fs.StringVar(&category, "category", "", "schoollife, messages, connections, directory, import_reports or bus (required)")
		fs.StringVar(&keep, "keep", "", "how long: 30d, 6m, 2y (1 day to 10 years; required)")
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), retentionUsage)
			fmt.Fprintln(fs.Output())
			fs.printFlags()
		}
	})
	if err != nil {
		return err
	}
	if uai == "" || category == "" || keep == "" {
		return usageErrorf("retention set", "--establishment, --category and --keep are required")
	}
	if uai == "all" {
		uai = ""
	}
	c := domain.RetentionCategory(category)
	if !c.Valid() {
		return usageErrorf("retention set", "--category: %q is not schoollife, messages, connections, directory, import_reports or bus", category)
	}
	if _, err := domain.ParseKeep(keep); err != nil {
		return usageErrorf("retention set", "--keep: %v", err)
	}
	log := cfg.logger(m.stderr)
	a, err := openApp(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.commands.SetRetention(ctx, commands.Request{System: true},
		domain.SetRetention{Establishment: uai, Category: c, Keep: keep})
	if err != nil {
		return err
	}
	if len(res.Events) == 0 {
		fmt.Fprintf(m.stdout, "%s keeps %s for %s already\n", establishmentName(uai), c, keep)
		return nil
	}
	fmt.Fprintf(m.stdout, "%s keeps %s for %s from now on\n", establishmentName(uai), c, keep)
	return nil
}

// retentionRun runs `ledger retention plan` and `ledger retention apply`.
func (m *Main) retentionRun(ctx context.Context, verb string, args []string) error {
	var cfg Config
	var atFlag string
	var scrub bool
	err := m.parse(&cfg, "retention "+verb, args, false, func(fs *flagSet) {
		if verb == "plan" {
			fs.StringVar(&atFlag, "at", "", "the day to plan for (YYYY-MM-DD; default today)")
		} else {
			fs.BoolVar(&scrub, "scrub", false, "rebuild the projections and compact the database even when nothing expires (after serve's nightly runs)")
		}
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), retentionUsage)
			fmt.Fprintln(fs.Output())
			fs.printFlags()
		}
	})
	if err != nil {
		return err
	}
	log := cfg.logger(m.stderr)
	a, err := openApp(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	at := time.Now()
	if atFlag != "" {
		d, err := time.ParseInLocation(time.DateOnly, atFlag, a.loc)
		if err != nil {
			return usageErrorf("retention plan", "--at: %q is not a day such as 2026-09-01", atFlag)
		}
		at = d
	}
	r := &retainer{a: a, at: at, settings: map[string]*domain.Retention{}}
	if verb == "plan" {
		plan, err := r.plan(ctx)
		if err != nil {
			return err
		}
		writePlan(m.stdout, plan, at, a.loc)
		return nil
	}
	changed, err := r.apply(ctx, m.stdout)
	if err != nil {
		return err
	}
	if !changed {
		fmt.Fprintln(m.stdout, "nothing has expired")
		if !scrub {
			return nil
		}
	}
	return a.scrub(ctx, m.stdout, m.stderr)
}

// writePlan prints a plan, one line per establishment, category and
// period.
func writePlan(w io.Writer, plan []expiry, at time.Time, loc *time.Location) {
	fmt.Fprintf(w, "retention on %s\n", domain.DateOf(at.In(loc)))
	fmt.Fprintln(w, "ESTABLISHMENT\tCATEGORY\tPERIOD\tKEPT\tEXPIRES")
	oldest := map[domain.RetentionCategory]string{}
	for _, e := range plan {
		var what string
		switch e.Category {
		case domain.RetentionSchoolLife, domain.RetentionMessages:
			what = fmt.Sprintf("%s, the texts of %s", plural(e.Keys, "key"), plural(e.Events, "event"))
			if o, ok := oldest[e.Category]; !ok || e.Period < o {
				oldest[e.Category] = e.Period
			}
		case domain.RetentionDirectory:
			what = fmt.Sprintf("%s of people who left (every key of theirs)", plural(e.Keys, "account"))
		case domain.RetentionConnections:
			what = "sign-in sessions ended before " + e.Period
		case domain.RetentionImportReports:
			what = "import reports of imports ended before " + e.Period
		case domain.RetentionBus:
			what = "bus messages older than " + e.Period
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", establishmentName(e.Establishment), e.Category, e.Period, e.Keep, what)
	}
	for _, c := range []domain.RetentionCategory{domain.RetentionSchoolLife, domain.RetentionMessages} {
		if o, ok := oldest[c]; ok {
			fmt.Fprintf(w, "oldest %s period expiring: %s\n", c, o)
		}
	}
}

// retainDaily runs retention once a day at hour (in the school's time
// zone), on the one node that holds the retention lock. While serving it
// destroys keys and deletes rows as `ledger retention apply` does, then
// rebuilds the projections beside the live ones (readers keep the old
// generation until the swap); it does not rewrite the database files
// (VACUUM FULL on Postgres locks each table): see docs/privacy.md.
func (a *app) retainDaily(ctx context.Context, hour int, now func() time.Time) {
	for {
		t := now().In(a.loc)
		next := time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, a.loc)
		if !next.After(t) {
			next = next.AddDate(0, 0, 1)
		}
		timer := time.NewTimer(next.Sub(t))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		held, release, ok, err := a.docs.TryAcquire(ctx, "retention")
		if err != nil || !ok {
			continue
		}
		if err := a.retainNow(held, now()); err != nil {
			a.log.Warn("retention", "err", err)
		}
		release()
	}
}

// retainNow applies retention at `at` while serving.
func (a *app) retainNow(ctx context.Context, at time.Time) error {
	r := &retainer{a: a, at: at, settings: map[string]*domain.Retention{}}
	var out bytes.Buffer
	changed, err := r.apply(ctx, &out)
	if !changed {
		return err
	}
	a.log.Info("retention applied", "expired", out.String())
	for _, red := range a.runner.Reducers() {
		if rerr := a.runner.Rebuild(ctx, red.Name(), func(int) {}); rerr != nil {
			return errors.Join(err, fmt.Errorf("rebuild %s: %w", red.Name(), rerr))
		}
	}
	return err
}

const retentionUsage = `usage: ledger retention set --establishment UAI|all --category CATEGORY --keep DURATION [FLAGS]
       ledger retention plan [--at YYYY-MM-DD] [FLAGS]
       ledger retention apply [--scrub] [FLAGS]

How long each category of personal data is kept, and its expiry
(docs/privacy.md, "Retention"). Categories: schoollife (the texts of
school-life acts) and messages, kept by school year and counted from its
end; directory (the entries of people whose account closed, counted from
the closing); connections (sign-in sessions), import_reports and bus
(messages of the Postgres bus), ledger-wide (--establishment all), counted
from when they ended or were written.

  set    record how long an establishment keeps a category
         (privacy.retention_set.v1): 30d, 6m, 2y, from 1 day to 10 years
  plan   print what would expire on a day, changing nothing
  apply  expire it: record privacy.retention_applied.v1 per establishment,
         category and period, destroy the keys (erase the people who left),
         delete the rows past their time, then rebuild every projection
         and compact the database as 'ledger privacy erase' does (--scrub:
         even when nothing expired). Running it again changes nothing more.
         'ledger serve' runs it every night (--retention-hour), without the
         compaction.`
