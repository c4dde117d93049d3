package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// soakFigure is a figure the soak reads from the server's /metrics, and
// how flat it must stay once the server is warm.
type soakFigure struct {
	name, metric, unit string
	scale              float64 // turns the metric's value into unit
	// maxSlope bounds the trend of the floors after the warm-up, per hour
	// and relative to their mean (0: none). For memory, whose level is
	// not a count.
	maxSlope float64
	// unboundOn names a store on which the figure is reported only.
	unboundOn string
	// tolAbs + tolRel × the floor after the warm-up bound how far the
	// floor at the end may rise above it (both 0: none). For counts,
	// which a leak moves by whole units.
	tolAbs, tolRel float64
}

const mib = 1.0 / (1 << 20)

// soakFigures are the figures of a soak, in the order of its report.
// Memory is bounded by the slope of its daily floors, which a leak
// raises; the counts by how far their floor rose, since a leak moves them
// by whole units. The open websockets and the threads follow the load
// (reconnects, blocking system calls) and are reported only. The live
// heap is the heap after the last collection, the heap in use that plus
// what was allocated since, up to twice as much (GOGC=100): their floors
// are close. On SQLite the server's resident set holds the page caches
// (64 MiB for the writer, 16 MiB for each reader), which fill as the file
// grows during the run: its RSS is reported there, beside the file's
// size, and the live heap judges.
var soakFigures = []soakFigure{
	{name: "heap in use", metric: "go_memstats_heap_inuse_bytes", unit: "MiB", scale: mib, maxSlope: 0.10},
	{name: "live heap", metric: "go_gc_heap_live_bytes", unit: "MiB", scale: mib, maxSlope: 0.10},
	{name: "RSS", metric: "process_resident_memory_bytes", unit: "MiB", scale: mib, maxSlope: 0.10, unboundOn: storeSQLite},
	{name: "goroutines", metric: "go_goroutines", unit: "goroutines", scale: 1, tolAbs: 25, tolRel: 0.01},
	{name: "open fds", metric: "process_open_fds", unit: "fds", scale: 1, tolAbs: 20, tolRel: 0.01},
	{name: "HTTP connections", metric: "ledger_http_open_connections", unit: "connections", scale: 1, tolAbs: 10},
	{name: "websockets", metric: "ledger_live_connections", unit: "sockets", scale: 1},
	{name: "threads", metric: "go_threads", unit: "threads", scale: 1},
}

// soakMetrics are the metrics of each row of a figure.
var soakMetrics = []string{"start", "max", "floor after warm-up", "floor at the end", "rise after warm-up", "slope"}

// trend is a series summed up: its first and largest values, and,
// after the warm-up, its floor on the first school day and on the last,
// and the straight line fitted through the floors of every day (least
// squares). A day's floor is its lowest reading. The days of the load
// repeat one rhythm (sign-ins in the morning, lessons, reconnects), so
// their floors are taken at like moments: what a day allocates and frees
// (an argon2id sign-in holds 64 MiB while it runs, and the runtime
// returns it to the system over the next minute; requests under way hold
// goroutines and sockets) comes and goes above the floor, while what
// leaks raises it.
type trend struct {
	start, max float64
	level, end float64 // floors of the first and last days after the warm-up
	mean       float64 // of the floors
	slope      float64 // of the floors, per hour
	days       int     // floors after the warm-up
}

// fitTrend sums up pts, read since the load's first day began. The
// warm-up ends warm seconds in; the days, day seconds long, that lie
// wholly after it and before the last reading each give a floor (when
// none does, all the readings after the warm-up give one).
func fitTrend(pts []Point, warm, day float64) trend {
	if len(pts) == 0 {
		return trend{}
	}
	t := trend{start: pts[0].V, max: pts[0].V}
	for _, p := range pts {
		t.max = max(t.max, p.V)
	}
	floors := dailyFloors(pts, warm, day)
	t.days = len(floors)
	t.level, t.end = floors[0].V, floors[len(floors)-1].V
	t.mean, t.slope = fitLine(floors)
	t.slope *= 3600
	return t
}

// dailyFloors returns the lowest reading of each whole day after warm, at
// the day's middle time.
func dailyFloors(pts []Point, warm, day float64) []Point {
	last := pts[len(pts)-1].T
	var out []Point
	for k := math.Ceil(warm / day); day > 0 && (k+1)*day <= last; k++ {
		from, to := k*day, (k+1)*day
		low, found := 0.0, false
		for _, p := range pts {
			if p.T >= from && p.T < to && (!found || p.V < low) {
				low, found = p.V, true
			}
		}
		if found {
			out = append(out, Point{T: from + day/2, V: low})
		}
	}
	if len(out) > 0 {
		return out
	}
	i := slices.IndexFunc(pts, func(p Point) bool { return p.T >= warm })
	if i < 0 {
		i = len(pts) - 1
	}
	low := pts[i]
	for _, p := range pts[i:] {
		if p.V < low.V {
			low = p
		}
	}
	return []Point{low}
}

// fitLine returns the mean of pts' values and the slope of the least
// squares line through them (per second; 0 through fewer than two times).
func fitLine(pts []Point) (mean, slope float64) {
	var sx, sy float64
	for _, p := range pts {
		sx += p.T
		sy += p.V
	}
	n := float64(len(pts))
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for _, p := range pts {
		sxy += (p.T - mx) * (p.V - my)
		sxx += (p.T - mx) * (p.T - mx)
	}
	if sxx == 0 {
		return my, 0
	}
	return my, sxy / sxx
}

// relSlope is the slope per hour relative to the mean.
func (t trend) relSlope() float64 {
	if t.mean == 0 {
		return 0
	}
	return t.slope / t.mean
}

// rows reports a figure's trend on store, with its bound.
func (f soakFigure) rows(store string, t trend) []Row {
	row := func(metric, unit string, v float64) Row {
		return Row{Scenario: scenarioSoak, Store: store, Case: f.name, Metric: metric, Unit: unit, Value: v}
	}
	slope := row("slope", "%/h of the mean", 100*t.relSlope())
	bound := store != f.unboundOn
	if f.maxSlope > 0 && bound {
		slope = atMost(slope, 100*f.maxSlope, false)
	}
	rise := row("rise after warm-up", f.unit, t.end-t.level)
	if (f.tolAbs > 0 || f.tolRel > 0) && bound {
		rise = atMost(rise, f.tolAbs+f.tolRel*t.level, false)
	}
	return []Row{
		row("start", f.unit, t.start),
		row("max", f.unit, t.max),
		row("floor after warm-up", f.unit, t.level),
		row("floor at the end", f.unit, t.end),
		rise,
		slope,
	}
}

// sampler reads the server's /metrics every interval into one series per
// figure, beside the load's own counters.
type sampler struct {
	url   string
	hc    *http.Client
	began time.Time
	// counters reads the load's counters (requests, failures...).
	counters func() []namedValue
	// done counts a reading and its outcome.
	done func(what string, err error)

	mu     sync.Mutex
	series map[string]*Series
	order  []string
}

// namedValue is a counter of the load.
type namedValue struct {
	name, unit string
	v          float64
}

func newSampler(base string, counters func() []namedValue, done func(string, error)) *sampler {
	return &sampler{
		url: base + "/metrics", hc: &http.Client{Timeout: 30 * time.Second}, began: time.Now(),
		counters: counters, done: done, series: map[string]*Series{},
	}
}

// run samples now, then every interval until ctx ends, then once more.
func (s *sampler) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.sample(context.WithoutCancel(ctx))
		select {
		case <-ctx.Done():
			s.sample(context.WithoutCancel(ctx))
			return
		case <-t.C:
		}
	}
}

// sample takes one reading of every figure.
func (s *sampler) sample(ctx context.Context) {
	at := time.Since(s.began).Seconds()
	got, err := s.scrape(ctx)
	s.done("GET /metrics", err)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range soakFigures {
		if v, ok := got[f.metric]; ok {
			s.add(f.name, f.unit, at, v*f.scale)
		}
	}
	for _, c := range s.counters() {
		s.add(c.name, c.unit, at, c.v)
	}
}

func (s *sampler) add(name, unit string, at, v float64) {
	sr, ok := s.series[name]
	if !ok {
		sr = &Series{Scenario: scenarioSoak, Name: name, Unit: unit}
		s.series[name] = sr
		s.order = append(s.order, name)
	}
	sr.Points = append(sr.Points, Point{T: at, V: v})
}

// points returns the readings of a series.
func (s *sampler) points(name string) []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sr, ok := s.series[name]; ok {
		return slices.Clone(sr.Points)
	}
	return nil
}

// all returns every series, in the order they first appeared, for store.
func (s *sampler) all(store string) []Series {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Series, 0, len(s.order))
	for _, name := range s.order {
		sr := *s.series[name]
		sr.Store, sr.Points = store, slices.Clone(sr.Points)
		out = append(out, sr)
	}
	return out
}

func (s *sampler) scrape(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", s.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %d", resp.StatusCode)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads the samples without labels of the Prometheus text
// format: "name value" lines (a timestamp after the value is ignored).
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, fmt.Errorf("metrics: line %q", line)
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: line %q: %w", line, err)
		}
		out[f[0]] = v
	}
	return out, sc.Err()
}
