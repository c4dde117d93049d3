package main

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/schoollife/ledger/projections"
)

// expectedRows lists the rows (scenario, store, case, metric) a complete
// run with cfg writes: the smoke test checks that every one is there, and
// the run notes the ones that are missing.
func expectedRows(cfg *Config) []Row {
	var out []Row
	add := func(scenario, store, cas string, metrics ...string) {
		for _, m := range metrics {
			out = append(out, Row{Scenario: scenario, Store: store, Case: cas, Metric: m})
		}
	}
	for _, s := range cfg.Scenarios {
		switch s {
		case scenarioAppend:
			for _, store := range cfg.Stores {
				for _, w := range cfg.Writers {
					add(s, store, fmt.Sprintf("writers=%d distinct", w), "events/s", "p50", "p99", "conflicts", "failed", "events/s vs bulk")
					add(s, store, fmt.Sprintf("writers=%d hot=%d", w, cfg.HotN), "events/s", "p50", "p99", "conflicts", "failed")
					if w == diagWriters {
						add(s, store, fmt.Sprintf("writers=%d append only (version known)", w), "ops/s", "p50", "p99")
						add(s, store, fmt.Sprintf("writers=%d read version only", w), "ops/s", "p50", "p99")
						if store == storeSQLite {
							add(s, store, ceilingCase(), "events/s")
						}
					}
				}
			}
		case scenarioReplay:
			for _, store := range cfg.Stores {
				hist := fmt.Sprintf("history scale=%g", cfg.Scale)
				add(s, store, hist, "events", "simulate")
				add(s, store, "raw scan + decode", "events/s")
				for _, r := range projections.Reducers(time.UTC) {
					if len(cfg.Projections) == 0 || slices.Contains(cfg.Projections, r.Name()) {
						add(s, store, r.Name(), "events/s", "documents")
						add(s, store, r.Name()+", CPU during the replay", "ledger-bench", "postgres", "other processes", "idle", "cores")
					}
				}
				add(s, store, "all projections, one after another", "events/s")
			}
		case scenarioPeak:
			store := cfg.PeakStore
			add(s, store, "roll call command", "p50", "p99", "max", "failed", "sent within")
			add(s, store, "absence notification", "p50", "p99", "max", "expected", "lost", "misdelivered")
			add(s, store, "sign-in (argon2id)", "p50", "count")
			add(s, store, "CPU during the roll calls", "ledger serve", "postgres", "load generator", "other processes", "idle", "cores")
		case scenarioWSMem:
			if n := len(cfg.WSConns); n > 1 {
				add(s, cfg.PeakStore, fmt.Sprintf("ledger serve, from %d to %d idle sockets", cfg.WSConns[n-2], cfg.WSConns[n-1]), "RSS per socket")
			}
			for _, n := range cfg.WSConns {
				add(s, cfg.PeakStore, fmt.Sprintf("ledger serve, %d idle sockets", n), "RSS per socket", "heap+stack per socket (gctrace)")
				add(s, "-", fmt.Sprintf("live endpoint in process, %d idle sockets", n), "heap+stack per socket", "heap per socket", "stack per socket", "RSS per socket")
			}
		case scenarioSoak:
			for _, store := range cfg.Stores {
				add(s, store, "requests", append(slices.Clone(soakKinds), "all", "failed")...)
				add(s, store, "live sockets", "frames", "reconnects", "closed by the server")
				add(s, store, "absence notification", "expected", "lost", "misdelivered", "duplicated", "unexpected")
				for _, f := range soakFigures {
					add(s, store, f.name, soakMetrics...)
				}
				add(s, store, "metrics", "samples")
			}
		case scenarioGrowth:
			for _, store := range cfg.Stores {
				for _, l := range cfg.GrowthLevels {
					add(s, store, growthCase(l), "events", "append p50", "append p99", "query p50", "query p99", "replay", "replay events/s")
					if store == storeSQLite {
						add(s, store, growthCase(l), "replay bytes written per event")
					}
				}
			}
		}
	}
	return out
}

// missingRows returns the expected rows rep lacks, and the rows whose value
// is not a finite number.
func missingRows(cfg *Config, rep *Report) (missing, invalid []string) {
	for _, want := range expectedRows(cfg) {
		got, ok := rep.Find(want.Scenario, want.Store, want.Case, want.Metric)
		if !ok {
			missing = append(missing, want.key())
			continue
		}
		if math.IsNaN(got.Value) || math.IsInf(got.Value, 0) {
			invalid = append(invalid, want.key())
		}
	}
	return missing, invalid
}
