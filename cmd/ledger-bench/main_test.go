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
	if cfg.has(scenarioGrowth) {
		for _, f := range []string{"growth-query.png", "growth-append.png", "growth-replay.png"} {
			if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
				t.Errorf("plot %s: %v", f, err)
			}
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
