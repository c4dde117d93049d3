package directoryimport

import (
	"bufio"
	"context"
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

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/sqlite"
)

// TestImport100k measures an import of a generated AAF feed of 100,000
// persons: parsing alone (and the same persons in files three times
// bigger, to show memory follows persons, not bytes), the import on the
// embedded SQLite store, and the re-import that appends nothing. It takes
// minutes, so it runs only when asked:
//
//	LEDGER_LONG_TESTS=1 go test ./adapters/directoryimport -run TestImport100k -v -timeout 60m
//
// LEDGER_IMPORT_PERSONS changes the size (a multiple of 1,000);
// LEDGER_IMPORT_STORE=memory uses the in-memory store instead. The results
// are in docs/directory.md.
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
	genFeed(t, big, feedSize{establishments: size.establishments, perEstablishment: size.perEstablishment, filler: 4000})
	took, p, live = parse(big)
	t.Logf("parse %s (same persons, bigger records): %s, peak heap %s, peak RSS %s, live after parse %s",
		mb(dirSize(t, big)), took.Round(time.Millisecond), mb(p.heap), mb(p.rss), mb(live))
	if err := os.RemoveAll(big); err != nil {
		t.Fatal(err)
	}

	var s store
	switch os.Getenv("LEDGER_IMPORT_STORE") {
	case "memory":
		s = memory.New()
	default:
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), sqlite.WithSynchronous(sqlite.SyncNormal))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s = db
	}
	x := newHarness(t, s)
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
