package projections_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// actsRow is a row of an establishment with these act counters (acts their
// sum) and 12 connections.
func actsRow(absences, lateness, punishments, sanctions, incidents int64) projections.IndicatorRow {
	d, _ := domain.ParseDate("2006-03-13")
	return projections.IndicatorRow{
		Period: d, From: d, To: d, Level: projections.LevelEstablishment, Scope: "0750001A", Name: "Lycée", Departement: "75",
		IndicatorCounts: projections.IndicatorCounts{
			Connections: 12, ConnectionsStudent: 2,
			Absences: absences, Lateness: lateness, Punishments: punishments, Sanctions: sanctions, Incidents: incidents,
			Acts: absences + lateness + punishments + sanctions + incidents,
		},
	}
}

// actCells are the values of the act columns of a row, in order:
// absences, lateness, punishments, sanctions, incidents, acts.
func actCells(r projections.IndicatorRow) string {
	header, values := projections.IndicatorHeader(), r.Values()
	var out []string
	for _, name := range []string{"absences", "lateness", "punishments", "sanctions", "incidents", "acts"} {
		out = append(out, values[slices.Index(header, name)])
	}
	return strings.Join(out, " ")
}

func TestSuppressSmallCounts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		row       projections.IndicatorRow
		threshold int
		cells     string
		hidden    []string
	}{
		{"nothing small", actsRow(40, 12, 5, 0, 7), 5, "40 12 5 0 7 64", nil},
		// One sanction: hidden, and the smallest other non-zero part
		// (punishments, 5) with it, or acts less the rest would give it.
		{"one part small", actsRow(40, 12, 5, 1, 7), 5, "40 12 < 5 < 5 7 65", []string{"punishments", "sanctions"}},
		{"two parts small", actsRow(40, 12, 3, 1, 7), 5, "40 12 < 5 < 5 7 63", []string{"punishments", "sanctions"}},
		// The complement is the smallest non-zero, the first of equals.
		{"complement among equals", actsRow(9, 6, 0, 2, 6), 5, "9 < 5 0 < 5 6 23", []string{"lateness", "sanctions"}},
		// Acts small: every non-zero part is smaller still.
		{"acts small", actsRow(2, 0, 0, 1, 0), 5, "< 5 0 0 < 5 0 < 5", []string{"absences", "sanctions", "acts"}},
		{"acts small, one part", actsRow(0, 3, 0, 0, 0), 5, "0 < 5 0 0 0 < 5", []string{"lateness", "acts"}},
		{"zeros shown", actsRow(0, 0, 0, 0, 0), 5, "0 0 0 0 0 0", nil},
		{"threshold 10", actsRow(40, 12, 5, 0, 7), 10, "40 12 < 10 0 < 10 64", []string{"punishments", "incidents"}},
		{"threshold 1 hides nothing", actsRow(40, 12, 5, 1, 7), 1, "40 12 5 1 7 65", nil},
		{"threshold 0 hides nothing", actsRow(1, 0, 0, 0, 0), 0, "1 0 0 0 0 1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := []projections.IndicatorRow{tc.row}
			projections.SuppressSmallCounts(rows, tc.threshold)
			if got := actCells(rows[0]); got != tc.cells {
				t.Errorf("act cells %q, want %q", got, tc.cells)
			}
			if !slices.Equal(rows[0].Suppressed, tc.hidden) {
				t.Errorf("suppressed %v, want %v", rows[0].Suppressed, tc.hidden)
			}
			// Connections are never hidden.
			if rows[0].Connections != 12 || rows[0].ConnectionsStudent != 2 {
				t.Errorf("connections %d (students %d), want 12 (2)", rows[0].Connections, rows[0].ConnectionsStudent)
			}
			// A hidden counter's figure is gone from the row, not only
			// from its rendering.
			for _, name := range rows[0].Suppressed {
				if v := rows[0].Values()[slices.Index(projections.IndicatorHeader(), name)]; !strings.HasPrefix(v, "< ") {
					t.Errorf("%s rendered %q", name, v)
				}
			}
		})
	}
}

// TestSuppressedRowJSON: a hidden counter is null and named in
// "suppressed"; a row with nothing hidden has no "suppressed".
func TestSuppressedRowJSON(t *testing.T) {
	rows := []projections.IndicatorRow{actsRow(40, 12, 5, 1, 7), actsRow(40, 12, 5, 6, 7)}
	projections.SuppressSmallCounts(rows, 5)
	var got []map[string]any
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"absences": 40.0, "lateness": 12.0, "punishments": nil, "sanctions": nil, "incidents": 7.0, "acts": 65.0,
		"connections": 12.0, "suppressed": []any{"punishments", "sanctions"},
	}
	for k, v := range want {
		g, ok := got[0][k]
		if !ok {
			t.Errorf("row 0 has no %q", k)
			continue
		}
		if gb, _ := json.Marshal(g); string(gb) != mustJSON(t, v) {
			t.Errorf("row 0 %s = %s, want %s", k, gb, mustJSON(t, v))
		}
	}
	if _, ok := got[1]["suppressed"]; ok {
		t.Errorf("row 1 names suppressed counters: %v", got[1]["suppressed"])
	}
	if got[1]["sanctions"] != 6.0 || got[1]["acts"] != 70.0 {
		t.Errorf("row 1 sanctions %v acts %v, want 6 and 70", got[1]["sanctions"], got[1]["acts"])
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
