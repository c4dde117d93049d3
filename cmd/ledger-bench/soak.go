package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/domain"
)

// The soak: a school day's load, day after day for half an hour, against
// one `ledger serve --metrics` whose /metrics is read every ten seconds.
// Once the server is warm (the run's second half), its memory must not
// climb, its goroutines, open files and connections must stay at their
// level, and nothing may fail.

// soakKinds are the kinds of request the soak counts, in the report's
// order.
var soakKinds = []string{"roll call", "message", "message read", "read", "sign-in", "live socket", "GET /metrics"}

// soakScenario runs the soak on each store in turn.
func (e *env) soakScenario(ctx context.Context) error {
	var errs []error
	for _, kind := range e.storesFor() {
		if ctx.Err() != nil {
			break
		}
		if err := e.soakOn(ctx, kind); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", kind, err))
		}
	}
	return errors.Join(errs...)
}

func (e *env) soakOn(ctx context.Context, kind string) error {
	cfg := e.cfg
	w := peakWorld{classes: cfg.SoakClasses, size: cfg.ClassSize, parents: cfg.SoakParents}
	dates, err := schoolDaysBefore(domain.DateOf(time.Now().In(e.loc)), int(cfg.SoakDuration/cfg.SoakDay)+1)
	if err != nil {
		return err
	}
	e.rep.Set("soak_"+kind, fmt.Sprintf("%s of school days of %s (8 lessons, each class's roll call in the first quarter of each): %d classes of %d, %d parents on live sockets, %g reads/s; /metrics read every %s, trend fitted after %s",
		cfg.SoakDuration, cfg.SoakDay, w.classes, w.size, w.parents, cfg.SoakReads, cfg.SoakSample, cfg.SoakDuration/2))

	// The directory is set-up, written with synchronous=NORMAL on SQLite;
	// the server opens the file with its default, FULL.
	b, err := e.freshStore(ctx, kind, "soak", sqlite.WithSynchronous(sqlite.SyncNormal))
	if err != nil {
		return err
	}
	defer b.Close()
	if err := e.peakSetup(ctx, b.store(), w); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	teachers, parents, err := soakAccounts(ctx, b, w)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	srv, err := e.startServer(ctx, e.serverSpec(b), "LEDGER_METRICS=true")
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			e.logf("  %v", err)
		}
	}()
	if err := e.waitCaughtUp(ctx, b, 10*time.Minute); err != nil {
		return err
	}

	// A bounded pool of connections, as a handful of front ends would
	// hold: the server's open connections then follow its own behaviour,
	// not the bursts of the load generator.
	api := newAPIClient(srv.base, 32)
	api.hc.Transport.(*http.Transport).MaxConnsPerHost = 32
	load := newSoakLoad(api, srv.base, w, teachers, parents, cfg.SoakDay, cfg.SoakReads)
	sctx, closeSockets := context.WithCancel(ctx)
	defer func() {
		closeSockets()
		load.sockets.Wait()
	}()
	p := startProgress(e.m.stderr, "soak: parents' live sockets", len(parents))
	err = load.connect(sctx, p)
	p.Done()
	if err != nil {
		return fmt.Errorf("parent sockets: %w", err)
	}

	e.logf("  soak on %s: %s of load", kind, cfg.SoakDuration)
	counters := load.counters
	if b.kind == storeSQLite {
		counters = func() []namedValue {
			return append(load.counters(), namedValue{"database file", "MiB", float64(fileBytes(b.path, b.path+"-wal")) * mib})
		}
	}
	smp := newSampler(srv.base, counters, load.stats.done)
	lctx, stopLoad := context.WithTimeout(ctx, cfg.SoakDuration)
	defer stopLoad()
	var wg sync.WaitGroup
	wg.Go(func() { smp.run(lctx, cfg.SoakSample) })
	wg.Go(func() { e.soakProgress(lctx, smp, max(cfg.SoakSample, time.Minute)) })
	runErr := load.run(lctx, dates, smp.began)
	stopLoad()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	load.settle(ctx, 30*time.Second)
	e.soakReport(kind, load, smp)
	return runErr
}

// fileBytes returns the size of the files that exist among paths.
func fileBytes(paths ...string) int64 {
	var n int64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// soakAccounts gives every teacher and parent a password (the soak's
// sign-ins use it) and a bearer token issued by the sign-in service.
func soakAccounts(ctx context.Context, b *benchStore, w peakWorld) (teachers, parents []peakAccount, err error) {
	svc, err := authService(b, cheapParams)
	if err != nil {
		return nil, nil, err
	}
	defer svc.Close()
	teachers = make([]peakAccount, w.classes)
	for c := range teachers {
		teachers[c] = peakAccount{id: w.teacher(c), login: teacherLogin(c)}
	}
	parents = make([]peakAccount, w.parents)
	for q := range parents {
		parents[q] = peakAccount{id: w.parent(q), login: parentLogin(q)}
	}
	all := make([]*peakAccount, 0, len(teachers)+len(parents))
	for i := range teachers {
		all = append(all, &teachers[i])
	}
	for i := range parents {
		all = append(all, &parents[i])
	}
	err = parallel(ctx, len(all), 8, nil, func(ctx context.Context, i int) error {
		a := all[i]
		if err := svc.SetPassword(ctx, a.id, a.login, peakPassword); err != nil {
			return err
		}
		tok, _, err := svc.NewSession(ctx, a.id, auth.KindToken)
		a.token = tok
		return err
	})
	return teachers, parents, err
}

// schoolDaysBefore returns n school days (Monday to Friday) before today,
// the latest first. A roll call's date must fall in this school year or
// the one before (domain.DefaultActsWindow).
func schoolDaysBefore(today domain.Date, n int) ([]domain.Date, error) {
	first, _ := domain.DefaultActsWindow.Bounds(today)
	var out []domain.Date
	for d := today.AddDays(-1); len(out) < n; d = d.AddDays(-1) {
		if d.Before(first) {
			return nil, fmt.Errorf("soak: %d school days do not fit between %s and %s: give a longer --soak-day or a shorter --soak-duration", n, first, today)
		}
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			out = append(out, d)
		}
	}
	return out, nil
}

// soakProgress prints the latest readings every interval.
func (e *env) soakProgress(ctx context.Context, smp *sampler, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var parts []string
		for _, name := range []string{"RSS", "live heap", "goroutines", "open fds", "websockets", "requests", "failed requests"} {
			if pts := smp.points(name); len(pts) > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", name, num(pts[len(pts)-1].V)))
			}
		}
		e.logf("  soak %s: %s", time.Since(smp.began).Round(time.Second), strings.Join(parts, ", "))
	}
}

// soakReport adds the soak's rows and series: what the load did, what
// failed, the notifications, and each figure's trend with its bound.
func (e *env) soakReport(store string, l *soakLoad, smp *sampler) {
	row := func(cas, metric, unit string, v float64) Row {
		return Row{Scenario: scenarioSoak, Store: store, Case: cas, Metric: metric, Unit: unit, Value: v}
	}
	var rows []Row
	for _, k := range soakKinds {
		n, _ := l.stats.count(k)
		rows = append(rows, row("requests", k, "requests", float64(n)))
	}
	total, failed := l.stats.count("")
	rows = append(rows,
		row("requests", "all", "requests", float64(total)),
		atMost(row("requests", "failed", "requests", float64(failed)), 0, false),
		row("live sockets", "frames", "frames", float64(l.stats.frames.Load())),
		row("live sockets", "reconnects", "sockets", float64(l.stats.reconnects.Load())),
		atMost(row("live sockets", "closed by the server", "sockets", float64(l.stats.serverClosed.Load())), 0, false),
	)
	n := l.notes.counts()
	rows = append(rows,
		row("absence notification", "expected", "notes", float64(n.expected)),
		atMost(row("absence notification", "lost", "notes", float64(n.expected-n.got)), 0, false),
		atMost(row("absence notification", "misdelivered", "notes", float64(n.misdelivered)), 0, false),
		atMost(row("absence notification", "duplicated", "notes", float64(n.duplicates)), 0, false),
		row("absence notification", "unexpected", "notes", float64(n.unexpected)),
	)
	warm, day := e.cfg.SoakDuration.Seconds()/2, e.cfg.SoakDay.Seconds()
	samples := 0
	for _, f := range soakFigures {
		pts := smp.points(f.name)
		samples = max(samples, len(pts))
		rows = append(rows, f.rows(store, fitTrend(pts, warm, day))...)
	}
	rows = append(rows, row("metrics", "samples", "readings", float64(samples)))
	e.rep.Add(rows...)
	e.rep.AddSeries(smp.all(store)...)
	if failed > 0 {
		e.rep.Note("soak on %s: %d requests failed, e.g. %v", store, failed, l.stats.errs.Samples())
	}
	e.logf("  soak on %s: %d requests, %d failed; %d notifications of %d, %d sockets closed by the server, %d readings of /metrics",
		store, total, failed, n.got, n.expected, l.stats.serverClosed.Load(), samples)
}
