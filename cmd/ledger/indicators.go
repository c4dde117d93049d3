package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// indicators recomputes the usage indicators by replaying the whole log,
// independently of the stored read models.
func (m *Main) indicators(ctx context.Context, args []string) error {
	var cfg Config
	var from, to, establishment, format string
	var q projections.IndicatorQuery
	err := m.parse(&cfg, "indicators", args, false, func(fs *flagSet) {
		fs.StringVar(&from, "from", "", "first day counted, YYYY-MM-DD (required)")
		fs.StringVar(&to, "to", "", "last day counted, YYYY-MM-DD (required)")
		fs.StringVar(&establishment, "establishment", "", "a UAI, or a comma-separated list of UAIs summed together")
		fs.StringVar(&q.Departement, "departement", "", "restrict to a département (for example 13)")
		fs.StringVar((*string)(&q.Granularity), "granularity", "total", "day, week, month, schoolyear or total")
		fs.StringVar((*string)(&q.By), "by", "", "rows per all, departement or establishment (default: the narrowest filter given)")
		fs.StringVar(&format, "format", "table", "table, csv or json")
	})
	if err != nil {
		return err
	}
	if q.From, err = dateFlag("indicators", "from", from); err != nil {
		return err
	}
	if q.To, err = dateFlag("indicators", "to", to); err != nil {
		return err
	}
	if list := strings.Split(establishment, ","); len(list) > 1 {
		q.Establishments = list
	} else {
		q.Establishment = establishment
	}
	if format != "table" && format != "csv" && format != "json" {
		return usageErrorf("indicators", "--format: %q is not table, csv or json", format)
	}
	if err := q.Validate(); err != nil {
		return err
	}
	log := cfg.logger(m.stderr)
	store, err := openStore(ctx, cfg.Store, log)
	if err != nil {
		return err
	}
	defer store.Close()
	p := newProgress(m.stderr, "replay", countEvents(ctx, store))
	done := 0
	rows, err := projections.ReplayIndicators(ctx, store, domain.NewRegistry(), domain.Paris(), q, func(n int) { done = n; p.Update(n) })
	p.Done(done)
	if err != nil {
		return err
	}
	return writeIndicators(m.stdout, format, rows)
}

func writeIndicators(w io.Writer, format string, rows []projections.IndicatorRow) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(projections.IndicatorHeader()); err != nil {
			return err
		}
		for _, r := range rows {
			if err := cw.Write(r.Values()); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	// The table is transposed: one line per indicator, one column per row,
	// so that it stays readable in a terminal.
	header := projections.IndicatorHeader()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	values := make([][]string, len(rows))
	for i, r := range rows {
		values[i] = r.Values()
	}
	for c, name := range header {
		line := name
		for _, v := range values {
			line += "\t" + v[c]
		}
		fmt.Fprintln(tw, line+"\t")
	}
	return tw.Flush()
}
