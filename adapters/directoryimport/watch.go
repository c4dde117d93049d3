package directoryimport

// Watch mode: an académie drops one delivery a day in a directory (a
// sub-directory of the feed's files, or an archive of them); a Watcher
// polls the directory and imports each delivery once it is complete, in
// date order, exactly once across restarts. A delivery the import refuses
// or that fails stops the watch: the later ones are never applied over it.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// WatchStateFile is the file, inside the watched directory, that lists
// the deliveries imported already. The import's events do not name every
// delivery (an unchanged feed writes none), so the watch keeps its own
// record.
const WatchStateFile = ".ledger-watch.json"

// Defaults of the watch.
const (
	DefaultWatchSettle   = 30 * time.Second
	DefaultWatchInterval = time.Minute
)

// Delivery is one feed dropped in a watched directory.
type Delivery struct {
	// Name is the delivery's name in the directory; Path its path.
	Name string `json:"name"`
	Path string `json:"-"`
	// Date orders the deliveries: the date its name gives
	// (ENT_2026-12-07, ..._20261207...), else its modification time
	// (Dated false).
	Date  time.Time `json:"date"`
	Dated bool      `json:"dated"`
}

// compare orders deliveries: by date, then by name.
func (d Delivery) compare(e Delivery) int {
	return cmp.Or(d.Date.Compare(e.Date), strings.Compare(d.Name, e.Name))
}

// WatchConfig configures a Watcher.
type WatchConfig struct {
	// Dir is the watched directory.
	Dir string
	// Settle is how long a delivery must stay unchanged (its files, their
	// sizes and times) before it is taken.
	Settle time.Duration
	// Import imports one delivery and returns the import's report; an
	// error, or changes the ledger refused (Report.Failed), stop the
	// watch.
	Import func(ctx context.Context, d Delivery) (*Report, error)
	// Now is the watch's clock (time.Now by default).
	Now    func() time.Time
	Logger *slog.Logger
}

// Watcher imports the deliveries dropped in a directory.
type Watcher struct {
	cfg   WatchConfig
	state watchState
	// seen is what each delivery looked like when it last changed.
	seen map[string]observation
	// ignored are the directory's entries that are no deliveries, said
	// once.
	ignored map[string]bool
}

// observation is a delivery as last seen: its fingerprint, since when it
// has not changed, and whether its wait was said.
type observation struct {
	fingerprint string
	since       time.Time
	said        bool
}

// watchState is the state file's content.
type watchState struct {
	Imported []importedDelivery `json:"imported"`
}

// importedDelivery is a delivery imported by the watch.
type importedDelivery struct {
	Delivery
	CorrelationID uuid.UUID `json:"correlation_id"`
	Events        int       `json:"events"`
	Imported      time.Time `json:"imported"`
}

// NewWatcher returns a watcher of cfg.Dir, with the deliveries its state
// file says were imported.
func NewWatcher(cfg WatchConfig) (*Watcher, error) {
	if cfg.Import == nil {
		return nil, errors.New("directory watch: Import is required")
	}
	if cfg.Settle < 0 {
		return nil, fmt.Errorf("directory watch: settle interval %s is negative", cfg.Settle)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := os.Stat(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("directory watch: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("directory watch: %s is not a directory", cfg.Dir)
	}
	w := &Watcher{cfg: cfg, seen: make(map[string]observation), ignored: make(map[string]bool)}
	b, err := os.ReadFile(w.statePath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("directory watch: %w", err)
	default:
		if err := json.Unmarshal(b, &w.state); err != nil {
			return nil, fmt.Errorf("directory watch: the state file %s is not readable (%v): repair it, or remove it to import every delivery again",
				w.statePath(), err)
		}
	}
	return w, nil
}

func (w *Watcher) statePath() string { return filepath.Join(w.cfg.Dir, WatchStateFile) }

// Imported returns the names of the deliveries imported, in import order.
func (w *Watcher) Imported() []string {
	out := make([]string, len(w.state.Imported))
	for i, d := range w.state.Imported {
		out[i] = d.Name
	}
	return out
}

// DeliveryError is a delivery that stopped the watch: refused, failed, or
// out of order.
type DeliveryError struct {
	Delivery Delivery
	Err      error
}

func (e *DeliveryError) Error() string {
	return fmt.Sprintf("delivery %s stopped the watch: %v (the later deliveries wait: fix it, or move it out of the directory, then start the watch again)",
		e.Delivery.Name, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Run polls the directory at once and then at each tick, until ctx ends
// (nil then: a delivery being imported is interrupted and taken again at
// the next start) or a delivery stops the watch (its *DeliveryError).
func (w *Watcher) Run(ctx context.Context, ticks <-chan time.Time) error {
	for {
		err := w.Poll(ctx)
		if ctx.Err() != nil {
			var de *DeliveryError
			if errors.As(err, &de) {
				w.cfg.Logger.InfoContext(ctx, "directory watch stopped during a delivery: it is taken again at the next start", "delivery", de.Delivery.Name)
			} else {
				w.cfg.Logger.InfoContext(ctx, "directory watch stopped")
			}
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			w.cfg.Logger.InfoContext(ctx, "directory watch stopped")
			return nil
		case <-ticks:
		}
	}
}

// candidate is a delivery not imported yet, as this poll sees it.
type candidate struct {
	Delivery
	fingerprint string
	// incomplete: still being written (a .part or .tmp name, or files of
	// such names inside it).
	incomplete bool
}

// Poll looks at the directory once and imports, in date order, the
// deliveries that are complete, stopping at the first that is not (the
// later ones wait behind it).
func (w *Watcher) Poll(ctx context.Context) error {
	cands, err := w.scan()
	if err != nil {
		return err
	}
	if last, ok := w.last(); ok {
		for _, c := range cands {
			if c.compare(last) < 0 {
				return &DeliveryError{Delivery: c.Delivery, Err: domain.Errorf(domain.ErrInvalid,
					"it comes before %s, imported already: an older feed would undo the newer one (import it by hand if it must be)", last.Name)}
			}
		}
	}
	// Every delivery is observed, the later ones too: they settle while
	// an earlier one is written.
	now := w.cfg.Now()
	seen := make(map[string]observation, len(cands))
	for _, c := range cands {
		obs, ok := w.seen[c.Name]
		if !ok || obs.fingerprint != c.fingerprint {
			obs = observation{fingerprint: c.fingerprint, since: now}
		}
		seen[c.Name] = obs
	}
	w.seen = seen
	for _, c := range cands {
		obs := seen[c.Name]
		if c.incomplete || now.Sub(obs.since) < w.cfg.Settle {
			if !obs.said {
				w.cfg.Logger.InfoContext(ctx, "directory watch: delivery not complete yet, the later ones wait behind it",
					"delivery", c.Name, "incomplete", c.incomplete, "unchanged_since", obs.since)
				obs.said = true
				w.seen[c.Name] = obs
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return nil // stopped between deliveries
		}
		if err := w.take(ctx, c.Delivery); err != nil {
			return err
		}
	}
	return nil
}

// take imports one delivery and records it.
func (w *Watcher) take(ctx context.Context, d Delivery) error {
	log := w.cfg.Logger.With("delivery", d.Name, "date", d.Date.Format(time.DateOnly), "dated", d.Dated)
	log.InfoContext(ctx, "directory watch: importing a delivery")
	rep, err := w.cfg.Import(ctx, d)
	if err == nil && rep == nil {
		err = errors.New("the import gave no report")
	}
	if err == nil && len(rep.Failed) > 0 {
		err = fmt.Errorf("%d change(s) refused by the ledger (see the report)", len(rep.Failed))
	}
	if err != nil {
		return &DeliveryError{Delivery: d, Err: err}
	}
	w.state.Imported = append(w.state.Imported, importedDelivery{Delivery: d, CorrelationID: rep.CorrelationID,
		Events: rep.Events, Imported: w.cfg.Now().UTC()})
	if err := w.save(); err != nil {
		return &DeliveryError{Delivery: d, Err: fmt.Errorf("imported, but not recorded as imported: %w", err)}
	}
	log.InfoContext(ctx, "directory watch: delivery imported", "correlation_id", rep.CorrelationID, "events", rep.Events)
	return nil
}

// last returns the latest delivery imported.
func (w *Watcher) last() (Delivery, bool) {
	if len(w.state.Imported) == 0 {
		return Delivery{}, false
	}
	last := w.state.Imported[0].Delivery
	for _, d := range w.state.Imported[1:] {
		if d.compare(last) > 0 {
			last = d.Delivery
		}
	}
	return last, true
}

// save writes the state file atomically: a temporary file beside it,
// synced, renamed over it.
func (w *Watcher) save() error {
	b, err := json.MarshalIndent(w.state, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(w.cfg.Dir, WatchStateFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("directory watch: %w", err)
	}
	defer os.Remove(f.Name()) // gone once renamed
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), w.statePath())
	}
	if err != nil {
		return fmt.Errorf("directory watch: write %s: %w", w.statePath(), err)
	}
	if d, err := os.Open(w.cfg.Dir); err == nil {
		_ = d.Sync() // the rename itself, where the system allows it
		_ = d.Close()
	}
	return nil
}

// scan lists the deliveries not imported yet, in date order: the
// directory's sub-directories and archives (and those still being written,
// named .part or .tmp). Hidden entries (the state file among them) and
// other files are no deliveries.
func (w *Watcher) scan() ([]candidate, error) {
	entries, err := os.ReadDir(w.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("directory watch: %w", err)
	}
	imported := make(map[string]bool, len(w.state.Imported))
	for _, d := range w.state.Imported {
		imported[d.Name] = true
	}
	var out []candidate
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || imported[name] {
			continue
		}
		partial := isPartial(name)
		if !partial && !e.IsDir() && !IsArchive(name) {
			if !w.ignored[name] {
				w.ignored[name] = true
				w.cfg.Logger.Warn("directory watch: not a delivery (a delivery is a directory or a .zip, .tar.gz or .tgz archive)", "entry", name)
			}
			continue
		}
		p := filepath.Join(w.cfg.Dir, name)
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // gone since listed
		}
		if err != nil {
			return nil, fmt.Errorf("directory watch: %w", err)
		}
		c := candidate{Delivery: Delivery{Name: name, Path: p}, incomplete: partial}
		c.Date, c.Dated = deliveryDate(name)
		if !c.Dated {
			c.Date = info.ModTime().UTC()
		}
		c.fingerprint, c.incomplete = fingerprint(p, info, c.incomplete)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b candidate) int { return a.compare(b.Delivery) })
	return out, nil
}

// isPartial reports whether a name says its file is still being written.
func isPartial(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".part") || strings.HasSuffix(n, ".tmp")
}

// fingerprint sums up a delivery's files, their sizes and times: it
// changes while the delivery is written. A directory holding a file still
// being written is incomplete.
func fingerprint(p string, info fs.FileInfo, incomplete bool) (string, bool) {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%d|%t\n", info.Size(), info.ModTime().UnixNano(), info.IsDir())
	if info.IsDir() {
		err := filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if isPartial(d.Name()) {
				incomplete = true
			}
			fmt.Fprintf(h, "%s|%d|%d|%t\n", q, fi.Size(), fi.ModTime().UnixNano(), d.IsDir())
			return nil
		})
		if err != nil {
			// Changing under the walk: not complete.
			return "error:" + err.Error(), true
		}
	}
	return strconv.FormatUint(h.Sum64(), 16), incomplete
}

// dateInName finds a date in a delivery's name: 2026-12-07, or 20261207
// (with a time after it, 20261207T0630 or 202612070630, read past).
var dateInName = regexp.MustCompile(`(?:^|[^0-9])((?:19|20)[0-9]{2})(-?)([0-9]{2})(-?)([0-9]{2})(?:[T_-]?[0-9]{4}(?:[0-9]{2})?)?(?:[^0-9]|$)`)

// deliveryDate returns the first real date a delivery's name gives.
func deliveryDate(name string) (time.Time, bool) {
	for _, m := range dateInName.FindAllStringSubmatch(name, -1) {
		if m[2] != m[4] {
			continue // 2026-1207
		}
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[3])
		d, _ := strconv.Atoi(m[5])
		t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		if t.Year() == y && int(t.Month()) == mo && t.Day() == d {
			return t, true
		}
	}
	return time.Time{}, false
}
