package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/domain"
)

// benchWriters are the concurrencies of BenchmarkAppendConcurrent and
// BenchmarkRawInsert, which are compared at each (docs/performance.md).
var benchWriters = []int{1, 8, 64, 256}

// benchPoolConns is the benchmarked store's pool size: its committers plus
// room for the readers that catch up after a conflict.
const benchPoolConns = 16

// BenchmarkAppendConcurrent appends single-event commands with an exact
// expected version from concurrent writers, each to a stream of its own
// (distinct) or all to four hot streams (hot4), retrying on a version
// conflict as the command handlers do: read the stream's new events, back
// off, append again. events/s counts the events stored.
func BenchmarkAppendConcurrent(b *testing.B) {
	dsn := pgtest.MustDatabase(b)
	s := MustOpen(b, dsn, WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = benchPoolConns }))
	b.Cleanup(func() { s.Close() })
	db := databaseName(dsn)
	for _, writers := range benchWriters {
		for _, hot := range []int{0, 4} {
			name := fmt.Sprintf("writers=%d/streams=distinct", writers)
			if hot > 0 {
				name = fmt.Sprintf("writers=%d/streams=hot%d", writers, hot)
			}
			b.Run(name, func(b *testing.B) {
				benchAppend(b, s, db, writers, hot)
			})
		}
	}
}

// benchAppend runs b.N successful appends spread over writers goroutines.
// hot 0 gives every writer a stream of its own; otherwise writers share hot
// streams.
func benchAppend(b *testing.B, s *Store, db string, writers, hot int) {
	ctx := context.Background()
	run := uuid.NewString()
	streams := make([]string, writers)
	for w := range streams {
		if hot > 0 {
			streams[w] = fmt.Sprintf("bench-%s-hot%d", run, w%hot)
		} else {
			streams[w] = fmt.Sprintf("bench-%s-w%d", run, w)
		}
	}
	var conflicts atomic.Int64
	runWriters(b, db, writers, func(w int, version *uint64) error {
		events := newEvents(1)
		for attempt := 0; ; attempt++ {
			res, err := s.Append(ctx, streams[w], domain.Exact(*version), events)
			if err == nil {
				*version = res.Version
				return nil
			}
			if !errors.Is(err, domain.ErrVersionConflict) {
				return err
			}
			conflicts.Add(1)
			recs, err := s.ReadStream(ctx, streams[w], *version)
			if err != nil {
				return err
			}
			if len(recs) > 0 {
				*version = recs[len(recs)-1].Version
			}
			backoff(attempt)
		}
	})
	b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/op")
}

// backoff sleeps as commands.backoff does between attempts.
func backoff(attempt int) {
	d := time.Duration(1<<min(attempt, 6)) * time.Millisecond
	time.Sleep(d + rand.N(d))
}

// runWriters runs op b.N times in all, from writers goroutines, and reports
// events/s (one event per op), and the CPU time spent per event by this
// process (client-µs/event) and by the server processes of database db
// (server-µs/event). version is the writer's own, kept between its ops.
//
// On a machine shared with other work, events/s measures the CPU share
// the benchmark wins as much as its efficiency (64 busy backends win more
// than two); CPU per event does not depend on the share.
func runWriters(b *testing.B, db string, writers int, op func(w int, version *uint64) error) {
	b.Helper()
	client0, server0 := processCPU(), serverCPU(db)
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var version uint64
			for next.Add(1) <= int64(b.N) {
				if err := op(w, &version); err != nil {
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if first != nil {
		b.Fatal(first)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric((processCPU()-client0).Seconds()*1e6/float64(b.N), "client-µs/event")
	if server0 >= 0 {
		b.ReportMetric((serverCPU(db)-server0)*1e6/float64(b.N), "server-µs/event")
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the CPU time, in seconds, used so far by the PostgreSQL
// backends connected to database db and by the WAL writer, read from
// /proc: the server must run on this machine. -1 if it cannot be read.
// Backends that exit in between are missed; the benchmarks keep theirs.
func serverCPU(db string) float64 {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil || len(dirs) == 0 {
		return -1
	}
	var total float64
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil {
			continue
		}
		c := string(cmd)
		if !strings.HasPrefix(c, "postgres: ") || !(strings.Contains(c, " "+db+" ") || strings.Contains(c, "walwriter")) {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name; utime and stime are 14th and
		// 15th of the line, in clock ticks (100 a second on Linux).
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		k, _ := strconv.ParseFloat(f[12], 64)
		total += (u + k) / 100
	}
	return total
}

// databaseName is the database a DSN of pgtest names.
func databaseName(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Path != "" {
		return strings.TrimPrefix(u.Path, "/")
	}
	_, name, _ := strings.Cut(dsn, " dbname=")
	return name
}

// BenchmarkRawInsert is the baseline: what the same concurrency gets from
// PostgreSQL with no event store at all, one row per transaction, through
// raw pgx. The table has the events table's columns and indexes; every
// writer has a pooled connection of its own (up to rawMaxConns), and the
// row is inserted either by a single autocommitted INSERT (one round trip)
// or by BEGIN, INSERT, COMMIT (three).
func BenchmarkRawInsert(b *testing.B) {
	ctx := context.Background()
	dsn := pgtest.MustDatabase(b)
	setup := MustOpen(b, dsn) // same database set-up as the store's benchmark
	defer setup.Close()
	if _, err := setup.pool.Exec(ctx, `CREATE TABLE raw_events (
    seq         bigserial   PRIMARY KEY,
    tx_id       xid8        NOT NULL DEFAULT pg_current_xact_id(),
    id          uuid        NOT NULL UNIQUE,
    stream      text        NOT NULL,
    version     bigint      NOT NULL,
    type        text        NOT NULL,
    data        json        NOT NULL,
    metadata    json        NOT NULL,
    recorded_at timestamptz NOT NULL,
    hash        bytea       NOT NULL,
    UNIQUE (stream, version)
);
CREATE INDEX ON raw_events (tx_id, seq);`); err != nil {
		b.Fatal(err)
	}
	const insert = `INSERT INTO raw_events (stream, id, version, type, data, metadata, recorded_at, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	for _, writers := range benchWriters {
		for _, mode := range []string{"autocommit", "begin-commit"} {
			b.Run(fmt.Sprintf("writers=%d/tx=%s", writers, mode), func(b *testing.B) {
				cfg, err := pgxpool.ParseConfig(dsn)
				if err != nil {
					b.Fatal(err)
				}
				cfg.MaxConns = int32(min(writers, rawMaxConns))
				pool, err := pgxpool.NewWithConfig(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer pool.Close()
				run := uuid.NewString()
				runWriters(b, databaseName(dsn), writers, func(w int, version *uint64) error {
					e := newEvents(1)[0]
					md, err := json.Marshal(e.Metadata)
					if err != nil {
						return err
					}
					*version++
					hash := sha256.Sum256(e.Data)
					args := []any{fmt.Sprintf("raw-%s-w%d", run, w), e.ID, int64(*version), e.Type, e.Data, md, time.Now(), hash[:]}
					if mode == "autocommit" {
						_, err := pool.Exec(ctx, insert, args...)
						return err
					}
					tx, err := pool.Begin(ctx)
					if err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, insert, args...); err != nil {
						_ = tx.Rollback(ctx)
						return err
					}
					return tx.Commit(ctx)
				})
			})
		}
	}
}

// rawMaxConns caps the baseline's connections below the server's
// max_connections (100 by default), which other tests share.
const rawMaxConns = 64
