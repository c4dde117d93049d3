package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schoollife/ledger/projections"
)

// Scenarios, in the order they run.
const (
	scenarioAppend = "append"
	scenarioReplay = "replay"
	scenarioPeak   = "peak"
	scenarioWSMem  = "wsmem"
	scenarioGrowth = "growth"
	// scenarioSoak runs only when named: it lasts half an hour per store.
	scenarioSoak = "soak"
)

// allScenarios are those "all" runs.
var allScenarios = []string{scenarioAppend, scenarioReplay, scenarioPeak, scenarioWSMem, scenarioGrowth}

// knownScenarios are those --scenario takes.
var knownScenarios = append(slices.Clone(allScenarios), scenarioSoak)

// Store kinds.
const (
	storeSQLite   = "sqlite"
	storePostgres = "postgres"
)

// DefaultPostgres is the server on which each scenario creates (and then
// drops) a database of its own.
const DefaultPostgres = "postgres://root@127.0.0.1:5432/postgres?sslmode=disable"

// Config is the benchmark's configuration, parsed once from flags.
type Config struct {
	Scenarios []string
	Stores    []string
	// Postgres is the server (any database the user may CREATE DATABASE
	// from): every scenario works in a fresh database, dropped after.
	Postgres string
	Quick    bool
	// Out is the JSON results file; Plots the directory of the growth plots.
	Out, Plots string
	// CPUProfile, when set, profiles the benchmark process.
	CPUProfile string
	Keep       bool // keep the databases and files (to look at them)
	// Pool is the connection pool size of the Postgres stores the
	// scenarios open (0: pgx's default, as ledger serve has it).
	Pool int

	// append
	Writers  []int
	Duration time.Duration // of each append case
	HotN     int           // hot streams
	CopyRows int

	// replay
	Scale           float64
	Seed            int64
	SimulateOnStore bool
	ReplayBatch     int // events per replay transaction (0: the runner's default, as serve has it)
	// Projections are the projections replayed (empty: all).
	Projections []string

	// peak
	PeakStore     string
	Classes       int // of 30 students, one teacher and one roll call each
	ClassSize     int
	Parents       int
	Window        time.Duration // the roll calls are sent within it
	Signins       int           // accounts that sign in over HTTP (-1: all)
	Ledger        string        // the ledger binary (built when empty)
	PeakAbsentees int           // absent students per roll call
	ServerPool    int           // pool_max_conns of the server on Postgres (0: pgx's default)
	Perf          string        // perf record of the server during the roll calls

	// wsmem
	WSConns []int

	// growth
	GrowthLevels []int
	GrowthMax    int

	// soak
	SoakDuration time.Duration // of the load, per store
	SoakSample   time.Duration // between two readings of /metrics
	SoakDay      time.Duration // one school day, compressed
	SoakClasses  int
	SoakParents  int
	SoakReads    float64 // page and API reads per second
}

// defaults fills what flags left unset, after --quick is known.
func (c *Config) defaults(set map[string]bool) {
	full := !c.Quick
	pick := func(name string, dst any, fullV, quickV any) {
		if set[name] {
			return
		}
		v := quickV
		if full {
			v = fullV
		}
		switch d := dst.(type) {
		case *time.Duration:
			*d = v.(time.Duration)
		case *int:
			*d = v.(int)
		case *float64:
			*d = v.(float64)
		case *[]int:
			*d = slices.Clone(v.([]int))
		}
	}
	pick("duration", &c.Duration, 10*time.Second, 400*time.Millisecond)
	pick("copy-rows", &c.CopyRows, 200_000, 5_000)
	pick("scale", &c.Scale, 1.0, 0.02)
	pick("classes", &c.Classes, 2000, 10)
	pick("parents", &c.Parents, 10_000, 50)
	pick("window", &c.Window, 10*time.Second, time.Second)
	pick("ws-conns", &c.WSConns, []int{1000, 10_000}, []int{50, 200})
	pick("growth-max", &c.GrowthMax, 1_000_000, 20_000)
	pick("soak-duration", &c.SoakDuration, 30*time.Minute, 25*time.Second)
	pick("soak-sample", &c.SoakSample, 10*time.Second, 2*time.Second)
	pick("soak-day", &c.SoakDay, time.Minute, 8*time.Second)
	pick("soak-classes", &c.SoakClasses, 40, 4)
	pick("soak-parents", &c.SoakParents, 400, 20)
	pick("soak-reads", &c.SoakReads, 10.0, 4.0)
	levels := []int{100_000, 1_000_000, 5_000_000, 10_000_000}
	if c.Quick {
		levels = []int{2_000, 10_000, 50_000}
	}
	c.GrowthLevels = nil
	for _, l := range levels {
		if l <= c.GrowthMax {
			c.GrowthLevels = append(c.GrowthLevels, l)
		}
	}
}

// parse parses args into c and validates it.
func (m *Main) parse(c *Config, args []string) error {
	fs := flag.NewFlagSet("ledger-bench", flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	var scenarios, stores, writers, wsConns, projs string
	fs.StringVar(&scenarios, "scenario", "all", "scenarios to run, comma-separated: "+strings.Join(knownScenarios, ", ")+", or all ("+strings.Join(allScenarios, ", ")+")")
	fs.StringVar(&stores, "stores", "sqlite,postgres", "stores to run each scenario on, comma-separated")
	fs.StringVar(&c.Postgres, "postgres", envOr(m.getenv, "LEDGER_BENCH_POSTGRES", DefaultPostgres), "PostgreSQL server: each scenario creates a fresh database on it and drops it after (LEDGER_BENCH_POSTGRES)")
	fs.BoolVar(&c.Quick, "quick", false, "small sizes: a smoke run of every scenario in a minute or two")
	fs.StringVar(&c.Out, "out", "", "JSON results file (default bench-results/RESULTS-<date>.json)")
	fs.StringVar(&c.Plots, "plots", "", "directory of the growth plots (default: the directory of --out)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the benchmark process to this file")
	fs.IntVar(&c.Pool, "pool", 0, "connection pool size of the Postgres stores the scenarios open (0: pgx's default, max(4, CPUs), as ledger serve has it)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the databases and files the scenarios create")
	fs.StringVar(&writers, "writers", "1,8,64,256", "append: concurrent writers of each case")
	fs.DurationVar(&c.Duration, "duration", 0, "append: length of each case (default 10s, 400ms with --quick)")
	fs.IntVar(&c.HotN, "hot", 4, "append: number of hot streams")
	fs.IntVar(&c.CopyRows, "copy-rows", 0, "append: rows of the COPY baseline (default 200000, 5000 with --quick)")
	fs.Float64Var(&c.Scale, "scale", 0, "replay: scale of the simulated history (default 1, 0.02 with --quick)")
	fs.Int64Var(&c.Seed, "seed", 1, "replay: seed of the simulated history")
	fs.IntVar(&c.ReplayBatch, "replay-batch", 0, "replay and growth: events applied per transaction (0: the runner's default for catching up, 4096, as ledger rebuild has it)")
	fs.StringVar(&projs, "projections", "", "replay: projections to rebuild, comma-separated (default: all; names as `ledger rebuild` takes them, such as notifications.v1)")
	fs.BoolVar(&c.SimulateOnStore, "simulate-on-store", false, "replay: run the simulation's commands on the store itself (ledger simulate; slow: every command reads its streams there) rather than in memory, then append its events to the store")
	fs.StringVar(&c.PeakStore, "peak-store", storePostgres, "peak and wsmem: the store of the ledger server")
	fs.IntVar(&c.Classes, "classes", 0, "peak: classes, each with a teacher and one roll call (default 2000, 10 with --quick)")
	fs.IntVar(&c.ClassSize, "class-size", 30, "peak: students per class")
	fs.IntVar(&c.Parents, "parents", 0, "peak: parents with a websocket open, one child each (default 10000, 50 with --quick)")
	fs.DurationVar(&c.Window, "window", 0, "peak: the roll calls are sent within this window (default 10s, 1s with --quick)")
	fs.IntVar(&c.PeakAbsentees, "absent", 3, "peak: absent students per roll call (3 of 30: 10 %)")
	fs.IntVar(&c.Signins, "signins", -1, "peak: accounts that sign in over HTTP with their password (argon2id, ~0.1 s each); the others get their token from the sign-in service directly (-1: all)")
	fs.IntVar(&c.ServerPool, "server-pool", 0, "peak and wsmem on postgres: the server's connection pool size (pool_max_conns; 0: pgx's default, as ledger serve has it)")
	fs.StringVar(&c.Perf, "perf", "", "peak: record the server with `perf record -g` during the roll calls into this file")
	fs.StringVar(&c.Ledger, "ledger", "", "peak and wsmem: the ledger binary (default: go build ./cmd/ledger into a temporary directory)")
	fs.StringVar(&wsConns, "ws-conns", "", "wsmem: numbers of idle connections, comma-separated (default 1000,10000; 50,200 with --quick)")
	fs.DurationVar(&c.SoakDuration, "soak-duration", 0, "soak: how long the load runs on each store (default 30m, 25s with --quick); the trend is fitted over its second half")
	fs.DurationVar(&c.SoakSample, "soak-sample", 0, "soak: interval between two readings of the server's /metrics (default 10s, 2s with --quick)")
	fs.DurationVar(&c.SoakDay, "soak-day", 0, "soak: one school day of eight lessons, compressed into this (default 1m, 8s with --quick)")
	fs.IntVar(&c.SoakClasses, "soak-classes", 0, "soak: classes, each with a teacher and a roll call per lesson (default 40, 4 with --quick)")
	fs.IntVar(&c.SoakParents, "soak-parents", 0, "soak: parents with a live socket, one child each (default 400, 20 with --quick)")
	fs.Float64Var(&c.SoakReads, "soak-reads", 0, "soak: page and API reads per second by parents and teachers (default 10, 4 with --quick)")
	fs.IntVar(&c.GrowthMax, "growth-max", 0, "growth: the largest level, in events: levels are 1e5, 1e6, 5e6 and 1e7 up to it (default 1000000; 5000000 takes about 15 minutes more per store, 10000000 about 30 more)")
	fs.Usage = func() {
		fmt.Fprintln(m.stderr, "usage: ledger-bench [FLAGS]\n       ledger-bench plot --in RESULTS.json [--plots DIR]\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	c.Scenarios = splitList(scenarios)
	if slices.Contains(c.Scenarios, "all") {
		c.Scenarios = slices.Clone(allScenarios)
	}
	c.Stores = splitList(stores)
	c.Projections = splitList(projs)
	var err error
	if c.Writers, err = intList(writers); err != nil {
		return fmt.Errorf("--writers: %w", err)
	}
	if wsConns != "" {
		if c.WSConns, err = intList(wsConns); err != nil {
			return fmt.Errorf("--ws-conns: %w", err)
		}
		set["ws-conns"] = true
	}
	c.defaults(set)
	if c.Out == "" {
		c.Out = "bench-results/RESULTS-" + time.Now().Format("2006-01-02") + ".json"
	}
	return c.Validate()
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	for _, s := range c.Scenarios {
		if !slices.Contains(knownScenarios, s) {
			errs = append(errs, fmt.Errorf("scenario %q is not one of %s or all", s, strings.Join(knownScenarios, ", ")))
		}
	}
	if len(c.Scenarios) == 0 {
		errs = append(errs, errors.New("no scenario"))
	}
	for _, s := range append(slices.Clone(c.Stores), c.PeakStore) {
		if s != storeSQLite && s != storePostgres {
			errs = append(errs, fmt.Errorf("store %q is not sqlite or postgres", s))
		}
	}
	if len(c.Stores) == 0 {
		errs = append(errs, errors.New("no store"))
	}
	var known []string
	for _, r := range projections.Reducers(time.UTC) {
		known = append(known, r.Name())
	}
	for _, p := range c.Projections {
		if !slices.Contains(known, p) {
			errs = append(errs, fmt.Errorf("projection %q is not one of %s", p, strings.Join(known, ", ")))
		}
	}
	for _, w := range c.Writers {
		if w < 1 {
			errs = append(errs, fmt.Errorf("%d writers", w))
		}
	}
	switch {
	case c.Duration <= 0:
		errs = append(errs, fmt.Errorf("duration %s is not positive", c.Duration))
	case c.HotN < 1:
		errs = append(errs, fmt.Errorf("%d hot streams", c.HotN))
	case c.Scale <= 0:
		errs = append(errs, fmt.Errorf("scale %g is not positive", c.Scale))
	case c.Classes < 1 || c.ClassSize < 2 || c.Parents < 1 || c.Window <= 0:
		errs = append(errs, errors.New("peak: classes, class size, parents and window must be positive"))
	case c.Parents > c.Classes*c.ClassSize:
		errs = append(errs, fmt.Errorf("peak: %d parents for %d students", c.Parents, c.Classes*c.ClassSize))
	case c.PeakAbsentees < 0 || c.PeakAbsentees > c.ClassSize:
		errs = append(errs, fmt.Errorf("peak: %d absent of %d", c.PeakAbsentees, c.ClassSize))
	case len(c.GrowthLevels) == 0:
		errs = append(errs, fmt.Errorf("growth: no level up to --growth-max %d", c.GrowthMax))
	}
	if c.has(scenarioSoak) {
		errs = append(errs, c.validateSoak())
	}
	for _, n := range c.WSConns {
		if n < 1 {
			errs = append(errs, fmt.Errorf("wsmem: %d connections", n))
		}
	}
	return errors.Join(errs...)
}

// validateSoak checks the soak's settings.
func (c *Config) validateSoak() error {
	switch {
	case c.SoakDuration <= 0 || c.SoakSample <= 0 || c.SoakDay <= 0 || c.SoakReads <= 0:
		return errors.New("soak: duration, sample interval, day and reads must be positive")
	case c.SoakDay < time.Second:
		return fmt.Errorf("soak: a day of %s leaves its eight lessons no time", c.SoakDay)
	case c.SoakSample*4 > c.SoakDuration:
		return fmt.Errorf("soak: %s sampled every %s leaves fewer than four samples", c.SoakDuration, c.SoakSample)
	case c.SoakClasses < 1 || c.SoakParents < 1:
		return errors.New("soak: classes and parents must be positive")
	case c.SoakParents > c.SoakClasses*c.ClassSize:
		return fmt.Errorf("soak: %d parents for %d students", c.SoakParents, c.SoakClasses*c.ClassSize)
	}
	return nil
}

// has reports whether scenario s is to run.
func (c *Config) has(s string) bool { return slices.Contains(c.Scenarios, s) }

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func intList(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(strings.ReplaceAll(p, "_", ""))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
