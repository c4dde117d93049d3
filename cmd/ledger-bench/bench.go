package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/postgres/pgdsn"
	"github.com/schoollife/ledger/adapters/simulation"
	"github.com/schoollife/ledger/domain"
)

// env is what every scenario works with.
type env struct {
	m    *Main
	cfg  *Config
	rep  *Report
	work string // the run's temporary directory
	reg  *domain.Registry
	loc  *time.Location

	buildOnce sync.Once
	ledgerBin string
	buildErr  error

	// The simulated history, run once in memory and loaded into each
	// store by the replay scenario.
	memOnce sync.Once
	mem     *memory.Store
	memSum  simulation.Summary
	memErr  error
}

// logf prints a line of what the run is doing.
func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.m.stderr, format+"\n", args...)
}

// bench runs the configured scenarios, prints the table and writes the
// JSON results (and the growth plots).
func (m *Main) bench(ctx context.Context, cfg *Config) (err error) {
	e := &env{m: m, cfg: cfg, rep: newReport(cfg.Quick), reg: domain.NewRegistry(), loc: domain.Paris()}
	if e.work, err = os.MkdirTemp("", "ledger-bench-"); err != nil {
		return err
	}
	defer func() {
		if !cfg.Keep {
			err = errors.Join(err, os.RemoveAll(e.work))
		} else {
			e.logf("kept %s", e.work)
		}
	}()
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return errors.Join(err, f.Close())
		}
		defer func() {
			pprof.StopCPUProfile()
			err = errors.Join(err, f.Close())
		}()
	}
	sockets := 0
	if cfg.has(scenarioPeak) || cfg.has(scenarioWSMem) {
		sockets = max(e.cfg.Parents, slices.Max(e.cfg.WSConns))
	}
	if cfg.has(scenarioSoak) {
		sockets = max(sockets, e.cfg.SoakParents)
	}
	if sockets > 0 {
		n, refused, err := raiseNoFileWhy(1 << 17)
		if err != nil {
			return fmt.Errorf("raise the open file limit: %w", err)
		}
		lim := fmt.Sprint(n)
		if refused != "" {
			lim += fmt.Sprintf(" (the hard limit: raising it to %d was refused: %s)", 1<<17, refused)
		}
		e.rep.Set("rlimit_nofile", lim)
		if need := uint64(sockets + 2048); n < need {
			return fmt.Errorf("open file limit %d: %d sockets need about %d", n, need-2048, need)
		}
	}
	if e.usesPostgres() {
		if err := e.checkPostgres(ctx); err != nil {
			return err
		}
	}
	e.rep.Set("stores", fmt.Sprint(cfg.Stores))

	var errs []error
	run := func(name string, fn func(ctx context.Context) error) {
		if !cfg.has(name) || ctx.Err() != nil {
			return
		}
		e.logf("== %s", name)
		began, load := time.Now(), loadAvg()
		if err := fn(ctx); err != nil {
			e.logf("%s failed: %v", name, err)
			e.rep.Note("%s failed: %v", name, err)
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		took := time.Since(began).Round(time.Second)
		// The machine is shared: its load tells how far to trust a figure.
		e.rep.Set("scenario_"+name, fmt.Sprintf("%s, load average %s at start, %s at end", took, load, loadAvg()))
		e.logf("== %s done in %s", name, took)
	}
	run(scenarioAppend, e.appendScenario)
	run(scenarioReplay, e.replayScenario)
	run(scenarioPeak, e.peakScenario)
	run(scenarioWSMem, e.wsmemScenario)
	run(scenarioGrowth, e.growthScenario)
	run(scenarioSoak, e.soakScenario)

	if ctx.Err() == nil {
		missing, invalid := missingRows(cfg, e.rep)
		if len(missing) > 0 {
			e.rep.Note("missing figures: %v", missing)
		}
		if len(invalid) > 0 {
			e.rep.Note("invalid figures: %v", invalid)
		}
	}
	e.rep.Finished = time.Now().UTC()
	fmt.Fprintln(m.stdout)
	e.rep.PrintTable(m.stdout)
	if err := e.rep.Write(cfg.Out); err != nil {
		errs = append(errs, err)
	} else {
		fmt.Fprintf(m.stdout, "\nResults written to %s\n", cfg.Out)
	}
	if cfg.has(scenarioGrowth) || cfg.has(scenarioSoak) {
		dir := cfg.Plots
		if dir == "" {
			dir = filepath.Dir(cfg.Out)
		}
		files, err := writePlots(e.rep, dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("plots: %w", err))
		}
		for _, f := range files {
			fmt.Fprintf(m.stdout, "Plot written to %s\n", f)
		}
	}
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}

// usesPostgres reports whether a scenario to run needs the server.
func (e *env) usesPostgres() bool {
	for _, s := range e.cfg.Scenarios {
		switch s {
		case scenarioPeak, scenarioWSMem:
			if e.cfg.PeakStore == storePostgres {
				return true
			}
		default:
			for _, st := range e.cfg.Stores {
				if st == storePostgres {
					return true
				}
			}
		}
	}
	return false
}

// checkPostgres connects to the server and records its durability
// settings.
func (e *env) checkPostgres(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgdsn.Connect(cctx, e.cfg.Postgres)
	if err != nil {
		return fmt.Errorf("postgres server %s: %w (start it, pass --postgres, or --stores sqlite --peak-store sqlite)", redact(e.cfg.Postgres), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, name := range []string{"server_version", "synchronous_commit", "fsync", "wal_sync_method", "commit_delay", "shared_buffers", "max_connections"} {
		var v string
		if err := conn.QueryRow(cctx, "SHOW "+name).Scan(&v); err != nil {
			return fmt.Errorf("postgres: SHOW %s: %w", name, err)
		}
		e.rep.Set("postgres_"+name, v)
	}
	if v := e.rep.Settings["postgres_synchronous_commit"]; v != "on" && v != "remote_apply" && v != "remote_write" {
		return fmt.Errorf("postgres: synchronous_commit is %s: the benchmark measures durable commits only", v)
	}
	return nil
}

// storesFor lists the stores a per-store scenario runs on.
func (e *env) storesFor() []string { return e.cfg.Stores }
