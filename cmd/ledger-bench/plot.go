package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// plot draws the growth and soak plots of a results file: ledger-bench
// plot --in FILE [--plots DIR].
func (m *Main) plot(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("ledger-bench plot", flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	in := fs.String("in", "", "results file written by ledger-bench")
	dir := fs.String("plots", "", "directory of the plots (default: the results file's)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if *in == "" {
		return errors.New("plot: --in is required")
	}
	rep, err := readReport(*in)
	if err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Dir(*in)
	}
	files, err := writePlots(rep, *dir)
	for _, f := range files {
		fmt.Fprintf(m.stdout, "Plot written to %s\n", f)
	}
	return err
}

// writePlots draws the plots of every scenario a report has figures of,
// and returns the files written.
func writePlots(rep *Report, dir string) ([]string, error) {
	files, err := writeGrowthPlots(rep, dir)
	if err != nil {
		return files, err
	}
	soak, err := writeSoakPlots(rep, dir)
	return append(files, soak...), err
}

// writeSoakPlots draws, for each store a soak ran on, the server's memory
// and its counts over the run. It returns the files written.
func writeSoakPlots(rep *Report, dir string) ([]string, error) {
	byStore := map[string]map[string]Series{}
	for _, s := range rep.Series {
		if s.Scenario != scenarioSoak {
			continue
		}
		if byStore[s.Store] == nil {
			byStore[s.Store] = map[string]Series{}
		}
		byStore[s.Store][s.Name] = s
	}
	if len(byStore) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	charts := []struct {
		file, title, y string
		names          []string
	}{
		{"memory", "memory of ledger serve", "MiB", []string{"heap in use", "live heap", "RSS", "database file"}},
		{"counts", "goroutines, files and connections of ledger serve", "count", []string{"goroutines", "open fds", "websockets", "HTTP connections"}},
	}
	var files []string
	for _, store := range slices.Sorted(maps.Keys(byStore)) {
		for _, c := range charts {
			p := plot.New()
			p.Title.Text = "Soak on " + store + ": " + c.title
			p.X.Label.Text = "minutes"
			p.Y.Label.Text = c.y
			p.X.Min, p.Y.Min = 0, 0
			// Bottom right, clear of the lines once the server is warm.
			p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), vg.Points(8)
			var lines []any
			for _, name := range c.names {
				s, ok := byStore[store][name]
				if !ok {
					continue
				}
				xy := make(plotter.XYs, len(s.Points))
				for i, pt := range s.Points {
					xy[i] = plotter.XY{X: pt.T / 60, Y: pt.V}
				}
				lines = append(lines, name, xy)
			}
			if err := plotutil.AddLines(p, lines...); err != nil {
				return files, err
			}
			p.Add(plotter.NewGrid())
			path := filepath.Join(dir, "soak-"+store+"-"+c.file+".png")
			if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
				return files, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

// growthSeries returns, per store, the (events, value) points of a growth
// metric, in the order of the levels.
func growthSeries(rep *Report, metric string) map[string]plotter.XYs {
	out := map[string]plotter.XYs{}
	events := map[string]float64{}
	for _, r := range rep.Rows {
		if r.Scenario == scenarioGrowth && r.Metric == "events" {
			events[r.Store+"|"+r.Case] = r.Value
		}
	}
	for _, r := range rep.Rows {
		if r.Scenario != scenarioGrowth || r.Metric != metric {
			continue
		}
		if n, ok := events[r.Store+"|"+r.Case]; ok {
			out[r.Store] = append(out[r.Store], plotter.XY{X: n, Y: r.Value})
		}
	}
	for s := range out {
		slices.SortFunc(out[s], func(a, b plotter.XY) int {
			switch {
			case a.X < b.X:
				return -1
			case a.X > b.X:
				return 1
			}
			return 0
		})
	}
	return out
}

// writeGrowthPlots draws, from the growth rows: the student-file query's
// latency, the append latency and the replay time against the size of the
// log, one line per store (and percentile). It returns the files written.
func writeGrowthPlots(rep *Report, dir string) ([]string, error) {
	if len(growthSeries(rep, "events")) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	type chart struct {
		file, title, y string
		metrics        []string
		logX           bool
	}
	charts := []chart{
		{"growth-query.png", "Student file query (one student, fixed history)", "latency (ms)", []string{"query p50", "query p99"}, true},
		{"growth-append.png", "Append: single-event command, 8 writers", "latency (ms)", []string{"append p50", "append p99"}, true},
		{"growth-replay.png", "Replay of studentfile.v1 from the start", "time (s)", []string{"replay"}, false},
	}
	var files []string
	for _, c := range charts {
		p := plot.New()
		p.Title.Text = c.title
		p.X.Label.Text = "events in the log"
		p.Y.Label.Text = c.y
		p.Y.Min = 0
		p.Legend.Top = true
		p.Legend.YOffs = -vg.Points(4)
		if c.logX {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		} else {
			// From the origin, so that proportional growth shows as a
			// line through it; the lines rise to the right, the legend
			// goes left.
			p.X.Min = 0
			p.Legend.Left = true
		}
		var lines []any
		for _, metric := range c.metrics {
			series := growthSeries(rep, metric)
			for _, store := range slices.Sorted(maps.Keys(series)) {
				name := store
				if len(c.metrics) > 1 {
					name += " " + metric[len(metric)-3:]
				}
				lines = append(lines, name, series[store])
			}
		}
		if err := plotutil.AddLinePoints(p, lines...); err != nil {
			return files, err
		}
		p.Add(plotter.NewGrid())
		path := filepath.Join(dir, c.file)
		if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}
