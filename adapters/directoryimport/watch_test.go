package directoryimport

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// watchRig is a watched directory with a settable clock and an import
// that records what it is given.
type watchRig struct {
	t   *testing.T
	dir string
	now time.Time
	// refuse: deliveries whose import is refused.
	refuse map[string]bool

	mu    sync.Mutex
	taken []string
}

func newWatchRig(t *testing.T) *watchRig {
	return &watchRig{t: t, dir: t.TempDir(), now: time.Date(2026, time.December, 8, 6, 0, 0, 0, time.UTC), refuse: map[string]bool{}}
}

func (r *watchRig) watcher() *Watcher {
	r.t.Helper()
	w, err := NewWatcher(WatchConfig{Dir: r.dir, Settle: 30 * time.Second, Now: func() time.Time { return r.now },
		Import: func(ctx context.Context, d Delivery) (*Report, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.taken = append(r.taken, d.Name)
			rep := &Report{CorrelationID: uuid.New(), Events: 3}
			if r.refuse[d.Name] {
				rep.Refused = "refused by the guards"
				return rep, &refusal{msg: rep.Refused}
			}
			return rep, nil
		}})
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

// drop puts a delivery in the directory: a folder of one file, or an
// archive (its content does not matter to the watch).
func (r *watchRig) drop(name string) {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if IsArchive(name) || isPartial(name) || strings.Contains(name, ".") {
		writeFile(r.t, p, "archive "+name)
		return
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		r.t.Fatal(err)
	}
	writeFile(r.t, filepath.Join(p, "ENT_Complet_Eleve_0000.xml"), "<ficAlimMENESR/>")
}

func (r *watchRig) poll(w *Watcher) error {
	r.t.Helper()
	return w.Poll(context.Background())
}

func (r *watchRig) mustPoll(w *Watcher, taken ...string) {
	r.t.Helper()
	r.mu.Lock()
	r.taken = nil
	r.mu.Unlock()
	if err := r.poll(w); err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Equal(r.taken, taken) {
		r.t.Fatalf("at %s the watch took %q, want %q", r.now.Format(time.TimeOnly), r.taken, taken)
	}
}

func (r *watchRig) state() []string {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, WatchStateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		r.t.Fatal(err)
	}
	var st watchState
	if err := json.Unmarshal(b, &st); err != nil {
		r.t.Fatal(err)
	}
	var names []string
	for _, d := range st.Imported {
		if d.CorrelationID == uuid.Nil || d.Events != 3 {
			r.t.Errorf("state of %s: %+v", d.Name, d)
		}
		names = append(names, d.Name)
	}
	return names
}

// Two deliveries dropped out of order are taken in date order once they
// have settled; a restart takes neither again.
func TestWatchDateOrder(t *testing.T) {
	t.Parallel()
	r := newWatchRig(t)
	r.drop("ENT_2026-12-08")
	r.drop("ENT_0130001A_20261207_0630.zip")
	r.drop("notes.txt") // no delivery
	w := r.watcher()
	r.mustPoll(w) // first seen: not settled
	r.now = r.now.Add(29 * time.Second)
	r.mustPoll(w)
	r.now = r.now.Add(time.Second)
	r.mustPoll(w, "ENT_0130001A_20261207_0630.zip", "ENT_2026-12-08")
	checkStrings(t, "state", r.state(), "ENT_0130001A_20261207_0630.zip", "ENT_2026-12-08")
	r.now = r.now.Add(time.Hour)
	r.mustPoll(w)

	again := r.watcher()
	r.mustPoll(again)
	r.now = r.now.Add(time.Hour)
	r.mustPoll(again)
	checkStrings(t, "imported", again.Imported(), "ENT_0130001A_20261207_0630.zip", "ENT_2026-12-08")

	// The next day's delivery.
	r.drop("ENT_2026-12-09.tgz")
	r.mustPoll(again)
	r.now = r.now.Add(time.Minute)
	r.mustPoll(again, "ENT_2026-12-09.tgz")
}

// Deliveries whose names give no date are taken in the order of their
// modification times.
func TestWatchUndatedByModificationTime(t *testing.T) {
	t.Parallel()
	r := newWatchRig(t)
	for i, name := range []string{"livraison-b", "livraison-a.zip", "livraison-c"} {
		r.drop(name)
		at := r.now.Add(-time.Duration(10-i) * time.Hour)
		if err := os.Chtimes(filepath.Join(r.dir, name), at, at); err != nil {
			t.Fatal(err)
		}
	}
	w := r.watcher()
	r.mustPoll(w)
	r.now = r.now.Add(time.Minute)
	r.mustPoll(w, "livraison-b", "livraison-a.zip", "livraison-c")
}

// A delivery still being written waits, and the later ones wait behind
// it: a growing file, a .part archive, a folder with a .part file.
func TestWatchIncompleteDeliveryWaits(t *testing.T) {
	t.Parallel()
	r := newWatchRig(t)
	r.drop("ENT_2026-12-06.zip.part")
	r.drop("ENT_2026-12-07")
	r.drop("ENT_2026-12-08")
	w := r.watcher()
	r.mustPoll(w)
	r.now = r.now.Add(time.Hour)
	r.mustPoll(w) // the .part holds every later delivery back

	if err := os.Rename(filepath.Join(r.dir, "ENT_2026-12-06.zip.part"), filepath.Join(r.dir, "ENT_2026-12-06.zip")); err != nil {
		t.Fatal(err)
	}
	// The 7th is still being written: a file grows, another is partial.
	grow := filepath.Join(r.dir, "ENT_2026-12-07", "ENT_Complet_Eleve_0000.xml")
	writeFile(t, filepath.Join(r.dir, "ENT_2026-12-07", "ENT_Complet_PersEducNat_0000.xml.part"), "<ficAlim")
	r.mustPoll(w) // the zip is seen for the first time
	r.now = r.now.Add(30 * time.Second)
	r.mustPoll(w, "ENT_2026-12-06.zip")

	if err := os.Rename(filepath.Join(r.dir, "ENT_2026-12-07", "ENT_Complet_PersEducNat_0000.xml.part"),
		filepath.Join(r.dir, "ENT_2026-12-07", "ENT_Complet_PersEducNat_0000.xml")); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(30 * time.Second)
	r.mustPoll(w) // complete now, but changed: it settles from here
	f, err := os.OpenFile(grow, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\n<!-- more -->"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(30 * time.Second)
	r.mustPoll(w) // it grew: settling again
	r.now = r.now.Add(29 * time.Second)
	r.mustPoll(w)
	r.now = r.now.Add(time.Second)
	r.mustPoll(w, "ENT_2026-12-07", "ENT_2026-12-08")
	checkStrings(t, "state", r.state(), "ENT_2026-12-06.zip", "ENT_2026-12-07", "ENT_2026-12-08")
}

// A refused delivery stops the watch, naming it; the later ones are not
// taken, and it is tried again at the next start.
func TestWatchRefusedDeliveryStops(t *testing.T) {
	t.Parallel()
	r := newWatchRig(t)
	r.drop("ENT_2026-12-06")
	r.drop("ENT_2026-12-07.zip")
	r.drop("ENT_2026-12-08")
	r.refuse["ENT_2026-12-07.zip"] = true
	w := r.watcher()
	r.mustPoll(w)
	r.now = r.now.Add(time.Minute)
	err := r.poll(w)
	var de *DeliveryError
	if !errors.As(err, &de) || de.Delivery.Name != "ENT_2026-12-07.zip" || !errors.Is(err, ErrRefused) {
		t.Fatalf("err %v", err)
	}
	if want := "delivery ENT_2026-12-07.zip stopped the watch: directory import refused, nothing written: refused by the guards"; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err %q", err)
	}
	checkStrings(t, "taken", r.taken, "ENT_2026-12-06", "ENT_2026-12-07.zip")
	checkStrings(t, "state", r.state(), "ENT_2026-12-06")

	// Run stops with it too, and a restart tries it again.
	again := r.watcher()
	r.mustPoll(again) // first sight: settling
	r.now = r.now.Add(time.Minute)
	if err := again.Run(context.Background(), nil); !errors.As(err, &de) || de.Delivery.Name != "ENT_2026-12-07.zip" {
		t.Fatalf("run: %v", err)
	}
	if err := again.Run(context.Background(), nil); !errors.As(err, &de) {
		t.Fatalf("run: %v", err)
	}
	checkStrings(t, "taken", r.taken, "ENT_2026-12-07.zip", "ENT_2026-12-07.zip")

	// Fixed (here: accepted), the watch goes on.
	delete(r.refuse, "ENT_2026-12-07.zip")
	r.now = r.now.Add(time.Minute)
	r.mustPoll(again, "ENT_2026-12-07.zip", "ENT_2026-12-08")
}

// A delivery dated before one imported already stops the watch: an older
// full feed would undo the newer one.
func TestWatchLateOlderDeliveryStops(t *testing.T) {
	t.Parallel()
	r := newWatchRig(t)
	r.drop("ENT_2026-12-08")
	w := r.watcher()
	r.mustPoll(w)
	r.now = r.now.Add(time.Minute)
	r.mustPoll(w, "ENT_2026-12-08")
	r.drop("ENT_2026-12-07.zip")
	err := r.poll(w)
	var de *DeliveryError
	if !errors.As(err, &de) || de.Delivery.Name != "ENT_2026-12-07.zip" ||
		!strings.Contains(err.Error(), "it comes before ENT_2026-12-08, imported already") {
		t.Fatalf("err %v", err)
	}
}

// Run polls at once and at each tick, and stops cleanly when its context
// ends.
func TestWatchRunStopsWithItsContext(t *testing.T) {
	t.Parallel()
	r := newWatchRig(t)
	r.drop("ENT_2026-12-07")
	w := r.watcher()
	ctx, cancel := context.WithCancel(context.Background())
	ticks := make(chan time.Time)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, ticks) }()
	ticks <- time.Time{} // the first poll is over
	r.mu.Lock()
	first := slices.Clone(r.taken)
	r.mu.Unlock()
	if len(first) != 0 {
		t.Fatalf("taken at first sight: %v", first)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.state()) != 0 {
		t.Fatalf("state %v", r.state())
	}
}

// A state file that cannot be read stops the watch before it starts.
func TestWatchUnreadableState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, WatchStateFile), "{not json")
	_, err := NewWatcher(WatchConfig{Dir: dir, Import: func(context.Context, Delivery) (*Report, error) { return nil, nil }})
	if err == nil || !strings.Contains(err.Error(), "is not readable") {
		t.Fatalf("err %v", err)
	}
	if _, err := NewWatcher(WatchConfig{Dir: filepath.Join(dir, "none"), Import: func(context.Context, Delivery) (*Report, error) { return nil, nil }}); err == nil {
		t.Fatal("a missing directory is watched")
	}
}

func TestDeliveryDate(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"ENT_2026-12-07":                      "2026-12-07",
		"ENT_2026-12-07.zip":                  "2026-12-07",
		"ENT_0130001A_Complet_20261207.tgz":   "2026-12-07",
		"aaf_20261207T0630_livraison.tar.gz":  "2026-12-07",
		"aaf_202612070630.zip":                "2026-12-07",
		"2026-12-07":                          "2026-12-07",
		"ENT_20261307.zip":                    "", // no thirteenth month
		"ENT_2026-1207":                       "",
		"ENT_0130001A.zip":                    "",
		"livraison":                           "",
		"ENT_20260230_then_2026-03-01.zip":    "2026-03-01",
		"ENT_Complet_20240902_Eleve_0000.xml": "2024-09-02",
	} {
		got, ok := deliveryDate(name)
		s := ""
		if ok {
			s = got.Format(time.DateOnly)
		}
		if s != want {
			t.Errorf("deliveryDate(%q) = %q, want %q", name, s, want)
		}
	}
}
