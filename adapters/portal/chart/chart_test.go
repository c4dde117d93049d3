package chart

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// french is a few of the catalogue's messages.
type french map[string]string

func (f french) T(key string, args ...any) string {
	m, ok := f[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

var catalogue = french{
	"fmt.month_year": "%s %d", "mon.9": "sept.", "mon.10": "oct.", "mon.11": "nov.", "mon.12": "déc.", "mon.1": "janv.",
	"indicators.students": "Élèves", "indicators.teachers": "Professeurs", "indicators.relatives": "Parents",
	"indicators.personnel": "Personnels", "indicators.other": "Autres", "indicators.acts": "Actes de vie scolaire",
	"indicators.messages": "Messages", "indicators.connections": "Connexions", "chart.count": "Nombre",
	"chart.connections": "Connexions par mois", "chart.activity": "Actes", "chart.establishments": "Établissements",
}

// svgText is a text of the SVG and where it is drawn.
type svgText struct {
	text string
	y    float64
}

// texts reads the SVG's texts and its size in points.
func texts(t *testing.T, svg []byte) (w, h float64, out []svgText) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	var in *svgText
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			for _, a := range e.Attr {
				switch {
				case e.Name.Local == "svg" && a.Name.Local == "width":
					w, _ = strconv.ParseFloat(strings.TrimSuffix(a.Value, "pt"), 64)
				case e.Name.Local == "svg" && a.Name.Local == "height":
					h, _ = strconv.ParseFloat(strings.TrimSuffix(a.Value, "pt"), 64)
				}
			}
			if e.Name.Local == "text" {
				in = &svgText{}
				for _, a := range e.Attr {
					if a.Name.Local == "y" {
						in.y, _ = strconv.ParseFloat(a.Value, 64)
					}
				}
			}
		case xml.CharData:
			if in != nil {
				in.text += string(e)
			}
		case xml.EndElement:
			if e.Name.Local == "text" && in != nil {
				out = append(out, *in)
				in = nil
			}
		}
	}
	return w, h, out
}

func find(ts []svgText, s string) (svgText, bool) {
	for _, x := range ts {
		if strings.TrimSpace(x.text) == s {
			return x, true
		}
	}
	return svgText{}, false
}

func TestChartsReadable(t *testing.T) {
	m := NewMaker()
	var months []projections.IndicatorRow
	for i, d := range []string{"2026-09-01", "2026-10-01", "2026-11-01", "2026-12-01", "2027-01-01"} {
		r := projections.IndicatorRow{Period: domain.MustDate(d)}
		r.ConnectionsStudent, r.ConnectionsTeacher, r.Acts, r.Messages = int64(100*i), int64(40*i), int64(7*i), int64(3*i)
		months = append(months, r)
	}
	ests := []projections.IndicatorRow{
		{Scope: "0130001A", Name: "Collège Frédéric Mistral de Maillane"},
		{Scope: "0840002B", Name: "Lycée polyvalent Vaucluse"},
	}
	for _, tt := range []struct {
		name string
		draw func() ([]byte, error)
		want []string
	}{
		{"connections", func() ([]byte, error) { return m.Connections(catalogue, months) },
			[]string{"sept. 2026", "déc. 2026", "janv. 2027", "Élèves", "Professeurs", "Parents", "Personnels", "Autres"}},
		{"activity", func() ([]byte, error) { return m.Activity(catalogue, months) },
			[]string{"déc. 2026", "Actes de vie scolaire", "Messages"}},
		{"establishments", func() ([]byte, error) { return m.Establishments(catalogue, ests) },
			[]string{"Collège Frédéric", "Mistral de", "Maillane", "Lycée polyvalent", "Vaucluse", "Connexions"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svg, err := tt.draw()
			if err != nil {
				t.Fatal(err)
			}
			w, h, ts := texts(t, svg)
			// 12 cm by 10 cm: shown at least at half its size on a phone.
			if math.Abs(w-Width.Points()) > 0.5 || math.Abs(h-Height.Points()) > 0.5 || w > 400 {
				t.Fatalf("size %gx%g pt", w, h)
			}
			for _, s := range tt.want {
				if _, ok := find(ts, s); !ok {
					t.Errorf("no text %q in %v", s, ts)
				}
			}
			for _, x := range ts {
				if strings.Contains(x.text, "…") || strings.Contains(x.text, "déc. 26") && !strings.Contains(x.text, "2026") {
					t.Errorf("text %q is cut", x.text)
				}
			}
		})
	}
}

// TestLegendRows: the legend's entries go in rows no wider than the chart,
// each after the previous one, so that none overlaps another.
func TestLegendRows(t *testing.T) {
	l := plot.NewLegend()
	l.TextStyle.Font = sans(12)
	l.ThumbnailWidth = vg.Points(12)
	var entries []legendEntry
	for _, n := range []string{"Élèves", "Professeurs", "Parents", "Personnels", "Autres"} {
		entries = append(entries, legendEntry{name: n})
	}
	width := Width - vg.Points(8)
	rows := layoutLegend(&l, entries, width)
	if len(rows) < 2 || len(rows) > 3 {
		t.Fatalf("%d rows for five entries on %v", len(rows), width)
	}
	n := 0
	for _, row := range rows {
		end := vg.Length(0)
		for _, e := range row {
			n++
			if e.x < end {
				t.Errorf("%q at %v overlaps the entry before it (ends at %v)", e.name, e.x, end)
			}
			end = e.x + l.ThumbnailWidth + l.TextStyle.Width(" "+e.name)
		}
		if end > width {
			t.Errorf("a row ends at %v, past %v", end, width)
		}
	}
	if n != len(entries) {
		t.Fatalf("%d entries laid out of %d", n, len(entries))
	}
}
