package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/simulation"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/tamper"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// replayScenario: every projection rebuilt over the simulated history,
// against a raw scan of the same rows decoded into the event structs.
func (e *env) replayScenario(ctx context.Context) error {
	defer func() { e.mem = nil }() // a million records: not kept for the other scenarios
	for _, kind := range e.storesFor() {
		if err := e.replayOn(ctx, kind); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
	}
	return nil
}

func (e *env) replayOn(ctx context.Context, kind string) error {
	// The history is written as `ledger simulate` writes it: SQLite
	// without a sync per commit (a simulated history can be written again
	// from its seed); it is then read back with the default, FULL.
	b, err := e.freshStore(ctx, kind, "replay", sqlite.WithSynchronous(sqlite.SyncNormal))
	if err != nil {
		return err
	}
	defer b.Close()
	sum, err := e.simulate(ctx, b, e.cfg.Scale)
	if err != nil {
		return err
	}
	if kind == storeSQLite {
		if err := b.reopen(ctx); err != nil {
			return err
		}
	}
	n, err := countEvents(ctx, b)
	if err != nil {
		return err
	}
	e.rep.Add(Row{Scenario: scenarioReplay, Store: kind, Case: fmt.Sprintf("history scale=%g", e.cfg.Scale), Metric: "events", Unit: "events", Value: float64(n)},
		Row{Scenario: scenarioReplay, Store: kind, Case: fmt.Sprintf("history scale=%g", e.cfg.Scale), Metric: "simulate", Unit: "ev/s", Value: float64(sum.EventsTotal) / sum.Elapsed.Seconds()})

	// The baseline before and after the replays: their mean.
	scan1, err := e.rawScan(ctx, b, n)
	if err != nil {
		return fmt.Errorf("raw scan: %w", err)
	}
	times, err := e.replayAll(ctx, b, n, 1000)
	if err != nil {
		return err
	}
	scan2, err := e.rawScan(ctx, b, n)
	if err != nil {
		return fmt.Errorf("raw scan: %w", err)
	}
	scanRate := (scan1 + scan2) / 2
	e.rep.Add(Row{Scenario: scenarioReplay, Store: kind, Case: "raw scan + decode", Metric: "events/s", Unit: "ev/s", Value: scanRate})
	e.logf("  %s raw scan: %.0f and %.0f ev/s", kind, scan1, scan2)
	var total time.Duration
	for _, t := range times {
		total += t.d
		rate := float64(n) / t.d.Seconds()
		e.rep.Add(atLeast(Row{Scenario: scenarioReplay, Store: kind, Case: t.name, Metric: "events/s", Unit: "ev/s", Value: rate,
			Baseline: "raw scan", BaselineValue: scanRate}, 0.5, true))
		e.rep.Add(Row{Scenario: scenarioReplay, Store: kind, Case: t.name, Metric: "documents", Unit: "docs", Value: float64(t.docs)})
		e.rep.Add(t.cpu...)
		if t.docs > 0 {
			// The floor the projection's output sets: its documents
			// written alone, as events/s of the history, against the scan
			// and then the projection against it.
			floor := float64(n) / t.write.Seconds()
			e.rep.Add(
				withRatio(Row{Scenario: scenarioReplay, Store: kind, Case: t.name + ", its documents written alone", Metric: "events/s", Unit: "ev/s", Value: floor,
					Baseline: "raw scan", BaselineValue: scanRate}),
				withRatio(Row{Scenario: scenarioReplay, Store: kind, Case: t.name + ", replay against its documents written alone", Metric: "events/s", Unit: "ev/s", Value: rate,
					Baseline: "documents written alone", BaselineValue: floor}))
		}
	}
	e.rep.Add(Row{Scenario: scenarioReplay, Store: kind, Case: "all projections, one after another", Metric: "events/s", Unit: "ev/s",
		Value: float64(n) / total.Seconds(), Baseline: "raw scan", BaselineValue: scanRate})
	return nil
}

// simWorkers is how many establishments are simulated at once: all ten.
const simWorkers = 10

// simulate writes the simulated history at scale into b, as `ledger
// simulate --scale F --workers 10` writes it. By default the commands run
// on the in-memory store, then the events are appended to b in log order
// by one loader per establishment, consecutive events of a stream in one
// append: the same events (ids, payloads, metadata, each establishment's
// order), many times faster than running every command's reads on b.
// With --simulate-on-store the commands run on b itself.
func (e *env) simulate(ctx context.Context, b *benchStore, scale float64) (simulation.Summary, error) {
	target := b.store()
	if e.cfg.SimulateOnStore {
		sum, err := e.runSimulation(ctx, target, b.kind, scale)
		if err != nil {
			return sum, err
		}
		return sum, verifyLog(ctx, target, sum.EventsTotal)
	}
	// Simulated once in memory, loaded into each store.
	e.memOnce.Do(func() {
		e.mem = memory.New()
		e.memSum, e.memErr = e.runSimulation(ctx, e.mem, "memory", scale)
	})
	if e.memErr != nil {
		return e.memSum, e.memErr
	}
	began := time.Now()
	var err error
	if b.pg != nil {
		err = e.copyLoad(ctx, e.mem, b)
	} else {
		err = e.load(ctx, e.mem, target, b.kind)
	}
	if err != nil {
		return e.memSum, fmt.Errorf("load: %w", err)
	}
	e.logf("  loaded into %s in %s", b.kind, time.Since(began).Round(time.Second))
	return e.memSum, verifyLog(ctx, target, e.memSum.EventsTotal)
}

// runSimulation runs the simulation's commands on s.
func (e *env) runSimulation(ctx context.Context, s commands.EventStore, where string, scale float64) (simulation.Summary, error) {
	factory := func(now func() time.Time) (*commands.Handlers, error) {
		return commands.New(commands.Config{Store: s, Registry: e.reg, Now: now})
	}
	p := startProgress(e.m.stderr, fmt.Sprintf("simulate --scale %g on %s", scale, where), 0)
	sum, err := simulation.Run(ctx, factory, simulation.Config{Scale: scale, Seed: e.cfg.Seed, Workers: simWorkers}, func(pr simulation.Progress) { p.Set(pr.Done) })
	p.Done()
	if err != nil {
		return sum, fmt.Errorf("simulate: %w", err)
	}
	if sum.Failures > 0 {
		return sum, fmt.Errorf("simulate: %d commands refused: %v", sum.Failures, sum.FailureSamples)
	}
	e.logf("  simulated %d events on %s in %s", sum.EventsTotal, where, sum.Elapsed.Round(time.Second))
	return sum, nil
}

// verifyLog checks the log with the store's own Verify: whatever wrote it,
// it must be what the store itself would have written, every hash chain
// intact.
func verifyLog(ctx context.Context, target eventStore, events int) error {
	v, ok := target.(interface {
		Verify(ctx context.Context) (tamper.VerifyReport, error)
	})
	if !ok {
		return nil
	}
	rep, err := v.Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if rep.Found > 0 || rep.Events != events {
		return fmt.Errorf("verify: %d events checked of %d, %d problems: %v", rep.Events, events, rep.Found, rep.Problems)
	}
	return nil
}

// copyLoad writes the log of src into the Postgres store's tables in log
// order, with COPY, as Append would write it (the same rows, chain hashes
// and stream heads) but ten thousand events per transaction: appending the
// simulation's short runs one by one takes an hour at scale 1 here. The
// caller checks the result with the store's Verify.
func (e *env) copyLoad(ctx context.Context, src *memory.Store, b *benchStore) error {
	recs, err := src.ReadAll(ctx, domain.Start, 0)
	if err != nil {
		return err
	}
	p := startProgress(e.m.stderr, "copy into postgres", len(recs))
	defer p.Done()
	type headRow struct {
		version uint64
		hash    []byte
	}
	heads := map[string]*headRow{}
	const batch = 10_000
	for i := 0; i < len(recs); i += batch {
		part := recs[i:min(i+batch, len(recs))]
		rows := make([][]any, len(part))
		touched := map[string]bool{}
		for j, r := range part {
			md, err := json.Marshal(r.Metadata)
			if err != nil {
				return err
			}
			h := heads[r.Stream]
			if h == nil {
				h = &headRow{}
				heads[r.Stream] = h
			}
			if r.Version != h.version+1 {
				return fmt.Errorf("%s: version %d after %d", r.Stream, r.Version, h.version)
			}
			hash := domain.ChainHash(h.hash, r.ID, r.Stream, r.Version, r.Type, r.Data, md)
			h.version, h.hash = r.Version, hash
			touched[r.Stream] = true
			rows[j] = []any{r.ID, r.Stream, int64(r.Version), r.Type, string(r.Data), string(md), r.Metadata.Time, hash}
		}
		var (
			streams  []string
			versions []int64
			hashes   [][]byte
		)
		for st := range touched {
			streams = append(streams, st)
			versions = append(versions, int64(heads[st].version))
			hashes = append(hashes, heads[st].hash)
		}
		err := pgx.BeginFunc(ctx, b.pg.Pool(), func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"},
				[]string{"id", "stream", "version", "type", "data", "metadata", "recorded_at", "hash"}, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO streams (stream, version, hash)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[])
ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash`, streams, versions, hashes)
			return err
		})
		if err != nil {
			return err
		}
		p.Add(len(part))
	}
	return nil
}

// load appends the log of src to dst: the events before the first one of
// an establishment in order, then one loader per establishment, each in
// its log order, consecutive events of one stream in one append with the
// exact expected version.
func (e *env) load(ctx context.Context, src *memory.Store, dst eventStore, kind string) error {
	recs, err := src.ReadAll(ctx, domain.Start, 0)
	if err != nil {
		return err
	}
	p := startProgress(e.m.stderr, "load into "+kind, len(recs))
	defer p.Done()
	appendRun := func(run []domain.Record) error {
		envs := make([]domain.Envelope, len(run))
		for i, r := range run {
			envs[i] = domain.Envelope{ID: r.ID, Type: r.Type, Data: r.Data, Metadata: r.Metadata}
		}
		if _, err := dst.Append(ctx, run[0].Stream, domain.Exact(run[0].Version-1), envs); err != nil {
			return err
		}
		p.Add(len(run))
		return nil
	}
	// loadSeq appends recs in order, a run of one stream at a time.
	loadSeq := func(recs []domain.Record) error {
		for i := 0; i < len(recs); {
			j := i + 1
			for j < len(recs) && recs[j].Stream == recs[i].Stream && j-i < 1000 {
				j++
			}
			if err := appendRun(recs[i:j]); err != nil {
				return err
			}
			i = j
		}
		return nil
	}
	first := 0
	for first < len(recs) && recs[first].Metadata.Establishment == "" {
		first++
	}
	if err := loadSeq(recs[:first]); err != nil {
		return err
	}
	// A stream stays with the establishment of its first event, so that
	// its appends keep their order.
	parts := map[string][]domain.Record{}
	partOf := map[string]string{}
	for _, r := range recs[:first] {
		partOf[r.Stream] = ""
	}
	for _, r := range recs[first:] {
		part, seen := partOf[r.Stream]
		if !seen {
			part = r.Metadata.Establishment
			partOf[r.Stream] = part
		}
		parts[part] = append(parts[part], r)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, part := range parts {
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			return loadSeq(part)
		})
	}
	return g.Wait()
}

type timing struct {
	name string
	d    time.Duration
	// write is the time the projection's documents take to write alone
	// (rawWrite), docs how many there are.
	write time.Duration
	docs  int
	// cpu is what the machine's cores did during the replay, in cores.
	cpu []Row
}

// replayAll rebuilds every projection, one after another as `ledger
// rebuild` does, each into a fresh namespace (generation gen).
func (e *env) replayAll(ctx context.Context, b *benchStore, n int64, gen int) ([]timing, error) {
	runner, err := e.runner(b)
	if err != nil {
		return nil, err
	}
	var out []timing
	for _, red := range runner.Reducers() {
		if len(e.cfg.Projections) > 0 && !slices.Contains(e.cfg.Projections, red.Name()) {
			continue
		}
		p := startProgress(e.m.stderr, b.kind+" replay "+red.Name(), int(n))
		cpu := e.startUsage(b, 0)
		began := time.Now()
		done, err := runner.CatchUp(ctx, red, projections.Namespace(red.Name(), gen), func(d int) { p.Set(d) })
		d := time.Since(began)
		cpuRows := cpu.rows(scenarioReplay, b.kind, red.Name()+", CPU during the replay")
		p.Done()
		if err != nil {
			return nil, fmt.Errorf("replay %s: %w", red.Name(), err)
		}
		if int64(done) != n {
			return nil, fmt.Errorf("replay %s: %d events applied, the log holds %d", red.Name(), done, n)
		}
		txs := (done + e.catchUpBatch() - 1) / e.catchUpBatch()
		write, docs, err := e.rawWrite(ctx, b, projections.Namespace(red.Name(), gen), txs)
		if err != nil {
			return nil, err
		}
		out = append(out, timing{name: red.Name(), d: d, write: write, docs: docs, cpu: cpuRows})
	}
	return out, nil
}

// catchUpBatch is the events per transaction of the replays.
func (e *env) catchUpBatch() int {
	if e.cfg.ReplayBatch > 0 {
		return e.cfg.ReplayBatch
	}
	return projector.DefaultCatchUpBatch
}

// runner is the runner `ledger serve` and `ledger rebuild` build.
func (e *env) runner(b *benchStore) (*projector.Runner, error) {
	return projector.NewRunner(projector.RunnerConfig{
		Log: b.store(), Docs: b.docs, Gens: b.docs, Registry: e.reg, Locker: b.docs,
		Reducers: projections.Reducers(e.loc), BatchSize: e.cfg.ReplayBatch, CatchUpBatch: e.cfg.ReplayBatch,
	})
}

// countEvents counts the log.
func countEvents(ctx context.Context, b *benchStore) (int64, error) {
	var n int64
	var err error
	if b.pg != nil {
		err = b.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n)
	} else {
		err = b.sqlite.DB().QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	}
	return n, err
}

// rawScan reads every event with the driver alone, in log order, and
// decodes payload and metadata into the event structs: the floor of any
// replay. It returns events per second.
func (e *env) rawScan(ctx context.Context, b *benchStore, n int64) (float64, error) {
	p := startProgress(e.m.stderr, b.kind+" raw scan", int(n))
	defer p.Done()
	began := time.Now()
	var count int64
	// decode does what a replay must do with each row at the least: the
	// record's metadata and the typed event.
	decode := func(rec *domain.Record, md []byte) error {
		if err := json.Unmarshal(md, &rec.Metadata); err != nil {
			return err
		}
		if _, err := e.reg.DecodeRecord(*rec); err != nil {
			return err
		}
		count++
		if count%4096 == 0 {
			p.Set(int(count))
		}
		return nil
	}
	if b.pg != nil {
		rows, err := b.pg.Pool().Query(ctx, `SELECT tx_id::text, seq, id, stream, version, type, data, metadata FROM events ORDER BY tx_id, seq`)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				rec domain.Record
				tx  string
				md  []byte
			)
			if err := rows.Scan(&tx, &rec.Position.Seq, &rec.ID, &rec.Stream, &rec.Version, &rec.Type, &rec.Data, &md); err != nil {
				return 0, err
			}
			if rec.Position.Tx, err = strconv.ParseUint(tx, 10, 64); err != nil {
				return 0, err
			}
			if err := decode(&rec, md); err != nil {
				return 0, err
			}
		}
		if err := rows.Err(); err != nil {
			return 0, err
		}
	} else {
		rows, err := b.sqlite.DB().QueryContext(ctx, `SELECT position, id, stream, version, type, data, metadata FROM events ORDER BY position`)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				rec domain.Record
				pos int64
				id  string
				md  []byte
			)
			if err := rows.Scan(&pos, &id, &rec.Stream, &rec.Version, &rec.Type, &rec.Data, &md); err != nil {
				return 0, err
			}
			if rec.ID, err = uuid.Parse(id); err != nil {
				return 0, err
			}
			rec.Position.Seq = uint64(pos)
			if err := decode(&rec, md); err != nil {
				return 0, err
			}
		}
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	if count != n {
		return 0, fmt.Errorf("raw scan read %d events of %d", count, n)
	}
	return float64(count) / time.Since(began).Seconds(), nil
}
