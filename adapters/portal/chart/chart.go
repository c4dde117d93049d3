// Package chart draws the evaluator's charts of the usage indicators, on
// the server, as SVG by gonum/plot: no script, no hand-drawn geometry, and
// an image the browser caches like any other. The portal shows a table of
// the same figures beside each chart.
package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/schoollife/ledger/projections"
)

// Chart names, in the URLs /indicators/charts/{name}.svg.
const (
	Connections    = "connections"
	Activity       = "activity"
	Establishments = "establishments"
)

// Names lists the charts.
func Names() []string { return []string{Connections, Activity, Establishments} }

// Translator gives the messages of the reader's language (the portal's
// catalogue).
type Translator interface {
	T(key string, args ...any) string
}

// Maker draws the charts.
type Maker struct {
	// palette is Okabe and Ito's, told apart by colour-blind readers too.
	palette []color.Color
	width   vg.Length
	height  vg.Length
}

// NewMaker returns a chart maker.
func NewMaker() *Maker {
	hex := func(v uint32) color.Color {
		return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
	}
	return &Maker{
		palette: []color.Color{hex(0x0072B2), hex(0xE69F00), hex(0x009E73), hex(0xCC79A7), hex(0x56B4E9), hex(0xD55E00)},
		width:   Width, height: Height,
	}
}

// Width and Height are the charts' size: about as wide as a phone held
// upright shows them at their own size (the page scales them down no more
// than by half there), so that their 11 and 12 point texts stay readable.
const (
	Width  = 12 * vg.Centimeter
	Height = 10 * vg.Centimeter
)

// sans is the charts' typeface at size: Liberation Sans, which gonum/plot
// embeds for measuring text (browsers without it fall back on their own).
func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

// series is one coloured set of bars.
type series struct {
	name   string
	values []float64
}

// monthLabel writes a period's month and its whole year ("sept. 2006",
// "Sep 2006"): "déc. 26" would read as a day.
func monthLabel(l Translator, r projections.IndicatorRow) string {
	return l.T("fmt.month_year", l.T(fmt.Sprintf("mon.%d", r.Period.Month)), r.Period.Year)
}

// wrapName breaks a long name into lines of about perLine characters at
// its spaces, so that a chart shows it whole rather than cut.
func wrapName(name string, perLine int) string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(name) {
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) <= perLine:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// Connections draws the connections per month, stacked by profile.
func (c *Maker) Connections(l Translator, rows []projections.IndicatorRow) ([]byte, error) {
	labels := make([]string, len(rows))
	s := []series{
		{name: l.T("indicators.students")}, {name: l.T("indicators.teachers")}, {name: l.T("indicators.relatives")},
		{name: l.T("indicators.personnel")}, {name: l.T("indicators.other")},
	}
	for i, r := range rows {
		labels[i] = monthLabel(l, r)
		for j, v := range []int64{r.ConnectionsStudent, r.ConnectionsTeacher, r.ConnectionsRelative, r.ConnectionsPersonnel, r.ConnectionsOther} {
			s[j].values = append(s[j].values, float64(v))
		}
	}
	return c.bars(l.T("chart.connections"), l.T("chart.count"), labels, s, true)
}

// Activity draws the school-life acts and the messages per month, side by
// side.
func (c *Maker) Activity(l Translator, rows []projections.IndicatorRow) ([]byte, error) {
	labels := make([]string, len(rows))
	s := []series{{name: l.T("indicators.acts")}, {name: l.T("indicators.messages")}}
	for i, r := range rows {
		labels[i] = monthLabel(l, r)
		s[0].values = append(s[0].values, float64(r.Acts))
		s[1].values = append(s[1].values, float64(r.Messages))
	}
	return c.bars(l.T("chart.activity"), l.T("chart.count"), labels, s, false)
}

// Establishments draws each establishment's connections, acts and
// messages over the period, side by side.
func (c *Maker) Establishments(l Translator, rows []projections.IndicatorRow) ([]byte, error) {
	labels := make([]string, len(rows))
	s := []series{{name: l.T("indicators.connections")}, {name: l.T("indicators.acts")}, {name: l.T("indicators.messages")}}
	for i, r := range rows {
		labels[i] = r.Scope
		if r.Name != "" {
			labels[i] = wrapName(r.Name, 16)
		}
		s[0].values = append(s[0].values, float64(r.Connections))
		s[1].values = append(s[1].values, float64(r.Acts))
		s[2].values = append(s[2].values, float64(r.Messages))
	}
	return c.bars(l.T("chart.establishments"), l.T("chart.count"), labels, s, false)
}

// countTicks marks whole numbers on a count axis: 1, 2 or 5 times a power
// of ten apart, at most about six of them.
type countTicks struct{}

func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for i := 0; hi/step > 6; i++ {
		step *= []float64{2, 2.5, 2}[i%3] // 1, 2, 5, 10, 20, 50...
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}

// bars draws bar series over nominal labels, stacked or grouped, as SVG:
// the plot above, its legend below it in rows (never over the bars). The
// title is the figure's caption on the page, not drawn again.
func (c *Maker) bars(title, ylabel string, labels []string, s []series, stacked bool) ([]byte, error) {
	p := plot.New()
	p.X.Label.TextStyle.Font, p.Y.Label.TextStyle.Font = sans(12), sans(12)
	p.X.Tick.Label.Font, p.Y.Tick.Label.Font = sans(11), sans(11)
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	p.Y.Tick.Marker = countTicks{}
	p.Add(plotter.NewGrid())
	if len(labels) == 0 {
		labels = []string{"-"}
		for i := range s {
			s[i].values = []float64{0}
		}
	}
	p.NominalX(labels...)
	if len(labels) > 4 {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	groups := float64(len(s))
	if stacked {
		groups = 1
	}
	slot := (c.width - 2.5*vg.Centimeter) / vg.Length(len(labels))
	width := min(slot*0.8/vg.Length(groups), vg.Points(28))
	top := 0.0
	var below *plotter.BarChart
	legend := plot.NewLegend()
	legend.TextStyle.Font = sans(12)
	legend.Left, legend.Top = true, true
	legend.ThumbnailWidth = vg.Points(12)
	var entries []legendEntry
	for i, se := range s {
		b, err := plotter.NewBarChart(plotter.Values(se.values), width)
		if err != nil {
			return nil, fmt.Errorf("chart %q: %w", title, err)
		}
		b.Color = c.palette[i%len(c.palette)]
		b.LineStyle.Width = 0
		if stacked {
			if below != nil {
				b.StackOn(below)
			}
			below = b
		} else {
			b.Offset = vg.Length(float64(i)-(groups-1)/2) * width
		}
		for j := range se.values {
			top = max(top, b.BarHeight(j))
		}
		p.Add(b)
		entries = append(entries, legendEntry{name: se.name, thumb: b})
	}
	p.Y.Max = math.Max(1, top*1.08)

	canvas := vgsvg.New(c.width, c.height)
	dc := draw.New(canvas)
	rows := layoutLegend(&legend, entries, dc.Max.X-dc.Min.X-vg.Points(8))
	rowHeight := legend.TextStyle.Height("Ég") + vg.Points(4)
	legendHeight := vg.Length(len(rows))*rowHeight + vg.Points(6)
	p.Draw(draw.Crop(dc, 0, 0, legendHeight, 0))
	for i, row := range rows {
		y := dc.Min.Y + legendHeight - vg.Length(i+1)*rowHeight
		for _, e := range row {
			one := plot.NewLegend()
			one.TextStyle, one.Left, one.Top, one.ThumbnailWidth = legend.TextStyle, true, true, legend.ThumbnailWidth
			one.Add(e.name, e.thumb)
			one.Draw(draw.Canvas{Canvas: canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: dc.Min.X + vg.Points(4) + e.x, Y: y},
				Max: vg.Point{X: dc.Max.X, Y: y + rowHeight},
			}})
		}
	}
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart %q: %w", title, err)
	}
	return buf.Bytes(), nil
}

// legendEntry is a series' name and swatch in the legend, and its place
// in its row once laid out.
type legendEntry struct {
	name  string
	thumb plot.Thumbnailer
	x     vg.Length
}

// layoutLegend places the entries in rows no wider than width, each
// entry after the previous one.
func layoutLegend(l *plot.Legend, entries []legendEntry, width vg.Length) [][]legendEntry {
	var rows [][]legendEntry
	var row []legendEntry
	x := vg.Length(0)
	gap := l.TextStyle.Width("  ")
	for _, e := range entries {
		w := l.ThumbnailWidth + l.TextStyle.Width(" "+e.name) + gap
		if len(row) > 0 && x+w > width {
			rows, row, x = append(rows, row), nil, 0
		}
		e.x = x
		row = append(row, e)
		x += w
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}
