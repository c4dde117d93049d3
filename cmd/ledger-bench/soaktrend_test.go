package main

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// series returns a reading every 10 s for 30 minutes of value(t, i).
func series(value func(t float64, i int) float64) []Point {
	var pts []Point
	for i := range 181 {
		t := float64(10 * i)
		pts = append(pts, Point{T: t, V: value(t, i)})
	}
	return pts
}

// verdict returns the row of metric among a figure's rows on pts, as the
// soak fits them (warm-up: the first half; days of a minute).
func verdict(t *testing.T, f soakFigure, pts []Point, metric string) Row {
	t.Helper()
	for _, r := range f.rows("sqlite", fitTrend(pts, 900, 60)) {
		if r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row %q", metric)
	return Row{}
}

func figure(t *testing.T, name string) soakFigure {
	t.Helper()
	for _, f := range soakFigures {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("no figure %q", name)
	return soakFigure{}
}

// TestSoakVerdicts: a flat series passes even with a warm-up ramp and
// the spikes of sign-ins and bursts on top; a leak fails, for memory by
// its slope, for counts by the rise of their floor.
func TestSoakVerdicts(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	// spike: an argon2id hash caught by a collection, one reading in
	// three; a burst of requests under way, one reading in four.
	spike := func(i int) float64 {
		if i%3 == 1 {
			return 64
		}
		return 0
	}
	warmed := func(t, level float64) float64 { return level * min(1, 0.5+t/1200) }
	live, goroutines := figure(t, "live heap"), figure(t, "goroutines")
	cases := []struct {
		name   string
		f      soakFigure
		metric string
		pts    []Point
		met    bool
	}{
		{"flat heap with spikes and a warm-up", live, "slope", series(func(t float64, i int) float64 {
			return warmed(t, 40) + spike(i) + rnd.Float64()
		}), true},
		{"heap held by the morning's sign-ins for most of each day", live, "slope", series(func(t float64, i int) float64 {
			if i%6 < 5 {
				return 104 - float64(i%6) + rnd.Float64()
			}
			return 40 + rnd.Float64()
		}), true},
		{"heap leaking 20 %/h under the spikes", live, "slope", series(func(t float64, i int) float64 {
			return 40*(1+0.2*t/3600) + spike(i) + rnd.Float64()
		}), false},
		{"flat goroutines with bursts", goroutines, "rise after warm-up", series(func(t float64, i int) float64 {
			return math.Round(warmed(t, 900)) + float64(rnd.IntN(3)) + float64(40*(i%4/3))
		}), true},
		{"a goroutine leaked every 10 s", goroutines, "rise after warm-up", series(func(t float64, i int) float64 {
			return 900 + float64(i) + float64(40*(i%4/3))
		}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := verdict(t, tc.f, tc.pts, tc.metric)
			if r.Met == nil || *r.Met != tc.met || r.Target == "" {
				t.Errorf("%s %s = %g, target %q, met %v; want met %v", tc.f.name, tc.metric, r.Value, r.Target, r.Met, tc.met)
			}
		})
	}
}

// TestFitTrend: the floors, the level and the slope of a known line.
func TestFitTrend(t *testing.T) {
	// 36 MiB/h from 100: after the warm-up (900 s), days of a minute from
	// the load's start; floors at each day's first reading.
	pts := series(func(tm float64, i int) float64 { return 100 + tm/100 + float64(i%6) })
	tr := fitTrend(pts, 900, 60)
	highest := 0.0
	for _, p := range pts {
		highest = max(highest, p.V)
	}
	if tr.start != 100 || tr.max != highest {
		t.Errorf("start %g, max %g", tr.start, tr.max)
	}
	if math.Abs(tr.slope-36) > 0.5 {
		t.Errorf("slope %g per hour, want 36", tr.slope)
	}
	if tr.days != 15 {
		t.Errorf("%d days after the warm-up, want the 15 whole days of the second half", tr.days)
	}
	if tr.end <= tr.level || tr.level < 109 {
		t.Errorf("floor after warm-up %g, at the end %g", tr.level, tr.end)
	}
	// Too few readings for a day: one floor, no slope.
	short := fitTrend(pts[:4], 0, 60)
	if short.days != 1 || short.slope != 0 || short.level != 100 {
		t.Errorf("four readings: %+v", short)
	}
	bounds := func(name, store string) (n int) {
		for _, r := range figure(t, name).rows(store, tr) {
			if r.Target != "" {
				n++
			}
		}
		return n
	}
	if n := bounds("websockets", storePostgres); n != 0 {
		t.Errorf("websockets follow the load, yet %d bounds", n)
	}
	// The page caches of SQLite live in the server's resident set.
	if bounds("RSS", storeSQLite) != 0 || bounds("RSS", storePostgres) != 1 {
		t.Errorf("RSS bounds: %d on SQLite, %d on Postgres; want 0 and 1", bounds("RSS", storeSQLite), bounds("RSS", storePostgres))
	}
}

// TestParseMetrics reads the text format's unlabelled samples.
func TestParseMetrics(t *testing.T) {
	got, err := parseMetrics(strings.NewReader(`# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 42
go_gc_duration_seconds{quantile="0.5"} 0.001
process_resident_memory_bytes 1.2345e+08
ledger_live_connections 7 1700000000000
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"go_goroutines": 42, "process_resident_memory_bytes": 1.2345e8, "ledger_live_connections": 7}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %g, want %g", k, got[k], v)
		}
	}
	if _, err := parseMetrics(strings.NewReader("go_goroutines many\n")); err == nil {
		t.Error("a value that is not a number was read")
	}
}
