package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// appendRetries bounds the attempts after a version conflict, as
// commands.Config.Retries does by default.
const appendRetries = 5

// maxRawConns caps the baseline's connections: PostgreSQL's
// max_connections is 100 here, and the store and the server keep some.
const maxRawConns = 80

// appendScenario: concurrent single-event commands with an expected
// version, against single-row INSERT transactions and COPY of the same
// rows into a plain table of the same database.
func (e *env) appendScenario(ctx context.Context) error {
	for _, kind := range e.storesFor() {
		if err := e.appendOn(ctx, kind); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
	}
	return nil
}

// runResult is what a timed run of workers did.
type runResult struct {
	ops, failed, conflicts int64
	elapsed                time.Duration
	lat                    summary
}

func (r runResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ops) / r.elapsed.Seconds()
}

// runTimed runs op in workers goroutines until d has passed, timing each
// call. op returns the conflicts it retried through and its error.
func runTimed(ctx context.Context, workers int, d time.Duration, label string, e *env, op func(ctx context.Context, w int) (int, error)) (runResult, error) {
	var (
		lat       latencies
		ops, fail atomic.Int64
		conflicts atomic.Int64
		wg        sync.WaitGroup
		firstErr  error
		errOnce   sync.Once
	)
	p := startProgress(e.m.stderr, label, 0)
	deadline := time.Now().Add(d)
	began := time.Now()
	for w := range workers {
		wg.Go(func() {
			own := make([]time.Duration, 0, 1024)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				c, err := op(ctx, w)
				conflicts.Add(int64(c))
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					fail.Add(1)
					errOnce.Do(func() { firstErr = err })
					if !errors.Is(err, domain.ErrVersionConflict) {
						break // a broken store: stop this worker
					}
					continue
				}
				own = append(own, time.Since(t))
				ops.Add(1)
				p.Add(1)
			}
			lat.merge(own)
		})
	}
	wg.Wait()
	p.Done()
	res := runResult{ops: ops.Load(), failed: fail.Load(), conflicts: conflicts.Load(), elapsed: time.Since(began), lat: lat.Summary()}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if firstErr != nil && !errors.Is(firstErr, domain.ErrVersionConflict) {
		return res, firstErr
	}
	return res, nil
}

func (e *env) appendOn(ctx context.Context, kind string) error {
	b, err := e.freshStore(ctx, kind, "append")
	if err != nil {
		return err
	}
	defer b.Close()
	raw, err := e.openRaw(ctx, b)
	if err != nil {
		return err
	}
	defer raw.Close()
	e.rep.Set(kind+"_durability", raw.durability)
	if b.pg != nil {
		e.rep.Set("postgres_store_pool_max_conns", strconv.Itoa(int(b.pg.Pool().Config().MaxConns)))
	}

	teacher, group := uuid.New(), uuid.New()
	day := domain.DateOf(time.Now().In(e.loc))
	newEvent := func() domain.Envelope {
		return e.absenceEnvelope(teacher, uuid.New(), group, day, rand.IntN(len(slots)))
	}
	s := b.store()

	for _, writers := range e.cfg.Writers {
		// The baseline first, then the ledger on distinct streams and on
		// hot ones, back to back, so that all three share the machine's
		// mood of the moment.
		base, err := runTimed(ctx, writers, e.cfg.Duration, fmt.Sprintf("%s raw INSERT, %d writers", kind, writers), e, func(ctx context.Context, w int) (int, error) {
			return 0, raw.insert(ctx, toRaw(newEvent(), "raw", 1))
		})
		if err != nil {
			return fmt.Errorf("baseline, %d writers: %w", writers, err)
		}
		for _, hot := range []int{0, e.cfg.HotN} {
			streams := make([]string, writers)
			versions := make([]uint64, writers)
			for w := range streams {
				if hot == 0 {
					streams[w] = domain.LessonStream(uuid.New())
				} else if w < hot {
					streams[w] = domain.LessonStream(uuid.New())
				} else {
					streams[w] = streams[w%hot]
				}
			}
			cas := fmt.Sprintf("writers=%d distinct", writers)
			if hot > 0 {
				cas = fmt.Sprintf("writers=%d hot=%d", writers, hot)
			}
			res, err := runTimed(ctx, writers, e.cfg.Duration, kind+" ledger "+cas, e, func(ctx context.Context, w int) (int, error) {
				return appendCommand(ctx, s, streams[w], &versions[w], newEvent())
			})
			if err != nil {
				return fmt.Errorf("ledger %s: %w", cas, err)
			}
			row := Row{Scenario: scenarioAppend, Store: kind, Case: cas, Metric: "events/s", Unit: "ev/s", Value: res.rate(),
				Baseline: "INSERT/tx", BaselineValue: base.rate()}
			if writers == 64 && hot == 0 {
				row = atLeast(row, 5, true)
			}
			e.rep.Add(row,
				Row{Scenario: scenarioAppend, Store: kind, Case: cas, Metric: "p50", Unit: "ms", Value: res.lat.P50, Baseline: "INSERT/tx", BaselineValue: base.lat.P50},
				Row{Scenario: scenarioAppend, Store: kind, Case: cas, Metric: "p99", Unit: "ms", Value: res.lat.P99, Baseline: "INSERT/tx", BaselineValue: base.lat.P99},
				Row{Scenario: scenarioAppend, Store: kind, Case: cas, Metric: "conflicts", Unit: "retries", Value: float64(res.conflicts)},
				Row{Scenario: scenarioAppend, Store: kind, Case: cas, Metric: "failed", Unit: "commands", Value: float64(res.failed)},
			)
			e.logf("  %s %s: %.0f ev/s (INSERT/tx %.0f), p50 %.2f ms, p99 %.2f ms, %d conflicts, %d failed",
				kind, cas, res.rate(), base.rate(), res.lat.P50, res.lat.P99, res.conflicts, res.failed)
		}
	}

	// Where the time of a command goes, at the target's concurrency: its
	// two halves alone, on distinct streams.
	if slices.Contains(e.cfg.Writers, diagWriters) {
		if err := e.appendHalves(ctx, kind, s, newEvent); err != nil {
			return err
		}
	}

	if raw.grouped != nil && slices.Contains(e.cfg.Writers, diagWriters) {
		if err := e.groupCeiling(ctx, kind, raw, newEvent); err != nil {
			return err
		}
	}

	// COPY: the ceiling of bulk loading, one transaction.
	rows := make([]rawRow, e.cfg.CopyRows)
	for i := range rows {
		rows[i] = toRaw(newEvent(), "copy", int64(i+1))
	}
	began := time.Now()
	if err := raw.copy(ctx, rows); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	copyRate := float64(len(rows)) / time.Since(began).Seconds()
	e.logf("  %s %s: %.0f ev/s", kind, raw.copyName, copyRate)
	for _, writers := range e.cfg.Writers {
		cas := fmt.Sprintf("writers=%d distinct", writers)
		if r, ok := e.rep.Find(scenarioAppend, kind, cas, "events/s"); ok {
			e.rep.Add(Row{Scenario: scenarioAppend, Store: kind, Case: cas, Metric: "events/s vs bulk", Unit: "ev/s", Value: r.Value,
				Baseline: raw.copyName, BaselineValue: copyRate})
		}
	}
	return nil
}

// diagWriters is the concurrency of the target, at which the
// halves of a command are measured alone.
const diagWriters = 64

// appendHalves measures the two halves of a command alone: the read of
// the stream's version, and the append with a version already known.
func (e *env) appendHalves(ctx context.Context, kind string, s eventStore, newEvent func() domain.Envelope) error {
	base, ok := e.rep.Find(scenarioAppend, kind, fmt.Sprintf("writers=%d distinct", diagWriters), "events/s")
	if !ok {
		return nil
	}
	streams := make([]string, diagWriters)
	versions := make([]uint64, diagWriters)
	for w := range streams {
		streams[w] = domain.LessonStream(uuid.New())
	}
	halves := []struct {
		name string
		op   func(ctx context.Context, w int) (int, error)
	}{
		{"append only (version known)", func(ctx context.Context, w int) (int, error) {
			res, err := s.Append(ctx, streams[w], domain.Exact(versions[w]), []domain.Envelope{newEvent()})
			if err == nil {
				versions[w] = res.Version
			}
			return 0, err
		}},
		{"read version only", func(ctx context.Context, w int) (int, error) {
			_, err := s.ReadStream(ctx, streams[w], versions[w])
			return 0, err
		}},
	}
	for _, h := range halves {
		cas := fmt.Sprintf("writers=%d %s", diagWriters, h.name)
		res, err := runTimed(ctx, diagWriters, e.cfg.Duration, kind+" "+cas, e, h.op)
		if err != nil {
			return fmt.Errorf("%s: %w", cas, err)
		}
		e.rep.Add(
			Row{Scenario: scenarioAppend, Store: kind, Case: cas, Metric: "ops/s", Unit: "ops/s", Value: res.rate(), Baseline: "INSERT/tx", BaselineValue: base.BaselineValue},
			Row{Scenario: scenarioAppend, Store: kind, Case: cas, Metric: "p50", Unit: "ms", Value: res.lat.P50},
			Row{Scenario: scenarioAppend, Store: kind, Case: cas, Metric: "p99", Unit: "ms", Value: res.lat.P99},
		)
		e.logf("  %s %s: %.0f ops/s, p50 %.2f ms, p99 %.2f ms", kind, cas, res.rate(), res.lat.P50, res.lat.P99)
	}
	return nil
}

// ceilingCase names groupCeiling's figure.
func ceilingCase() string {
	return fmt.Sprintf("writers=%d ceiling: groups of %d raw INSERTs into the log's indexes", diagWriters, diagWriters)
}

// groupCeiling measures the most group commit can give diagWriters
// writers on a store with one writer (SQLite): each writer waits for its
// append's commit, so a group holds at most one append per writer, and
// each append writes at least its row and its entries in the log's two
// unique indexes. Here transactions of diagWriters rows, one per stream,
// go into a table shaped as the log, with nothing else: no read, no
// check, no hash chain, no stream head. The rows are made on another
// goroutine, as the writers make their events beside the committer.
func (e *env) groupCeiling(ctx context.Context, kind string, raw *rawStore, newEvent func() domain.Envelope) error {
	base, ok := e.rep.Find(scenarioAppend, kind, fmt.Sprintf("writers=%d distinct", diagWriters), "events/s")
	if !ok {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	groups := make(chan []rawRow, 4)
	go func() {
		defer close(groups)
		streams := make([]string, diagWriters)
		for i := range streams {
			streams[i] = domain.LessonStream(uuid.New())
		}
		for version := int64(1); ; version++ {
			rows := make([]rawRow, diagWriters)
			for i := range rows {
				rows[i] = toRaw(newEvent(), streams[i], version)
			}
			select {
			case groups <- rows:
			case <-ctx.Done():
				return
			}
		}
	}()
	cas := ceilingCase()
	res, err := runTimed(ctx, 1, e.cfg.Duration, kind+" "+cas, e, func(ctx context.Context, _ int) (int, error) {
		return 0, raw.grouped(ctx, <-groups)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", cas, err)
	}
	rate := res.rate() * diagWriters
	e.rep.Add(Row{Scenario: scenarioAppend, Store: kind, Case: cas, Metric: "events/s", Unit: "ev/s", Value: rate,
		Baseline: "INSERT/tx", BaselineValue: base.BaselineValue})
	e.logf("  %s %s: %.0f ev/s (INSERT/tx %.0f)", kind, cas, rate, base.BaselineValue)
	return nil
}

// appendCommand is one single-event command as the command layer runs it:
// read the stream's version (the events after the last one seen), append
// with that exact version, and on a conflict back off and try again, a
// bounded number of times. It returns the conflicts met.
func appendCommand(ctx context.Context, s eventStore, stream string, version *uint64, ev domain.Envelope) (int, error) {
	for attempt := 0; ; attempt++ {
		recs, err := s.ReadStream(ctx, stream, *version)
		if err != nil {
			return attempt, err
		}
		if n := len(recs); n > 0 {
			*version = recs[n-1].Version
		}
		res, err := s.Append(ctx, stream, domain.Exact(*version), []domain.Envelope{ev})
		if err == nil {
			*version = res.Version
			return attempt, nil
		}
		if !errors.Is(err, domain.ErrVersionConflict) || attempt >= appendRetries {
			return attempt, err
		}
		commands.Backoff(ctx, attempt)
	}
}

// rawStore is the baseline: the same columns in a plain table (no key, no
// index, no check), written by the driver directly. On SQLite, grouped
// writes rows in one transaction into a second table shaped as the log
// (its rowid and its two unique indexes), for the ceiling of group commit.
type rawStore struct {
	insert     func(ctx context.Context, r rawRow) error
	copy       func(ctx context.Context, rows []rawRow) error
	grouped    func(ctx context.Context, rows []rawRow) error
	copyName   string
	durability string
	Close      func()
}

const rawColumns = `id, stream, version, type, data, metadata, recorded_at, hash`

func (e *env) openRaw(ctx context.Context, b *benchStore) (*rawStore, error) {
	if b.kind == storePostgres {
		return e.openRawPostgres(ctx, b)
	}
	return openRawSQLite(ctx, b.path)
}

func (e *env) openRawPostgres(ctx context.Context, b *benchStore) (*rawStore, error) {
	maxW := 1
	for _, w := range e.cfg.Writers {
		maxW = max(maxW, w)
	}
	cfg, err := pgxpool.ParseConfig(b.dsn)
	if err != nil {
		return nil, err
	}
	room, err := connectionRoom(ctx, b)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(max(1, min(maxW, maxRawConns, room)))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_raw (
		id uuid NOT NULL, stream text NOT NULL, version bigint NOT NULL, type text NOT NULL,
		data json NOT NULL, metadata json NOT NULL, recorded_at timestamptz NOT NULL, hash bytea NOT NULL)`); err != nil {
		pool.Close()
		return nil, err
	}
	var sync string
	if err := pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&sync); err != nil {
		pool.Close()
		return nil, err
	}
	e.rep.Set("postgres_baseline_pool_max_conns", strconv.Itoa(int(cfg.MaxConns)))
	return &rawStore{
		insert: func(ctx context.Context, r rawRow) error {
			_, err := pool.Exec(ctx, `INSERT INTO bench_raw (`+rawColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				r.id, r.stream, r.version, r.typ, r.data, r.metadata, r.recordedAt, r.hash)
			return err
		},
		copy: func(ctx context.Context, rows []rawRow) error {
			_, err := pool.CopyFrom(ctx, pgx.Identifier{"bench_raw"},
				[]string{"id", "stream", "version", "type", "data", "metadata", "recorded_at", "hash"},
				pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
					r := rows[i]
					return []any{r.id, r.stream, r.version, r.typ, r.data, r.metadata, r.recordedAt, r.hash}, nil
				}))
			return err
		},
		copyName:   "COPY",
		durability: "synchronous_commit=" + sync,
		Close:      pool.Close,
	}, nil
}

// connectionRoom is how many more connections the server accepts once
// the store's pool is full, with a few to spare.
func connectionRoom(ctx context.Context, b *benchStore) (int, error) {
	var limit, reserved, open int
	err := b.pg.Pool().QueryRow(ctx, `SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int,
		(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')`).Scan(&limit, &reserved, &open)
	if err != nil {
		return 0, fmt.Errorf("count connections: %w", err)
	}
	stat := b.pg.Pool().Stat()
	unopened := int(stat.MaxConns()) - int(stat.TotalConns())
	return limit - reserved - open - unopened - 4, nil
}

// openRawSQLite opens the store's file on a writer connection of its own,
// as the store does: WAL, synchronous FULL, BEGIN IMMEDIATE.
func openRawSQLite(ctx context.Context, path string) (*rawStore, error) {
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_raw (
		id TEXT NOT NULL, stream TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL,
		data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL, hash BLOB NOT NULL)`); err != nil {
		db.Close()
		return nil, err
	}
	var sync, journal string
	if err := db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
		db.Close()
		return nil, err
	}
	if sync != "2" {
		db.Close()
		return nil, fmt.Errorf("sqlite baseline: synchronous is %s, not FULL (2)", sync)
	}
	// The log's shape (migrations/sqlite/0001_events.sql): the position,
	// the unique event id, the unique (stream, version).
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_raw_indexed (
		position INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL,
		data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL, hash BLOB NOT NULL,
		UNIQUE (stream, version))`); err != nil {
		db.Close()
		return nil, err
	}
	ins, err := db.PrepareContext(ctx, `INSERT INTO bench_raw (`+rawColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		db.Close()
		return nil, err
	}
	insIndexed, err := db.PrepareContext(ctx, `INSERT INTO bench_raw_indexed (`+rawColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		ins.Close()
		db.Close()
		return nil, err
	}
	// inOneTx runs insert once for each row, in one transaction.
	inOneTx := func(ctx context.Context, insert *sql.Stmt, rows []rawRow) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		st := tx.StmtContext(ctx, insert)
		for _, r := range rows {
			args := []any{r.id.String(), r.stream, r.version, r.typ, r.data, r.metadata, r.recordedAt.Format(time.RFC3339Nano), r.hash}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return errors.Join(err, tx.Rollback())
			}
		}
		return tx.Commit()
	}
	return &rawStore{
		insert: func(ctx context.Context, r rawRow) error {
			return inOneTx(ctx, ins, []rawRow{r})
		},
		copy: func(ctx context.Context, rows []rawRow) error {
			return inOneTx(ctx, ins, rows)
		},
		grouped: func(ctx context.Context, rows []rawRow) error {
			return inOneTx(ctx, insIndexed, rows)
		},
		copyName:   "one-tx INSERTs",
		durability: "journal_mode=" + journal + " synchronous=FULL (store and baseline)",
		Close:      func() { insIndexed.Close(); ins.Close(); db.Close() },
	}, nil
}
