package sqlite_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

// BenchmarkAppend measures appends of one event (a single act) and of 35
// events (a class's roll call), under each durability setting.
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []sqlite.Synchronous{sqlite.SyncFull, sqlite.SyncNormal} {
		for _, size := range []int{1, 35} {
			name := "sync=" + string(sync) + "/events=" + map[int]string{1: "1", 35: "35"}[size]
			b.Run(name, func(b *testing.B) {
				s, _ := MustOpenTemp(b, sqlite.WithSynchronous(sync))
				ctx := context.Background()
				stream := storetest.NewStream("bench")
				batches := make([][]domain.Envelope, b.N)
				for i := range batches {
					batches[i] = storetest.NewEvents(size)
				}
				var version uint64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					res, err := s.Append(ctx, stream, domain.Exact(version), batches[i])
					if err != nil {
						b.Fatal(err)
					}
					version = res.Version
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// benchWriters are the concurrencies of BenchmarkAppendConcurrent and
// BenchmarkRawInsert, which are compared at each (docs/performance.md).
var benchWriters = []int{1, 8, 64, 256}

// BenchmarkAppendConcurrent appends single-event commands with an exact
// expected version from concurrent writers, each to a stream of its own
// (distinct) or all to four hot streams (hot4), retrying on a version
// conflict as the command handlers do: read the stream's new events, back
// off, append again. events/s counts the events stored. Durability is the
// default, synchronous FULL.
func BenchmarkAppendConcurrent(b *testing.B) {
	s, _ := MustOpenTemp(b)
	ctx := context.Background()
	for _, writers := range benchWriters {
		for _, hot := range []int{0, 4} {
			name := fmt.Sprintf("writers=%d/streams=distinct", writers)
			if hot > 0 {
				name = fmt.Sprintf("writers=%d/streams=hot%d", writers, hot)
			}
			b.Run(name, func(b *testing.B) {
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
				runWriters(b, writers, func(w int, version *uint64) error {
					events := storetest.NewEvents(1)
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
			})
		}
	}
}

// backoff sleeps as commands.backoff does between attempts.
func backoff(attempt int) {
	d := time.Duration(1<<min(attempt, 6)) * time.Millisecond
	time.Sleep(d + rand.N(d))
}

// runWriters runs op b.N times in all, from writers goroutines, and reports
// events/s (one event per op) and the CPU time this process (SQLite
// included) spent per event, which unlike events/s does not depend on the
// share of a busy machine the benchmark wins. version is the writer's own,
// kept between its ops.
func runWriters(b *testing.B, writers int, op func(w int, version *uint64) error) {
	b.Helper()
	cpu0 := processCPU()
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
	b.ReportMetric((processCPU()-cpu0).Seconds()*1e6/float64(b.N), "cpu-µs/event")
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRawInsert is the baseline: what the same concurrency gets from
// SQLite with no event store at all, one row per transaction, through
// database/sql on a connection opened as the store opens its writer (WAL,
// synchronous FULL, BEGIN IMMEDIATE). The table has the events table's
// columns and indexes. SQLite has one writer per file, so the writers share
// one connection, as they share the store's: more connections would only
// queue on the file lock, in busy-wait sleeps. The row is inserted either
// by a single autocommitted INSERT or by BEGIN, INSERT, COMMIT.
func BenchmarkRawInsert(b *testing.B) {
	ctx := context.Background()
	_, path := MustOpenTemp(b) // the same file set-up as the store's benchmark
	q := url.Values{}
	q.Set("_busy_timeout", "5000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", string(sqlite.SyncFull))
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var sync int
	if err := db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		b.Fatalf("raw connection runs synchronous=%d (err %v), want 2 (FULL)", sync, err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE raw_events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    stream      TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    hash        BLOB    NOT NULL,
    UNIQUE (stream, version)
)`); err != nil {
		b.Fatal(err)
	}
	insert, err := db.PrepareContext(ctx, `INSERT INTO raw_events (id, stream, version, type, data, metadata, recorded_at, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer insert.Close()
	for _, writers := range benchWriters {
		for _, mode := range []string{"autocommit", "begin-commit"} {
			b.Run(fmt.Sprintf("writers=%d/tx=%s", writers, mode), func(b *testing.B) {
				run := uuid.NewString()
				runWriters(b, writers, func(w int, version *uint64) error {
					e := storetest.NewEvents(1)[0]
					md, err := json.Marshal(e.Metadata)
					if err != nil {
						return err
					}
					*version++
					hash := sha256.Sum256(e.Data)
					args := []any{e.ID.String(), fmt.Sprintf("raw-%s-w%d", run, w), *version, e.Type, string(e.Data), string(md), time.Now().UTC().Format(time.RFC3339Nano), hash[:]}
					if mode == "autocommit" {
						_, err := insert.ExecContext(ctx, args...)
						return err
					}
					tx, err := db.BeginTx(ctx, nil)
					if err != nil {
						return err
					}
					if _, err := tx.StmtContext(ctx, insert).ExecContext(ctx, args...); err != nil {
						_ = tx.Rollback()
						return err
					}
					return tx.Commit()
				})
			})
		}
	}
}

// BenchmarkGroupCeiling measures what group commit can reach at most with
// 64 writers on one SQLite file (docs/performance.md, "The ceiling of
// group commit"): each benchmark iteration is one transaction of rows
// single-row INSERTs on one connection, synchronous FULL, checkpoints as
// the store sets them, one row for each of 64 streams. table=plain has no
// index (the baseline's table); table=log has the log's two unique
// indexes; table=log+heads also upserts a stream-head row per row, as the
// store's streams table is. The file is filled with 50,000 rows first so
// that the indexes are not trivially small.
func BenchmarkGroupCeiling(b *testing.B) {
	const streams = 64
	for _, c := range []struct {
		table      string
		rows, page int
	}{
		{"plain", 1, 4096},
		{"plain", streams, 4096},
		{"log", 1, 4096},
		{"log", streams, 4096},
		{"log", streams, 1024},
		{"log+heads", streams, 4096},
	} {
		b.Run(fmt.Sprintf("table=%s/rows=%d/page=%d", c.table, c.rows, c.page), func(b *testing.B) {
			ctx := context.Background()
			q := url.Values{}
			q.Add("_pragma", fmt.Sprintf("page_size(%d)", c.page))
			q.Set("_busy_timeout", "5000")
			q.Set("_synchronous", string(sqlite.SyncFull))
			q.Set("_txlock", "immediate")
			db, err := sql.Open("sqlite", b.TempDir()+"/ceiling.db?"+q.Encode())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			indexes := ""
			if c.table != "plain" {
				indexes = ", UNIQUE (id), UNIQUE (stream, version)"
			}
			for _, stmt := range []string{
				`CREATE TABLE t (position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, stream TEXT NOT NULL,
					version INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL,
					recorded_at TEXT NOT NULL, hash BLOB NOT NULL` + indexes + `)`,
				`CREATE TABLE heads (stream TEXT PRIMARY KEY, version INTEGER NOT NULL, hash BLOB NOT NULL)`,
				`PRAGMA journal_mode = WAL`,
				fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, sqlite.DefaultCheckpointPages),
			} {
				if _, err := db.ExecContext(ctx, stmt); err != nil {
					b.Fatal(err)
				}
			}
			var page int
			if err := db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&page); err != nil || page != c.page {
				b.Fatalf("page size %d (err %v), want %d", page, err, c.page)
			}
			insert, err := db.PrepareContext(ctx, `INSERT INTO t (id, stream, version, type, data, metadata, recorded_at, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				b.Fatal(err)
			}
			defer insert.Close()
			upsert, err := db.PrepareContext(ctx, `INSERT INTO heads (stream, version, hash) VALUES (?, ?, ?)
				ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash`)
			if err != nil {
				b.Fatal(err)
			}
			defer upsert.Close()

			names := make([]string, streams)
			for i := range names {
				names[i] = storetest.NewStream("ceiling")
			}
			versions := make([]uint64, streams)
			e := storetest.NewEvents(1)[0]
			md, err := json.Marshal(e.Metadata)
			if err != nil {
				b.Fatal(err)
			}
			next := 0
			group := func(rows int) error {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				ins, up := tx.StmtContext(ctx, insert), tx.StmtContext(ctx, upsert)
				for range rows {
					s := next % streams
					next++
					versions[s]++
					hash := sha256.Sum256(e.Data)
					if _, err := ins.ExecContext(ctx, uuid.NewString(), names[s], versions[s], e.Type, string(e.Data), string(md), time.Now().UTC().Format(time.RFC3339Nano), hash[:]); err != nil {
						return errors.Join(err, tx.Rollback())
					}
					if c.table == "log+heads" {
						if _, err := up.ExecContext(ctx, names[s], versions[s], hash[:]); err != nil {
							return errors.Join(err, tx.Rollback())
						}
					}
				}
				return tx.Commit()
			}
			for range 50_000 / 4096 {
				if err := group(4096); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				if err := group(c.rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*c.rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
