package directoryimport

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/adapters/tamper"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// TestImport100k measures an import of a generated AAF feed of 100,000
// persons: parsing alone (and the same persons in files three times
// bigger, to show memory follows persons, not bytes), the import on the
// embedded SQLite store, the re-import that appends nothing, the chain
// check of `ledger verify`, and a raw bulk insert of the same events into
// scratch tables shaped like the log's, to compare the import's apply
// with. It takes minutes, so it runs only when asked:
//
//	LEDGER_LONG_TESTS=1 go test ./adapters/directoryimport -run TestImport100k -v -timeout 60m
//
// LEDGER_IMPORT_PERSONS changes the size (a multiple of 1,000; above
// 100,000 the bigger files are not parsed);
// LEDGER_IMPORT_STORE=memory or postgres uses that store instead (postgres:
// a scratch database, see adapters/postgres/pgtest); LEDGER_IMPORT_BATCH=0
// hides the store's batch append, to measure the import one command a
// transaction. The results are in docs/directory.md.
func TestImport100k(t *testing.T) {
	if os.Getenv("LEDGER_LONG_TESTS") == "" {
		t.Skip("set LEDGER_LONG_TESTS=1 to run the 100,000-person import (minutes)")
	}
	persons := 100_000
	if v := os.Getenv("LEDGER_IMPORT_PERSONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("LEDGER_IMPORT_PERSONS=%q", v)
		}
		persons = n
	}
	size := feedSize{establishments: persons / 1000, perEstablishment: 1000}
	dir, big := filepath.Join(t.TempDir(), "feed"), filepath.Join(t.TempDir(), "big")
	for _, d := range []string{dir, big} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	genFeed(t, dir, size)
	t.Logf("generated %d persons, %s in %s", size.persons(), mb(dirSize(t, dir)), time.Since(start).Round(time.Second))

	// Parsing alone: the same persons in files of two sizes.
	parse := func(d string) (time.Duration, peak, uint64) {
		srcs, err := FileSources(FormatAAF, "", "", d)
		if err != nil {
			t.Fatal(err)
		}
		m := startPeak()
		t0 := time.Now()
		b := newBuilder()
		for _, src := range srcs {
			rc, err := src.Open()
			if err != nil {
				t.Fatal(err)
			}
			fr := FileReport{}
			if err := b.parseAAF(context.Background(), src.Name, bufio.NewReaderSize(rc, 1<<16), &fr); err != nil {
				t.Fatal(err)
			}
			rc.Close()
		}
		feed := b.build(ModeFull)
		took := time.Since(t0)
		p := m.stop()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if len(feed.Persons) != size.persons() || len(feed.Rejected) != 0 {
			t.Fatalf("parsed %d persons, rejected %d", len(feed.Persons), len(feed.Rejected))
		}
		runtime.KeepAlive(feed)
		return took, p, ms.HeapAlloc
	}
	took, p, live := parse(dir)
	t.Logf("parse %s: %s, peak heap %s, peak RSS %s, live after parse (the normalized feed) %s",
		mb(dirSize(t, dir)), took.Round(time.Millisecond), mb(p.heap), mb(p.rss), mb(live))
	if persons <= 100_000 {
		// Past 100,000 persons the bigger files would take gigabytes and
		// many minutes: the point is made at that size.
		genFeed(t, big, feedSize{establishments: size.establishments, perEstablishment: size.perEstablishment, filler: 4000})
		took, p, live = parse(big)
		t.Logf("parse %s (same persons, bigger records): %s, peak heap %s, peak RSS %s, live after parse %s",
			mb(dirSize(t, big)), took.Round(time.Millisecond), mb(p.heap), mb(p.rss), mb(live))
	}
	if err := os.RemoveAll(big); err != nil {
		t.Fatal(err)
	}

	var (
		s    store
		bulk func(recs []domain.Record) time.Duration
	)
	switch os.Getenv("LEDGER_IMPORT_STORE") {
	case "memory":
		s = memory.New()
	case "postgres":
		db, err := postgres.Open(context.Background(), pgtest.MustDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		s, bulk = db, func(recs []domain.Record) time.Duration { return bulkPostgres(t, db, recs) }
	default:
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), sqlite.WithSynchronous(sqlite.SyncNormal))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, bulk = db, func(recs []domain.Record) time.Duration { return bulkSQLite(t, db, recs) }
	}
	verifier, _ := s.(interface {
		Verify(context.Context) (tamper.VerifyReport, error)
	})
	if os.Getenv("LEDGER_IMPORT_BATCH") == "0" {
		s = unbatched{s}
	}
	if _, ok := s.(BatchStore); ok {
		t.Logf("store %T, appends in batches of %d events", s, DefaultBatchEvents)
	} else {
		t.Logf("store %T, one command a transaction", s)
	}
	t.Logf("load average before the import: %s", loadAverage())
	x := newHarness(t, s)
	if os.Getenv("LEDGER_IMPORT_SEALED") == "1" {
		sealHarness(t, x)
	}
	srcs, err := FileSources(FormatAAF, "", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	m := startPeak()
	rep, err := x.im.Import(x.ctx, srcs, DefaultOptions())
	p = m.stop()
	if err != nil || len(rep.Failed) > 0 || len(rep.Skipped) > 0 {
		t.Fatalf("import: %v, failed %d, skipped %d", err, len(rep.Failed), len(rep.Skipped))
	}
	total := rep.Finished.Sub(rep.Started)
	t.Logf("import: %s (parse %s, load %s, diff %s, apply %s), %d changes, %d events (%.0f events/s), peak heap %s, peak RSS %s",
		total.Round(time.Millisecond), rep.Timings.Parse.Round(time.Millisecond), rep.Timings.Load.Round(time.Millisecond),
		rep.Timings.Diff.Round(time.Millisecond), rep.Timings.Apply.Round(time.Millisecond), sum(rep.Applied), rep.Events,
		float64(rep.Events)/rep.Timings.Apply.Seconds(), mb(p.heap), mb(p.rss))
	t.Logf("applied: %v", rep.Applied)
	t.Logf("load average after the import: %s", loadAverage())

	if verifier != nil {
		t0 := time.Now()
		vr, err := verifier.Verify(x.ctx)
		if err != nil || vr.Found != 0 || vr.Events < rep.Events {
			t.Fatalf("verify: %v, %d events checked, problems %v", err, vr.Events, vr.Problems)
		}
		t.Logf("verify: %d events, %d streams, chain intact (%s)", vr.Events, vr.Streams, time.Since(t0).Round(time.Millisecond))
	}
	if bulk != nil {
		recs, err := x.store.ReadAll(x.ctx, domain.Start, 0)
		if err != nil || len(recs) != rep.Events {
			t.Fatalf("read back: %v, %d events, the import wrote %d", err, len(recs), rep.Events)
		}
		took := bulk(recs)
		raw := float64(len(recs)) / took.Seconds()
		applyRate := float64(rep.Events) / rep.Timings.Apply.Seconds()
		t.Logf("raw bulk insert of the same %d events: %s (%.0f events/s); import apply / raw bulk = %.2f",
			len(recs), took.Round(time.Millisecond), raw, applyRate/raw)
		recs = nil
	}

	m = startPeak()
	again, err := x.im.Import(x.ctx, srcs, DefaultOptions())
	p = m.stop()
	if err != nil || again.Events != 0 || sum(again.Planned) != 0 {
		t.Fatalf("re-import: %v, %d events, planned %v", err, again.Events, again.Planned)
	}
	retotal := again.Finished.Sub(again.Started)
	t.Logf("re-import: %s (parse %s, load %s, diff %s), 0 events, %.1f %% of the import, peak heap %s, peak RSS %s",
		retotal.Round(time.Millisecond), again.Timings.Parse.Round(time.Millisecond), again.Timings.Load.Round(time.Millisecond),
		again.Timings.Diff.Round(time.Millisecond), 100*retotal.Seconds()/total.Seconds(), mb(p.heap), mb(p.rss))
}

// unbatched hides a store's batch append: the import then runs one command
// a transaction.
type unbatched struct{ store }

// loadAverage is the machine's load average (Linux), for the log of a
// measurement on a shared machine.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// bulkPostgres inserts recs by COPY, in one transaction, into scratch
// tables with the log's columns, constraints and indexes (events and
// stream heads), and returns how long that took.
func bulkPostgres(t *testing.T, db *postgres.Store, recs []domain.Record) time.Duration {
	t.Helper()
	ctx := context.Background()
	pool := db.Pool()
	for _, q := range []string{
		`CREATE TABLE scratch_events (LIKE events INCLUDING ALL)`,
		`CREATE TABLE scratch_streams (LIKE streams INCLUDING ALL)`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	events := make([][]any, len(recs))
	heads := make(map[string][]any)
	var order []string
	prev := make(map[string][]byte)
	for i, r := range recs {
		md, err := json.Marshal(r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		hash := domain.ChainHash(prev[r.Stream], r.ID, r.Stream, r.Version, r.Type, r.Data, md)
		prev[r.Stream] = hash
		events[i] = []any{[16]byte(r.ID), r.Stream, int64(r.Version), r.Type, string(r.Data), string(md), r.Metadata.Time, hash}
		if heads[r.Stream] == nil {
			order = append(order, r.Stream)
		}
		heads[r.Stream] = []any{r.Stream, int64(r.Version), hash}
	}
	streams := make([][]any, len(order))
	for i, name := range order {
		streams[i] = heads[name]
	}
	t0 := time.Now()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"scratch_events"}, []string{"id", "stream", "version", "type", "data", "metadata", "recorded_at", "hash"},
		pgx.CopyFromRows(events)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"scratch_streams"}, []string{"stream", "version", "hash"}, pgx.CopyFromRows(streams)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return time.Since(t0)
}

// bulkSQLite inserts recs by a prepared multi-row insert, in one
// transaction, into scratch tables with the log's columns, constraints and
// indexes (events and stream heads), and returns how long that took.
func bulkSQLite(t *testing.T, db *sqlite.Store, recs []domain.Record) time.Duration {
	t.Helper()
	ctx := context.Background()
	const rows = 256 // 8 parameters a row
	events := make([]any, 0, 8*len(recs))
	heads := make(map[string][]any)
	var order []string
	prev := make(map[string][]byte)
	for _, r := range recs {
		md, err := json.Marshal(r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		hash := domain.ChainHash(prev[r.Stream], r.ID, r.Stream, r.Version, r.Type, r.Data, md)
		prev[r.Stream] = hash
		events = append(events, r.ID.String(), r.Stream, r.Version, r.Type, string(r.Data), string(md), r.Metadata.Time.Format(time.RFC3339Nano), hash)
		if heads[r.Stream] == nil {
			order = append(order, r.Stream)
		}
		heads[r.Stream] = []any{r.Stream, r.Version, hash}
	}
	values := func(n, cols int) string {
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
		return strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
	}
	insertEvents := `INSERT INTO scratch_events (id, stream, version, type, data, metadata, recorded_at, hash) VALUES `
	insertHeads := `INSERT INTO scratch_streams (stream, version, hash) VALUES `
	t0 := time.Now()
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`CREATE TABLE scratch_events (
				position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL,
				version INTEGER NOT NULL CHECK (version > 0), type TEXT NOT NULL, data TEXT NOT NULL,
				metadata TEXT NOT NULL, recorded_at TEXT NOT NULL, hash BLOB NOT NULL, UNIQUE (stream, version))`,
			`CREATE TABLE scratch_streams (stream TEXT PRIMARY KEY, version INTEGER NOT NULL, hash BLOB NOT NULL)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		full, err := tx.PrepareContext(ctx, insertEvents+values(rows, 8))
		if err != nil {
			return err
		}
		defer full.Close()
		for len(events) > 0 {
			n := min(len(events)/8, rows)
			if n == rows {
				_, err = full.ExecContext(ctx, events[:8*n]...)
			} else {
				_, err = tx.ExecContext(ctx, insertEvents+values(n, 8), events[:8*n]...)
			}
			if err != nil {
				return err
			}
			events = events[8*n:]
		}
		for len(order) > 0 {
			n := min(len(order), 500)
			args := make([]any, 0, 3*n)
			for _, name := range order[:n] {
				args = append(args, heads[name]...)
			}
			if _, err := tx.ExecContext(ctx, insertHeads+values(n, 3), args...); err != nil {
				return err
			}
			order = order[n:]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return time.Since(t0)
}

func sum(m map[ChangeKind]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func mb(n uint64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func dirSize(t *testing.T, dir string) uint64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			n += uint64(info.Size())
		}
	}
	return n
}

// peak is the highest memory seen while a step ran: the Go heap (objects,
// sampled every 10 ms) and the process's resident set (VmHWM, reset at the
// start of the step).
type peak struct{ heap, rss uint64 }

type peakSampler struct {
	done chan struct{}
	out  chan uint64
}

func startPeak() *peakSampler {
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets VmHWM (Linux).
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	s := &peakSampler{done: make(chan struct{}), out: make(chan uint64)}
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var max uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			max = maxU(max, sample[0].Value.Uint64())
			select {
			case <-s.done:
				s.out <- max
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *peakSampler) stop() peak {
	close(s.done)
	return peak{heap: <-s.out, rss: vmHWM()}
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// vmHWM reads the process's peak resident set size (0 where /proc is not).
func vmHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkParseAAF measures the streaming parser alone on a generated
// feed of 10,000 persons (17 MB):
//
//	go test ./adapters/directoryimport -run XXX -bench ParseAAF -benchmem
func BenchmarkParseAAF(b *testing.B) {
	dir := b.TempDir()
	genFeed(b, dir, feedSize{establishments: 10, perEstablishment: 1000})
	srcs, err := FileSources(FormatAAF, "", "", dir)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, s := range srcs {
		n += s.Size
	}
	b.SetBytes(n)
	b.ResetTimer()
	for range b.N {
		bl := newBuilder()
		for _, src := range srcs {
			rc, err := src.Open()
			if err != nil {
				b.Fatal(err)
			}
			if err := bl.parseAAF(context.Background(), src.Name, bufio.NewReaderSize(rc, 1<<16), &FileReport{}); err != nil {
				b.Fatal(err)
			}
			rc.Close()
		}
		if f := bl.build(ModeFull); len(f.Persons) != 10_000 {
			b.Fatalf("%d persons", len(f.Persons))
		}
	}
}

// sealHarness makes x's handlers seal personal fields with the subjects'
// keys of its store's database, as the ledger's command line does
// (LEDGER_IMPORT_SEALED=1): every account opened creates its key.
func sealHarness(t *testing.T, x *harness) {
	t.Helper()
	var keys *subjectkeys.SQL
	switch s := x.store.(type) {
	case *sqlite.Store:
		keys = subjectkeys.NewSQLite(s.DB(), s.WithTx)
	case *postgres.Store:
		keys = subjectkeys.NewPostgres(s.Pool())
	default:
		t.Fatalf("no subjects' keys for %T", x.store)
	}
	t.Cleanup(func() { _ = keys.Close() })
	c, err := subjectkeys.New(keys, x.reg)
	if err != nil {
		t.Fatal(err)
	}
	x.reg = x.reg.WithOpener(c)
	clock := func() time.Time { return x.now }
	h, err := commands.New(commands.Config{Store: x.store, Registry: x.reg, Now: clock, Sealer: c, Shredder: c})
	if err != nil {
		t.Fatal(err)
	}
	im, err := New(Config{Handlers: h, Registry: x.reg, Log: x.store, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	x.h, x.im = h, im
	t.Logf("personal fields sealed with the subjects' keys")
}
