package projections

import (
	"errors"
	"strings"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestIndicatorQuerySpans: each granularity has a longest span; one day
// more is refused with ErrInvalid saying how far the query may go, before
// anything is read.
func TestIndicatorQuerySpans(t *testing.T) {
	tests := []struct {
		g        Granularity
		from, to string
		ok       bool
	}{
		{GranularityDay, "2005-09-01", "2007-08-31", true},
		{GranularityDay, "2005-09-01", "2007-09-01", false},
		{GranularityDay, "2004-02-29", "2006-02-28", true}, // from a leap day
		{GranularityDay, "2004-02-29", "2006-03-01", false},
		{GranularityDay, "1900-01-01", "2100-12-31", false},
		{GranularityDay, "0001-01-01", "9999-12-31", false},
		{GranularityWeek, "2000-09-01", "2010-08-31", true},
		{GranularityWeek, "2000-09-01", "2010-09-01", false},
		{GranularityMonth, "1990-01-01", "2039-12-31", true},
		{GranularityMonth, "1990-01-01", "2040-01-01", false},
		{GranularitySchoolYear, "0001-01-01", "9999-12-31", false},
		{GranularityTotal, "2005-09-01", "2007-08-31", true},
		{GranularityTotal, "0001-01-01", "9999-12-31", false},
		{"", "0001-01-01", "9999-12-31", false}, // total by default
	}
	for _, tt := range tests {
		t.Run(string(tt.g)+" "+tt.from+" "+tt.to, func(t *testing.T) {
			q := IndicatorQuery{From: domain.MustDate(tt.from), To: domain.MustDate(tt.to), Granularity: tt.g}
			err := q.Validate()
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), "at most to") {
				t.Fatalf("%v, want %v with the last day allowed", err, domain.ErrInvalid)
			}
		})
	}
}
