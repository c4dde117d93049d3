package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestMain runs the helper processes the benchmark starts from its own
// binary (the test binary, here).
func TestMain(m *testing.M) {
	if os.Getenv(EnvChild) != "" {
		if err := NewMain(os.Stdout, os.Stderr, os.Getenv).Run(context.Background(), os.Args[1:]); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// smokeArgs are the --quick runs of the tests, smaller still where the
// race detector slows the in-process work down.
var smokeArgs = []string{
	"--quick", "--scale", "0.005", "--writers", "1,8,64", "--duration", "250ms", "--copy-rows", "2000",
	"--classes", "4", "--parents", "20", "--window", "500ms", "--ws-conns", "20,100", "--growth-max", "10000",
}

// MustRun runs the benchmark with args and returns its report, after
// checking that it has every figure of its configuration.
func MustRun(t *testing.T, args ...string) *Report {
	t.Helper()
	if testing.Short() {
		t.Skip("a run of every scenario takes a minute or two")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "results.json")
	args = append(append([]string{}, args...), "--out", out, "--plots", dir)
	var stdout, stderr bytes.Buffer
	// No deadline of its own: on a busy machine a run (with the build of
	// the ledger binary it serves) takes what it takes. The test binary's
	// -timeout bounds it; stop a little before, to report the output.
	ctx := t.Context()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
		defer cancel()
	}
	m := NewMain(&stdout, &stderr, func(string) string { return "" })
	if err := m.Run(ctx, args); err != nil {
		t.Fatalf("ledger-bench %s: %v\n%s\n%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	rep, err := readReport(out)
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := m.parse(&cfg, args); err != nil {
		t.Fatal(err)
	}
	missing, invalid := missingRows(&cfg, rep)
	for _, k := range missing {
		t.Errorf("missing figure %s", k)
	}
	for _, k := range invalid {
		t.Errorf("invalid figure %s", k)
	}
	if len(rep.Rows) == 0 || rep.Finished.IsZero() {
		t.Errorf("empty report: %+v", rep)
	}
	for _, row := range rep.Rows {
		if row.Met != nil && row.Target == "" {
			t.Errorf("%s: a verdict without a target", row.key())
		}
	}
	// A projection that wrote documents has its floor: them written alone.
	for _, row := range rep.Rows {
		if row.Scenario != scenarioReplay || row.Metric != "documents" || row.Value == 0 {
			continue
		}
		for _, c := range []string{", its documents written alone", ", replay against its documents written alone"} {
			if _, ok := rep.Find(scenarioReplay, row.Store, row.Case+c, "events/s"); !ok {
				t.Errorf("%s: %d documents but no figure %q", row.Case, int(row.Value), row.Case+c)
			}
		}
	}
	if !strings.Contains(stdout.String(), "scenario") {
		t.Errorf("no table printed:\n%s", stdout.String())
	}
	var plots []string
	if cfg.has(scenarioGrowth) {
		plots = append(plots, "growth-query.png", "growth-append.png", "growth-replay.png")
	}
	if cfg.has(scenarioSoak) {
		for _, store := range cfg.Stores {
			plots = append(plots, "soak-"+store+"-memory.png", "soak-"+store+"-counts.png")
		}
	}
	for _, f := range plots {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("plot %s: %v", f, err)
		}
	}
	return rep
}

// TestQuickSQLite runs every scenario, small, on SQLite.
func TestQuickSQLite(t *testing.T) {
	rep := MustRun(t, append([]string{"--stores", "sqlite", "--peak-store", "sqlite"}, smokeArgs...)...)
	if r, ok := rep.Find(scenarioPeak, storeSQLite, "absence notification", "lost"); !ok || r.Value != 0 {
		t.Errorf("notifications lost: %+v", r)
	}
}

// TestQuickPostgres runs every scenario, small, on PostgreSQL: skipped
// without a server, except under CI=true.
func TestQuickPostgres(t *testing.T) {
	dsn := os.Getenv("LEDGER_TEST_POSTGRES")
	if dsn == "" {
		dsn = DefaultPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no PostgreSQL server at %s: %v", dsn, err)
		}
		t.Skipf("no PostgreSQL server at %s (%v): start it or set LEDGER_TEST_POSTGRES", dsn, err)
	}
	conn.Close(context.Background())
	MustRun(t, append([]string{"--stores", "postgres", "--peak-store", "postgres", "--postgres", dsn}, smokeArgs...)...)
}

// TestQuickSoak runs the soak briefly on SQLite: it checks the machinery
// (the load ran, /metrics was read into every series, the report and the
// plots were written), not the flatness, which takes half an hour.
func TestQuickSoak(t *testing.T) {
	rep := MustRun(t, "--scenario", "soak", "--stores", "sqlite", "--quick", "--soak-duration", "20s")
	samples, ok := rep.Find(scenarioSoak, storeSQLite, "metrics", "samples")
	if !ok || samples.Value < 4 {
		t.Fatalf("readings of /metrics: %+v", samples)
	}
	series := map[string]Series{}
	for _, s := range rep.Series {
		if s.Scenario == scenarioSoak && s.Store == storeSQLite {
			series[s.Name] = s
		}
	}
	for _, f := range soakFigures {
		if n := len(series[f.name].Points); n != int(samples.Value) {
			t.Errorf("series %s: %d points for %g readings", f.name, n, samples.Value)
		}
	}
	if pts := series["goroutines"].Points; len(pts) > 0 && pts[0].V <= 0 {
		t.Errorf("goroutines read as %g", pts[0].V)
	}
	for _, kind := range []string{"roll call", "live socket", "GET /metrics"} {
		if r, _ := rep.Find(scenarioSoak, storeSQLite, "requests", kind); r.Value <= 0 {
			t.Errorf("no %s request: %+v", kind, r)
		}
	}
	if r, _ := rep.Find(scenarioSoak, storeSQLite, "requests", "failed"); r.Value > 0 {
		t.Logf("%g requests failed: %v", r.Value, rep.Notes)
	}
}

// TestSoakOnlyWhenNamed: "all" leaves the soak out, it lasts too long.
func TestSoakOnlyWhenNamed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		soak bool
	}{
		{nil, false},
		{[]string{"--scenario", "all"}, false},
		{[]string{"--scenario", "soak"}, true},
		{[]string{"--scenario", "peak,soak"}, true},
	} {
		var cfg Config
		var stderr bytes.Buffer
		if err := NewMain(&stderr, &stderr, func(string) string { return "" }).parse(&cfg, tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if cfg.has(scenarioSoak) != tc.soak {
			t.Errorf("%v: soak %v, want %v", tc.args, cfg.has(scenarioSoak), tc.soak)
		}
	}
}

// TestConfigValidate refuses what no run can do.
func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"unknown scenario", []string{"--scenario", "nap"}},
		{"unknown store", []string{"--stores", "mysql"}},
		{"more parents than students", []string{"--classes", "1", "--parents", "100"}},
		{"no writers", []string{"--writers", "0"}},
		{"no growth level", []string{"--growth-max", "10"}},
		{"soak day too short", []string{"--scenario", "soak", "--soak-day", "500ms"}},
		{"soak with too few readings", []string{"--scenario", "soak", "--soak-duration", "30s", "--soak-sample", "10s"}},
		{"soak with more parents than students", []string{"--scenario", "soak", "--soak-classes", "1", "--soak-parents", "31"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg Config
			var stderr bytes.Buffer
			if err := NewMain(&stderr, &stderr, func(string) string { return "" }).parse(&cfg, tc.args); err == nil {
				t.Errorf("%v accepted", tc.args)
			}
		})
	}
}
