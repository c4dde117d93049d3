package projections

// Small counts: the indicators' school-life acts of a row (absences,
// lateness, punishments, sanctions, incidents, and their sum, acts) are
// acts about children. In one establishment on one day, "1 sanction" may
// single a child out; so the rows the evaluators export hide every act
// counter from 1 to the threshold less one, and, when that hides one
// counter only among the five that sum to acts, a second one (the
// smallest other non-zero counter), so that acts minus the others does not
// give the hidden one back. Zero is shown: it singles nobody out. The
// other counters (accounts, groups, connections, messages, contributions,
// homework) count what adults and accounts do, not acts about a child, and
// are shown as they are. docs/privacy.md, "Small counts".

import (
	"encoding/json"
	"slices"
	"strconv"
)

// DefaultSmallCount is the threshold of small counts unless configured:
// counts from 1 to 4 are hidden.
const DefaultSmallCount = 5

// actParts are the counters whose sum is acts, in display order.
var actParts = []string{cntAbsences, cntLateness, cntPunishments, cntSanctions, cntIncidents}

// SmallCountNames are the counters small counts may hide, in display
// order: the parts of acts, then acts.
func SmallCountNames() []string { return append(slices.Clone(actParts), cntActs) }

// SuppressSmallCounts hides the small counts of each row (threshold: the
// smallest count shown; 0 or 1 hides nothing), in place. A hidden counter
// is named in the row's Suppressed and set to 0, so that nothing reading
// the row's figures (a chart) shows it.
func SuppressSmallCounts(rows []IndicatorRow, threshold int) {
	for i := range rows {
		rows[i].suppress(threshold)
	}
}

func (r *IndicatorRow) suppress(threshold int) {
	r.Suppressed, r.SmallCount = nil, 0
	if threshold <= 1 {
		return
	}
	r.SmallCount = threshold
	small := func(n int64) bool { return n > 0 && n < int64(threshold) }
	values := map[string]*int64{}
	for _, f := range r.IndicatorCounts.fields() {
		values[f.name] = f.v
	}
	hidden := map[string]bool{}
	for _, name := range SmallCountNames() {
		if small(*values[name]) {
			hidden[name] = true
		}
	}
	// One part hidden and acts shown: acts less the others would give it.
	n := 0
	for _, name := range actParts {
		if hidden[name] {
			n++
		}
	}
	if n == 1 && !hidden[cntActs] {
		var other string
		for _, name := range actParts {
			if !hidden[name] && *values[name] > 0 && (other == "" || *values[name] < *values[other]) {
				other = name
			}
		}
		// There is one: acts is at least the threshold, the hidden part
		// less than it.
		hidden[other] = true
	}
	for _, name := range SmallCountNames() {
		if hidden[name] {
			r.Suppressed = append(r.Suppressed, name)
			*values[name] = 0
		}
	}
}

// Hidden reports whether the counter name is hidden in the row.
func (r IndicatorRow) Hidden(name string) bool { return slices.Contains(r.Suppressed, name) }

// SmallCountLabel is how a hidden count is written in tables and CSV: "< 5".
func SmallCountLabel(threshold int) string { return "< " + strconv.Itoa(threshold) }

// MarshalJSON writes the row with each hidden counter as null (named in
// "suppressed" too).
func (r IndicatorRow) MarshalJSON() ([]byte, error) {
	type plain IndicatorRow
	b, err := json.Marshal(plain(r))
	if err != nil || len(r.Suppressed) == 0 {
		return b, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	for _, name := range r.Suppressed {
		fields[name] = json.RawMessage("null")
	}
	return json.Marshal(fields)
}
