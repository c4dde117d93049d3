package portal

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/schoollife/ledger/adapters/portal/chart"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) indicatorPages() []page {
	readers := []domain.Profile{domain.ProfileEvaluator, domain.ProfileAdmin}
	return []page{
		{method: "GET", path: "/indicators", profiles: readers, handle: p.indicatorsPage},
		{method: "GET", path: "/indicators.csv", profiles: readers, timeout: web.TimeoutLong, handle: p.indicatorsCSV},
		{method: "GET", path: "/indicators/charts/{chart}", profiles: readers, handle: p.indicatorChart},
	}
}

// indicatorForm is the evaluator's choice: a period, an establishment (or
// all), a granularity for the table. Charts are per month.
type indicatorForm struct {
	From, To      domain.Date
	Establishment string
	Granularity   projections.Granularity
}

// query is the indicator query of the form at a granularity.
func (f indicatorForm) query(g projections.Granularity) projections.IndicatorQuery {
	return projections.IndicatorQuery{From: f.From, To: f.To, Establishment: f.Establishment, Granularity: g}
}

// Encode returns the form's query string, the same parameters as
// GET /api/v1/indicators takes.
func (f indicatorForm) Encode() string {
	q := url.Values{}
	q.Set("from", f.From.String())
	q.Set("to", f.To.String())
	if f.Establishment != "" {
		q.Set("establishment", f.Establishment)
	}
	q.Set("granularity", string(f.Granularity))
	return q.Encode()
}

// readIndicatorForm reads the form, by default the school year so far,
// all establishments, per month.
func (p *Portal) readIndicatorForm(r *http.Request, v *view) (indicatorForm, error) {
	if err := web.MayReadIndicators(v.principal); err != nil {
		return indicatorForm{}, err
	}
	q := p.dec.Query(r)
	f := indicatorForm{
		From: q.Date("from"), To: q.Date("to"), Establishment: q.UAI("establishment"),
		Granularity: projections.Granularity(q.Str("granularity")),
	}
	if q.Err() != nil {
		return f, q.Err()
	}
	t := today(p.now(), p.cfg.Location)
	if f.To.IsZero() {
		f.To = t
	}
	if f.From.IsZero() {
		f.From = schoolYearStart(f.To)
	}
	if f.Granularity == "" {
		f.Granularity = projections.GranularityMonth
	}
	iq := f.query(f.Granularity)
	if err := iq.Validate(); err != nil {
		return f, err
	}
	return f, nil
}

// indicatorsData is the evaluator's page.
type indicatorsData struct {
	Form           indicatorForm
	Establishments []projections.EstablishmentEntry
	Rows           []projections.IndicatorRow
	Granularities  []projections.Granularity
	// Charts are the chart URLs, by name.
	Charts map[string]string
	// Scope names what the rows sum.
	Scope string
	// CSV and API are the table's download and the same query on the API.
	CSV, API string
	// SmallCount is the threshold of the hidden small counts.
	SmallCount int
}

// evaluatorHome is the indicators page.
func (p *Portal) evaluatorHome(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.indicatorsPage(w, r, v)
}

// indicatorsPage shows the indicators of the chosen period and
// establishment as charts and as a table, with the CSV of the table.
func (p *Portal) indicatorsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	f, err := p.readIndicatorForm(r, v)
	if err != nil {
		return err
	}
	// The form asks for one scope (all, or one establishment): one page
	// holds every period of it.
	rows, err := p.indicators(r.Context(), f.query(f.Granularity), "")
	if err != nil {
		return err
	}
	ests, err := p.cfg.Queries.Establishments(r.Context())
	if err != nil {
		return err
	}
	data := indicatorsData{
		Form: f, Establishments: ests, Rows: rows.Items, Charts: map[string]string{}, Scope: v.T("indicators.all"), SmallCount: p.cfg.SmallCount,
		Granularities: []projections.Granularity{
			projections.GranularityDay, projections.GranularityWeek, projections.GranularityMonth,
			projections.GranularitySchoolYear, projections.GranularityTotal,
		},
	}
	for _, e := range ests {
		if e.UAI == f.Establishment {
			data.Scope = e.Name + " (" + e.UAI + ")"
		}
	}
	data.CSV, data.API = "/indicators.csv?"+f.Encode(), "/api/v1/indicators?"+f.Encode()
	for _, c := range chart.Names() {
		data.Charts[c] = "/indicators/charts/" + c + ".svg?" + f.Encode()
	}
	return p.ok(w, r, v, "indicators", "title.indicators", data)
}

// indicatorsCSV downloads the table, streamed. With ?format=rfc4180 it is
// the columns and values of projections.IndicatorRow, as the API's rows for
// the same parameters; by default the same columns for a French
// spreadsheet: French headers, dates as 07/12/2026, levels in words,
// shares with a decimal comma.
func (p *Portal) indicatorsCSV(w http.ResponseWriter, r *http.Request, v *view) error {
	f, err := p.readIndicatorForm(r, v)
	if err != nil {
		return err
	}
	format, err := csvFormatOf(r)
	if err != nil {
		return err
	}
	rows, err := p.indicators(r.Context(), f.query(f.Granularity), "")
	if err != nil {
		return err
	}
	header := projections.IndicatorHeader()
	values := func(row projections.IndicatorRow) []string { return row.Values() }
	if !format.Tool {
		cols := projections.IndicatorHeader()
		values = func(row projections.IndicatorRow) []string { return indicatorCells(v, format, cols, row.Values()) }
		names := make([]string, len(header))
		for i, h := range header {
			names[i] = v.T("csv.indicators." + h)
		}
		header = names
	}
	writeCSV(w, r, format, "indicators-"+f.From.String()+"-"+f.To.String()+".csv", header, func(yield func([]string) bool) {
		for _, row := range rows.Items {
			if !yield(values(row)) {
				return
			}
		}
	})
	return nil
}

// indicatorCells writes a row's values (under the tools' column names) for
// a spreadsheet: days in the short form, the level in words, shares with
// the decimal mark of the format.
func indicatorCells(v *view, format csvFormat, header, values []string) []string {
	for i, name := range header {
		switch {
		case name == "period" || name == "from" || name == "to":
			if d, err := domain.ParseDate(values[i]); err == nil {
				values[i] = v.Short(d)
			}
		case name == "level":
			values[i] = v.Label("level", values[i])
		case strings.HasPrefix(name, "share_"):
			values[i] = format.decimal(values[i])
		}
	}
	return values
}

// indicatorChart draws a chart of the form's indicators as SVG.
func (p *Portal) indicatorChart(w http.ResponseWriter, r *http.Request, v *view) error {
	f, err := p.readIndicatorForm(r, v)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var svg []byte
	switch r.PathValue("chart") {
	case chart.Connections + ".svg", chart.Activity + ".svg":
		rows, err := p.indicators(ctx, f.query(projections.GranularityMonth), "")
		if err != nil {
			return err
		}
		if r.PathValue("chart") == chart.Connections+".svg" {
			svg, err = p.charts.Connections(v.Lang, rows.Items)
		} else {
			svg, err = p.charts.Activity(v.Lang, rows.Items)
		}
		if err != nil {
			return err
		}
	case chart.Establishments + ".svg":
		iq := f.query(projections.GranularityTotal)
		iq.Establishment, iq.By = "", projections.LevelEstablishment
		// The first page: a chart of as many establishments as a page holds.
		rows, err := p.indicators(ctx, iq, "")
		if err != nil {
			return err
		}
		if svg, err = p.charts.Establishments(v.Lang, rows.Items); err != nil {
			return err
		}
	default:
		return web.ErrNoRoute.With("%s", r.URL.Path)
	}
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Content-Security-Policy", chartCSP)
	_, _ = w.Write(svg)
	return nil
}

// indicators reads the rows of an indicator query with their small counts
// hidden, as every page, chart and CSV shows them.
func (p *Portal) indicators(ctx context.Context, iq projections.IndicatorQuery, after string) (projections.List[projections.IndicatorRow], error) {
	rows, err := p.cfg.Queries.Indicators(ctx, iq, after)
	if err != nil {
		return rows, err
	}
	projections.SuppressSmallCounts(rows.Items, p.cfg.SmallCount)
	return rows, nil
}

// Count writes the counter name of a row: "< 5" when hidden as a small
// count.
func (v *view) Count(row projections.IndicatorRow, name string, n int64) string {
	if row.Hidden(name) {
		return projections.SmallCountLabel(row.SmallCount)
	}
	return v.Int(n)
}
