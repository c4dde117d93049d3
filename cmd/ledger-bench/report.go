package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Row is one measured figure: a metric of the ledger in one case, with the
// baseline measured beside it in the same run and their ratio.
type Row struct {
	Scenario string  `json:"scenario"`
	Store    string  `json:"store"`
	Case     string  `json:"case"`
	Metric   string  `json:"metric"`
	Unit     string  `json:"unit"`
	Value    float64 `json:"value"`
	// Baseline names what the value is compared with; BaselineValue is its
	// figure and Ratio value / baseline.
	Baseline      string  `json:"baseline,omitempty"`
	BaselineValue float64 `json:"baseline_value,omitempty"`
	Ratio         float64 `json:"ratio,omitempty"`
	// Target is the target for this figure ("ratio >= 5",
	// "<= 100 ms"), Met whether it holds.
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
}

// key identifies a row.
func (r Row) key() string { return r.Scenario + "|" + r.Store + "|" + r.Case + "|" + r.Metric }

// Host describes the machine.
type Host struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	OS         string `json:"os"`
	Kernel     string `json:"kernel,omitempty"`
	LoadAvg    string `json:"loadavg_at_start,omitempty"`
}

// Report is what a run writes.
type Report struct {
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Host     Host              `json:"host"`
	Quick    bool              `json:"quick"`
	Settings map[string]string `json:"settings"`
	Rows     []Row             `json:"rows"`
	// Series are figures sampled over time (the soak's), for plots.
	Series []Series `json:"series,omitempty"`
	Notes  []string `json:"notes,omitempty"`

	mu sync.Mutex
}

func newReport(quick bool) *Report {
	h := Host{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	h.LoadAvg = loadAvg()
	return &Report{Started: time.Now().UTC(), Host: h, Quick: quick, Settings: map[string]string{}}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// Add records rows.
func (r *Report) Add(rows ...Row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, row := range rows {
		row = withRatio(row)
		// JSON has no NaN or infinity: such a figure is a bug of the
		// scenario, kept visible as a note.
		for _, v := range []*float64{&row.Value, &row.BaselineValue, &row.Ratio} {
			if math.IsNaN(*v) || math.IsInf(*v, 0) {
				r.Notes = append(r.Notes, fmt.Sprintf("%s: %v replaced by 0", row.key(), *v))
				*v = 0
			}
		}
		r.Rows = append(r.Rows, row)
	}
}

// Series is a figure read again and again during a run.
type Series struct {
	Scenario string  `json:"scenario"`
	Store    string  `json:"store"`
	Name     string  `json:"name"`
	Unit     string  `json:"unit"`
	Points   []Point `json:"points"`
}

// Point is one reading: T seconds after the series began, value V.
type Point struct {
	T float64 `json:"t"`
	V float64 `json:"v"`
}

// AddSeries records series.
func (r *Report) AddSeries(series ...Series) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Series = append(r.Series, series...)
}

// Set records a setting of the run (durability, pool sizes...).
func (r *Report) Set(name, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Settings[name] = value
}

// Note records a remark printed under the table.
func (r *Report) Note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Find returns the row of a metric.
func (r *Report) Find(scenario, store, cas, metric string) (Row, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := Row{Scenario: scenario, Store: store, Case: cas, Metric: metric}.key()
	for _, row := range r.Rows {
		if row.key() == k {
			return row, true
		}
	}
	return Row{}, false
}

// atLeast and atMost set a row's target.
func atLeast(row Row, target float64, onRatio bool) Row {
	row = withRatio(row)
	v, what := row.Value, ""
	if onRatio {
		v, what = row.Ratio, "ratio "
	}
	row.Target = fmt.Sprintf("%s>= %s", what, num(target))
	met := v >= target
	row.Met = &met
	return row
}

func atMost(row Row, target float64, onRatio bool) Row {
	row = withRatio(row)
	v, what := row.Value, ""
	if onRatio {
		v, what = row.Ratio, "ratio "
	}
	row.Target = fmt.Sprintf("%s<= %s", what, num(target))
	met := v <= target
	row.Met = &met
	return row
}

// withRatio fills the ratio of a row with a baseline.
func withRatio(row Row) Row {
	if row.BaselineValue != 0 && row.Ratio == 0 {
		row.Ratio = row.Value / row.BaselineValue
	}
	return row
}

// num formats a figure with about three significant digits.
func num(v float64) string {
	switch a := math.Abs(v); {
	case v == 0:
		return "0"
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// PrintTable writes the rows as a table.
func (r *Report) PrintTable(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tstore\tcase\tmetric\tvalue\tbaseline\tratio\ttarget\t")
	for _, row := range r.Rows {
		base, ratio := "", ""
		if row.Baseline != "" {
			base = row.Baseline + " " + num(row.BaselineValue)
			ratio = fmt.Sprintf("%.2f", row.Ratio)
		}
		target := row.Target
		if row.Met != nil {
			if *row.Met {
				target += " met"
			} else {
				target += " MISSED"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\t%s\t%s\t%s\t\n", row.Scenario, row.Store, row.Case, row.Metric, num(row.Value), row.Unit, base, ratio, target)
	}
	tw.Flush()
	if len(r.Settings) > 0 {
		fmt.Fprintln(w, "\nSettings:")
		for _, k := range slices.Sorted(maps.Keys(r.Settings)) {
			fmt.Fprintf(w, "  %s: %s\n", k, r.Settings[k])
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range r.Notes {
			fmt.Fprintln(w, "  -", n)
		}
	}
}

// Write writes the report as JSON to path, creating its directory.
func (r *Report) Write(path string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// readReport reads what Write writes.
func readReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}
